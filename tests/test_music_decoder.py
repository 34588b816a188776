"""The music decoder end to end, checked with real readers: mido, soundfile, pyloudnorm, librosa."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
from pathlib import Path

import mido
import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from engine_server.analysis.music_metrics import estimate_key, notes_from_midi
from engine_server.decoders import registry
from engine_server.decoders.base import Asset, DecodeContext, DecodeRequest
from engine_server.decoders.music import MusicDecoder
from engine_server.decoders.music.compose import compose
from engine_server.decoders.music.instrumentation import PALETTES, STYLES, choose_instruments
from engine_server.decoders.music.midi import midi_bytes, part_events
from engine_server.decoders.music.mix import SAMPLE_RATE, integrated_lufs
from engine_server.decoders.music.options import parse_options
from engine_server.decoders.music.render import StemJob, render_stem
from engine_server.errors import Cancelled, InvalidArgument
from engine_server.latent import ENSEMBLES
from tests.latent_factory import make_latent

SEAM_RATIO_MAX = 1.0  # junction step / 99th percentile of steps in the 100 ms around it (docs/MUSIC.md)
FRAME_24FPS = 1 / 24

LOOP_LATENT = {"ensemble": "synthwave", "key": "A", "mode": "minor", "tempo_bpm": 110.0, "arousal": 0.7,
               "valence": -0.1, "tension": 0.4, "instruments": {"synth_lead": 0.8, "synth_pad": 0.7, "bass": 0.8,
                                                                "drums": 0.8}}
CUE_LATENT = {"ensemble": "orchestral", "key": "D", "mode": "minor", "tempo_bpm": 96.0, "arousal": 0.6,
              "valence": -0.4, "tension": 0.7, "instruments": {"strings": 0.9, "brass": 0.7, "percussion": 0.7}}
HITS = [3.0, {"time": 8.5, "kind": "swell"}, {"time": 14.25, "kind": "drop"}]


def decode(tmp: Path, latent: dict, seed: int = 5, **options: object) -> tuple[list[Asset], list[float]]:
    fractions: list[float] = []
    ctx = DecodeContext(tmp, lambda f, m: fractions.append(f), lambda: False)
    assets = MusicDecoder().decode(DecodeRequest(make_latent(**latent), seed, options=options), ctx)
    return assets, fractions


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Asset], list[float]]:
    out = tmp_path_factory.mktemp("loop")
    assets, fractions = decode(out, LOOP_LATENT)
    return out, assets, fractions


@pytest.fixture(scope="module")
def cue(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Asset]]:
    out = tmp_path_factory.mktemp("cue")
    assets, _ = decode(out, CUE_LATENT, shape="cue", duration_s=20.0, hit_points=HITS)
    return out, assets


def seam_ratio(x: np.ndarray, window_s: float = 0.05) -> float:
    """Step across end→start, relative to the 99th percentile of steps in the surrounding 100 ms."""
    n = int(window_s * SAMPLE_RATE)
    w = np.concatenate([x[-n:], x[:n]])
    d = np.abs(np.diff(w, axis=0))
    junction = d[n - 1].max()
    rest = np.delete(d, n - 1, axis=0)
    return float(junction / np.percentile(rest, 99, axis=0).max())


# ---------------------------------------------------------------------------------------------- contract


def test_registered_and_declared() -> None:
    dec = registry.get("music")
    assert isinstance(dec, MusicDecoder)
    assert dec.name == "music" and dec.after == () and dec.placeholder is False
    assert {o.role for o in dec.writes} == {"midi", "music", "stem"}
    assert "music" in registry.DEFAULT_DECODERS


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"shape": "song"}, "shape must be"),
        ({"bars": 0}, "2 to 64 bars"),
        ({"bars": 65}, "2 to 64 bars"),
        ({"bars": 8.5}, "whole number"),
        ({"bars": True}, "whole number"),
        ({"tempo": 120}, "Unknown music option"),
        ({"shape": "cue"}, "needs its length"),
        ({"shape": "cue", "duration_s": 3 * 3600}, "4 to 600 seconds"),
        ({"shape": "cue", "duration_s": float("nan")}, "finite number"),
        ({"shape": "cue", "duration_s": 30, "bars": 8}, "applies to loops"),
        ({"duration_s": 30}, "applies to cues"),
        ({"shape": "cue", "duration_s": 30, "hit_points": [31.0]}, "outside the cue"),
        ({"shape": "cue", "duration_s": 30, "hit_points": [-1]}, "outside the cue"),
        ({"shape": "cue", "duration_s": 30, "hit_points": [5.0, 5.05]}, "closer than"),
        ({"shape": "cue", "duration_s": 30, "hit_points": [{"time": 5, "kind": "boom"}]}, "kind must be"),
        ({"shape": "cue", "duration_s": 30, "hit_points": "5"}, "list of times"),
        ({"melody": [60, 200]}, "MIDI note number"),
        ({"melody": [{"pitch": 60, "beats": 0}]}, "beats must be"),
        ({"melody": []}, "non-empty list"),
        ({"melody": [None]}, "no notes"),
        ({"melody_midi": b"MThd\x00\x00\x00\x06garbage"}, "not a readable MIDI file"),
        ({"melody_midi": "not base64!"}, "base64"),
        ({"melody_midi": 42}, "MIDI file bytes"),
        ({"melody": [60], "melody_midi": b""}, "not both"),
        ({"bars": 2, "melody": [{"pitch": 60, "beats": 16}]}, "holds 8 beats"),
    ],
)
def test_bad_options_are_refused_before_any_work(tmp_path: Path, options: dict, fragment: str) -> None:
    dec = MusicDecoder()
    req = DecodeRequest(make_latent(), 1, options=options)
    with pytest.raises(InvalidArgument, match=fragment):
        dec.validate(req)
    with pytest.raises(InvalidArgument, match=fragment):
        dec.decode(req, DecodeContext(tmp_path, lambda f, m: None, lambda: False))
    assert not any(tmp_path.iterdir())  # nothing was written


def test_unplayable_latents_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="tempo_bpm"):
        make_latent(tempo_bpm=0.0)
    with pytest.raises(InvalidArgument, match="key"):
        make_latent(key="H")


def test_midi_melody_file_without_notes_is_refused() -> None:
    mid = mido.MidiFile()
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("track_name", name="empty")]))
    buf = io.BytesIO()
    mid.save(file=buf)
    with pytest.raises(InvalidArgument, match="no notes"):
        parse_options({"melody_midi": buf.getvalue()})


# ---------------------------------------------------------------------------------------------- loop


def test_loop_assets_and_meta(loop: tuple[Path, list[Asset], list[float]]) -> None:
    out, assets, fractions = loop
    roles = [a.role for a in assets]
    assert roles[:2] == ["midi", "music"] and set(roles[2:]) == {"stem"}
    assert assets[0].path == "music/score.mid" and assets[1].path == "music/mix.wav"
    meta = assets[1].meta
    assert meta["tempo_bpm"] == 110.0 and meta["key"] == "A" and meta["mode"] == "minor"
    assert meta["shape"] == "loop" and meta["loop"] is True and meta["bars"] == 8
    assert meta["target_lufs"] == -16.0
    assert meta["duration_s"] == pytest.approx(8 * 4 * 60 / 110, abs=1e-4)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    for a in assets:
        assert (out / a.path).is_file()


def test_loop_midi_is_a_type1_file_a_daw_reads(loop: tuple[Path, list[Asset], list[float]]) -> None:
    out, assets, _ = loop
    mid = mido.MidiFile(out / "music/score.mid")
    assert mid.type == 1
    conductor = mid.tracks[0]
    tempos = [m.tempo for m in conductor if m.type == "set_tempo"]
    assert len(tempos) == 1 and mido.tempo2bpm(tempos[0]) == pytest.approx(110.0, abs=0.01)
    sig = next(m for m in conductor if m.type == "time_signature")
    assert (sig.numerator, sig.denominator) == (4, 4)
    assert next(m for m in conductor if m.type == "key_signature").key == "Am"
    stems = [a for a in assets if a.role == "stem"]
    part_tracks = mid.tracks[1:]
    assert len(part_tracks) == len(stems)  # one track per part, one stem per part
    for track, stem in zip(part_tracks, stems, strict=True):
        name = next(m.name for m in track if m.type == "track_name")
        assert name.lower().startswith(stem.meta["part"])
        programs = [m for m in track if m.type == "program_change"]
        assert len(programs) == 1 and programs[0].program == stem.meta["program"]
        channels = {m.channel for m in track if hasattr(m, "channel")}
        assert channels == {9} if stem.meta["part"] == "drums" else 9 not in channels
        assert sum(m.time for m in track) == 8 * 4 * mid.ticks_per_beat  # the clip is exactly the loop
    assert mid.length == pytest.approx(8 * 4 * 60 / 110, abs=1e-3)  # tempo is stored in whole µs per beat


def test_loop_wavs_are_48k_24bit_stereo_and_stems_sum_to_mix(loop: tuple[Path, list[Asset], list[float]]) -> None:
    out, assets, _ = loop
    period = round(8 * 4 * 60 / 110 * SAMPLE_RATE)
    mix, sr = sf.read(out / "music/mix.wav")
    info = sf.info(str(out / "music/mix.wav"))
    assert (sr, info.subtype, info.channels, info.frames) == (48000, "PCM_24", 2, period)
    total = np.zeros_like(mix)
    for a in assets:
        if a.role == "stem":
            x, sr = sf.read(out / a.path)
            i = sf.info(str(out / a.path))
            assert (sr, i.subtype, x.shape) == (48000, "PCM_24", mix.shape)
            total += x
    err_db = 20 * np.log10(np.sqrt(np.mean((total - mix) ** 2)) / np.sqrt(np.mean(mix**2)))
    assert err_db < -60.0
    assert np.abs(total - mix).max() < 10 ** (-60 / 20)


def test_loop_loudness_and_headroom(loop: tuple[Path, list[Asset], list[float]]) -> None:
    out, assets, _ = loop
    mix, sr = sf.read(out / "music/mix.wav")
    lufs = pyloudnorm.Meter(sr).integrated_loudness(mix)
    assert lufs == pytest.approx(-16.0, abs=0.5)
    assert assets[1].meta["lufs_integrated"] == pytest.approx(lufs, abs=0.1)
    assert np.abs(mix).max() <= 10 ** (-1.0 / 20) + 1e-6  # −1 dBFS ceiling, no clipping
    assert integrated_lufs(mix) == pytest.approx(lufs, abs=0.1)  # the fast meter agrees with pyloudnorm


def test_loop_seam_is_seamless(loop: tuple[Path, list[Asset], list[float]]) -> None:
    out, _, _ = loop
    mix, _ = sf.read(out / "music/mix.wav")
    assert seam_ratio(mix) <= SEAM_RATIO_MAX
    for stem in sorted((out / "music/stems").glob("*.wav")):
        x, _ = sf.read(stem)
        if np.abs(x).max() > 1e-4:
            assert seam_ratio(x) <= SEAM_RATIO_MAX, stem.name
    # no gap: no 5 ms frame within 50 ms of the seam drops 30 dB below the window's median level
    n, f = int(0.05 * SAMPLE_RATE), int(0.005 * SAMPLE_RATE)
    w = np.concatenate([mix[-n:], mix[:n]]).mean(axis=1)
    rms = np.sqrt((w[: len(w) // f * f].reshape(-1, f) ** 2).mean(axis=1))
    assert 20 * np.log10(rms.min() / np.median(rms)) > -30


def test_seam_detector_catches_a_cut_release() -> None:
    """The same pad part rendered without its folded tail: the cut release is a step the check sees."""
    latent = make_latent(**LOOP_LATENT)
    score = compose(latent, 5, parse_options({"bars": 2}))
    part = next(p for p in score.parts if p.name == "harmony")
    job = StemJob(part.name, part.channel, part.instrument.bank, part.instrument.program, part_events(part))
    from engine_server import config
    from engine_server.decoders.music.mix import fold_tail

    period = round(score.plan.length_beats * 60 / 110 * SAMPLE_RATE)
    rendered = render_stem(job, 110.0, period + 4 * SAMPLE_RATE, config.soundfont_path(), score.reverb)
    assert seam_ratio(rendered[:period]) > 2 * SEAM_RATIO_MAX  # naive cut: a click
    assert seam_ratio(fold_tail(rendered, period)) <= SEAM_RATIO_MAX  # folded: seamless


def test_loop_key_is_the_latents_and_its_end_leads_back(loop: tuple[Path, list[Asset], list[float]]) -> None:
    out, assets, _ = loop
    tracks = notes_from_midi(mido.MidiFile(out / "music/score.mid"))
    est = estimate_key([n for notes in tracks.values() for n in notes])
    assert (est.key, est.mode) == ("A", "minor")
    chords = assets[1].meta["chords"]
    assert chords[0]["chord"] == "Am" and chords[-1]["chord"] in ("E", "E7")  # V leads back into bar 1


def test_same_seed_same_bytes_other_seed_other_music(tmp_path: Path) -> None:
    a, _ = decode(tmp_path / "a", LOOP_LATENT, seed=11, bars=2)
    b, _ = decode(tmp_path / "b", LOOP_LATENT, seed=11, bars=2)
    decode(tmp_path / "c", LOOP_LATENT, seed=12, bars=2)

    def digests(root: Path, assets: list[Asset]) -> dict[str, str]:
        return {x.path: hashlib.sha256((root / x.path).read_bytes()).hexdigest() for x in assets}

    assert digests(tmp_path / "a", a) == digests(tmp_path / "b", b)
    assert [x.meta for x in a] == [x.meta for x in b]
    assert (tmp_path / "a/music/score.mid").read_bytes() != (tmp_path / "c/music/score.mid").read_bytes()


def test_cancel_stops_the_decode(tmp_path: Path) -> None:
    calls = []

    def cancelled() -> bool:
        return len(calls) > 2

    ctx = DecodeContext(tmp_path, lambda f, m: calls.append(f), cancelled)
    with pytest.raises(Cancelled):
        MusicDecoder().decode(DecodeRequest(make_latent(**LOOP_LATENT), 1, options={"bars": 4}), ctx)


# ---------------------------------------------------------------------------------------------- cue


def test_cue_length_arc_and_ending(cue: tuple[Path, list[Asset]]) -> None:
    out, assets = cue
    mix, sr = sf.read(out / "music/mix.wav")
    assert len(mix) == 20 * SAMPLE_RATE
    meta = assets[1].meta
    assert meta["shape"] == "cue" and meta["target_lufs"] == -18.0
    assert pyloudnorm.Meter(sr).integrated_loudness(mix) == pytest.approx(-18.0, abs=0.5)
    roles = [s["role"] for s in meta["sections"]]
    assert roles[0] == "intro" and roles[-1] == "outro" and "climax" in roles
    assert np.abs(mix).max() <= 10 ** (-1.0 / 20) + 1e-6
    # an arc: the intro is quieter than the climax, and the file ends in silence, not mid-note
    secs = {s["role"]: s for s in meta["sections"]}
    spb = 4 * 60 / 96.0

    def level(role: str) -> float:
        s = secs[role]
        a, b = int(s["start_bar"] * spb * sr), int((s["start_bar"] + s["bars"]) * spb * sr)
        return float(integrated_lufs(mix[a:b]))

    assert level("climax") > level("intro") + 3.0
    tail = mix[-int(0.1 * sr):]
    assert 20 * np.log10(np.sqrt(np.mean(tail**2)) + 1e-12) < -50


def test_cue_hit_points_land_within_a_frame(cue: tuple[Path, list[Asset]]) -> None:
    import librosa

    out, assets = cue
    times = [3.0, 8.5, 14.25]
    assert [h["time_s"] for h in assets[1].meta["hit_points"]] == times
    mid = mido.MidiFile(out / "music/score.mid")
    tracks = notes_from_midi(mid)
    hits = next(notes for name, notes in tracks.items() if name.startswith("Hits"))
    spb = 60 / 96.0
    for t in times:
        onsets = [n.onset * spb for n in hits if abs(n.onset * spb - t) < 0.5]
        assert min(abs(o - t) for o in onsets) <= FRAME_24FPS / 2  # exact in the MIDI (tick rounding)
    cues = [m.text for m in mid.tracks[0] if m.type == "cue_marker"]
    assert len(cues) == 3 and "swell" in cues[1]
    # in the audio: a strong onset within ±1 frame of every hit
    mix, sr = sf.read(out / "music/mix.wav")
    hop = 256
    env = librosa.onset.onset_strength(y=mix.mean(axis=1).astype(np.float32), sr=sr, hop_length=hop)
    frame_t = librosa.frames_to_time(np.arange(len(env)), sr=sr, hop_length=hop)
    for t in times:
        near = env[np.abs(frame_t - t) <= FRAME_24FPS]
        around = env[np.abs(frame_t - t) <= 1.0]
        assert near.max() >= 3 * np.median(around), t


# ---------------------------------------------------------------------------------------------- melody input


def _lead_intervals(midi: bytes, n: int) -> tuple[list[int], list[float]]:
    tracks = notes_from_midi(mido.MidiFile(file=io.BytesIO(midi)))
    lead = next(notes for name, notes in tracks.items() if name.startswith("Lead"))[:n]
    pairs = list(itertools.pairwise(lead))
    return [b.pitch - a.pitch for a, b in pairs], [b.onset - a.onset for a, b in pairs]


def test_given_melody_is_stated_then_developed() -> None:
    tune = [64, 62, 60, 62, 64, 64, {"pitch": 64, "beats": 2}, 62, 62, {"pitch": 62, "beats": 2}]
    opts = parse_options({"melody": tune, "bars": 8})
    score = compose(make_latent(key="C", mode="major", ensemble="piano"), 3, opts)
    steps, gaps = _lead_intervals(midi_bytes(score), len(tune))
    assert steps == [-2, -2, 2, 2, 0, 0, -2, 0, 0]
    assert gaps == pytest.approx([1.0] * 6 + [2.0, 1.0, 1.0], abs=0.03)  # a little human timing
    lead = next(p for p in score.parts if p.name == "lead")
    assert lead.notes[0].pitch % 12 == 4  # E, as given
    assert len(lead.notes) > len(tune)  # and then developed over the rest of the loop


def test_melody_midi_is_moved_into_the_latents_key() -> None:
    # a D-major tune as a MIDI file; the latent asks for F major: same contour, new key
    mid = mido.MidiFile(ticks_per_beat=96)
    track = mido.MidiTrack()
    for p in (62, 66, 69, 66, 64, 62, 61, 62, 74, 73, 71, 69):
        track += [mido.Message("note_on", note=p, velocity=90, time=0), mido.Message("note_off", note=p, time=96)]
    mid.tracks.append(track)
    buf = io.BytesIO()
    mid.save(file=buf)
    for payload in (buf.getvalue(), base64.b64encode(buf.getvalue()).decode()):
        score = compose(make_latent(key="F", mode="major", ensemble="folk"), 2, parse_options({"melody_midi": payload}))
        lead = next(p for p in score.parts if p.name == "lead")
        pcs = [n.pitch % 12 for n in lead.notes[:12]]
        f_major = [(5 + s) % 12 for s in (0, 4, 7, 4, 2, 0, 11, 0)]  # degrees 1 3 5 3 2 1 7 1 in F
        assert pcs[:8] == f_major


# ---------------------------------------------------------------------------------------------- instrumentation


def test_every_ensemble_has_its_own_palette() -> None:
    rng = np.random.default_rng(0)
    palettes = set()
    for ens in ENSEMBLES:
        chosen = choose_instruments(ens, {}, 0.7, rng)
        assert {"bass", "harmony", "lead"} <= set(chosen)
        palettes.add(tuple(sorted((role, i.bank, i.program) for role, i in chosen.items())))
        assert ens in STYLES and ens in PALETTES
    assert len(palettes) == len(ENSEMBLES)


def test_instrument_weights_steer_the_palette() -> None:
    rng = np.random.default_rng(0)
    horns = choose_instruments("orchestral", {"brass": 1.0}, 0.5, rng)
    flutes = choose_instruments("orchestral", {"woodwinds": 1.0}, 0.5, rng)
    assert horns["lead"].family == "brass" and flutes["lead"].family == "woodwinds"
    calm = choose_instruments("ambient", {}, 0.1, rng)
    assert "drums" not in calm  # an ambient wash gets no kit unless asked
    assert "drums" in choose_instruments("ambient", {"drums": 0.9}, 0.1, rng)
