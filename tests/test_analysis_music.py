"""Known-answer tests for the music analyser (engine_server.analysis.music): click tracks at a known
tempo, sines of known loudness and frequency, chord progressions in a known key, and MIDI files whose
tempo, meter, notes and programs are known."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile

from engine_server.analysis import music as ma

RATE = 48000


def _write(path: Path, mono: np.ndarray) -> Path:
    soundfile.write(str(path), np.stack([mono, mono], axis=1).astype(np.float32), RATE, subtype="PCM_24")
    return path


@pytest.mark.parametrize("bpm", [96.0, 140.0])
def test_click_track_tempo(tmp_path: Path, bpm: float) -> None:
    import librosa

    seconds = 12.0
    times = np.arange(0.0, seconds, 60.0 / bpm)
    clicks = librosa.clicks(times=times, sr=RATE, length=int(seconds * RATE), click_freq=1500.0) * 0.5
    got = ma.analyse_audio(_write(tmp_path / "clicks.wav", clicks))
    assert got["tempo_bpm"] == pytest.approx(bpm, rel=0.03)
    assert got["onset_rate"] == pytest.approx(bpm / 60.0, rel=0.1)
    assert got["duration_s"] == pytest.approx(seconds)


def test_sine_loudness_and_brightness(tmp_path: Path) -> None:
    t = np.arange(int(5.0 * RATE)) / RATE
    # BS.1770: a 997 Hz sine at 0 dBFS in one channel reads -3.01 LUFS, so at -20 dBFS in both channels -20.0
    quiet = _write(tmp_path / "sine.wav", 0.1 * np.sin(2 * np.pi * 997.0 * t))
    got = ma.analyse_audio(quiet)
    assert got["lufs"] == pytest.approx(-20.0, abs=0.15)
    assert got["spectral_centroid_hz"] == pytest.approx(997.0, rel=0.05)
    high = ma.analyse_audio(_write(tmp_path / "high.wav", 0.1 * np.sin(2 * np.pi * 3000.0 * t)))
    assert high["spectral_centroid_hz"] == pytest.approx(3000.0, rel=0.05)
    assert high["loudness_range_db"] < 1.0  # a steady tone has no loudness range


def _tone(midi_notes: list[int], seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    out = np.zeros_like(t)
    for n in midi_notes:
        f = 440.0 * 2 ** ((n - 69) / 12)
        for h, a in ((1, 1.0), (2, 0.4), (3, 0.2)):
            out += a * np.sin(2 * np.pi * f * h * t)
    env = np.minimum(1.0, np.minimum(t / 0.02, (seconds - t) / 0.05))
    return out * env / (len(midi_notes) * 2.5)


@pytest.mark.parametrize(("chords", "key", "mode"), [
    ([[60, 64, 67], [65, 69, 72], [67, 71, 74], [60, 64, 67]], "C", "major"),  # I IV V I
    ([[57, 60, 64], [62, 65, 69], [64, 68, 71], [57, 60, 64]], "A", "minor"),  # i iv V i
])
def test_key_and_mode_from_audio(tmp_path: Path, chords: list[list[int]], key: str, mode: str) -> None:
    audio = np.concatenate([_tone(c, 1.5) for c in chords])
    got = ma.analyse_audio(_write(tmp_path / "chords.wav", audio))
    assert (got["key"], got["mode"]) == (key, mode)
    assert (got["mode_score"] > 0) == (mode == "major")


def _midi(path: Path, bpm: float, meter: tuple[int, int], program: int, notes: list[int], beats: float) -> Path:
    mid = mido.MidiFile(ticks_per_beat=480)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1], time=0))
    mid.tracks.append(meta)
    track = mido.MidiTrack()
    track.append(mido.Message("program_change", program=program, channel=0, time=0))
    step = int(480 * beats)
    for n in notes:
        track.append(mido.Message("note_on", note=n, velocity=90, channel=0, time=0))
        track.append(mido.Message("note_off", note=n, velocity=0, channel=0, time=step))
    drums = mido.MidiTrack()
    for _ in range(len(notes)):
        drums.append(mido.Message("note_on", note=36, velocity=110, channel=9, time=0))
        drums.append(mido.Message("note_off", note=36, velocity=0, channel=9, time=step))
    mid.tracks += [track, drums]
    mid.save(str(path))
    return path


def test_midi_fields(tmp_path: Path) -> None:
    scale = [57, 59, 60, 62, 64, 65, 67, 69] * 3  # A natural minor, up three times
    path = _midi(tmp_path / "minor.mid", 90.0, (3, 4), 81, scale, 0.5)  # program 81 = GM "Lead 2 (sawtooth)"
    got = ma.analyse_midi(path)
    seconds = len(scale) * 0.5 * 60.0 / 90.0
    assert got["tempo_bpm"] == pytest.approx(90.0)
    assert got["meter"] == "3/4"
    assert got["duration_s"] == pytest.approx(seconds)
    assert got["notes"] == len(scale)
    assert got["drum_hits"] == len(scale)
    assert got["note_density"] == pytest.approx(len(scale) / seconds)
    assert got["onset_density"] == pytest.approx(len(scale) / seconds)  # drums land on the same onsets
    assert got["mean_velocity"] == pytest.approx(100.0)
    assert got["synth_share"] == 1.0
    assert (got["key"], got["mode"]) == ("A", "minor")
    assert got["mode_score"] < 0

    piano = ma.analyse_midi(_midi(tmp_path / "major.mid", 120.0, (4, 4), 0, [60, 62, 64, 65, 67, 69, 71, 72], 1.0))
    assert piano["synth_share"] == 0.0
    assert (piano["key"], piano["mode"]) == ("C", "major")
    assert piano["mode_score"] > 0


def test_analyse_music_prefers_exact_midi_values(tmp_path: Path) -> None:
    import librosa

    times = np.arange(0.0, 8.0, 60.0 / 120.0)
    wav = _write(tmp_path / "mix.wav", librosa.clicks(times=times, sr=RATE, length=8 * RATE) * 0.5)
    mid = _midi(tmp_path / "score.mid", 120.0, (4, 4), 0, [60, 64, 67, 72] * 4, 1.0)
    both = ma.analyse_music(wav, mid)
    assert both["tempo_bpm"] == 120.0 and both["mode"] == "major"
    assert set(both) >= {"audio", "midi", "note_density", "synth_share", "spectral_centroid_hz", "lufs"}
    audio_only = ma.analyse_music(wav, None)
    assert "midi" not in audio_only and audio_only["tempo_bpm"] == pytest.approx(120.0, rel=0.03)
    with pytest.raises(ValueError):
        ma.analyse_music(None, None)
