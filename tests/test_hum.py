"""Hum a melody: audio made here (tests/hum_audio.py) is transcribed, turned into a motif, and the pack's
lead is checked from its score.mid (mido), never from the engine's own records. Transcription accuracy is
measured with mir_eval (onset within 50 ms, pitch within 50 cents, offsets ignored).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import mido
import mir_eval
import numpy as np
import pytest
import soundfile as sf

from engine_server.analysis.music_metrics import notes_from_midi
from engine_server.cli import main as motif_main
from engine_server.errors import InvalidArgument
from engine_server.readers.hum import HumReading, read_hum
from engine_server.readers.hum.motif import intervals
from tests.hum_audio import SR, TUNES, Tune, encode, encode_pyav, hum, phone, schedule

# (tune, bpm, through a phone, container): every tune at two tempi, plain and through a phone line,
# in the five containers the reader takes.
FORMATS = ("WAV", "FLAC", "OGG", "mp3", "m4a")
CASES = [(t, bpm, ph, FORMATS[(i * 2 + j + int(ph)) % 5])
         for i, t in enumerate(TUNES) for j, bpm in enumerate((88, 118)) for ph in (False, True)]


def _file(y: np.ndarray, fmt: str) -> tuple[str, bytes]:
    if fmt == "mp3":
        return "hum.mp3", encode_pyav(y, "mp3", "mp3")
    if fmt == "m4a":
        return "hum.m4a", encode_pyav(y, "ipod", "aac")
    return f"hum.{fmt.lower()}", encode(y, fmt)


@pytest.fixture(scope="module")
def heard() -> list[tuple[Tune, int, bool, str, HumReading]]:
    out = []
    for k, (tune, bpm, ph, fmt) in enumerate(CASES):
        y = hum(tune, bpm, seed=k)
        name, data = _file(phone(y) if ph else y, fmt)
        out.append((tune, bpm, ph, fmt, read_hum({"file_name": name, "data": data})))
    return out


# FFmpeg's AAC encoder primes the stream with one frame (1024 samples) and PyAV writes this M4A without an
# edit list saying so: the file itself starts 46 ms late, so its reference times move with it.
AAC_PRIMING_S = 1024 / SR


def _f_measure(tune: Tune, bpm: int, reading: HumReading, shift: float = 0.0) -> float:
    ref = schedule(tune, bpm)
    ref_iv = np.array([[a + shift, b + shift] for a, b, _ in ref])
    ref_hz = np.array([440.0 * 2 ** ((p - 69) / 12) for *_, p in ref])
    est_iv = np.array([[n.start_s, n.end_s] for n in reading.notes]).reshape(-1, 2)
    est_hz = np.array([440.0 * 2 ** ((n.pitch - 69) / 12) for n in reading.notes])
    _, _, f, _ = mir_eval.transcription.precision_recall_f1_overlap(ref_iv, ref_hz, est_iv, est_hz,
                                                                    onset_tolerance=0.05, offset_ratio=None)
    return float(f)


def test_notes_are_transcribed_with_onset_and_pitch(heard: list) -> None:
    scores = {(t.name, bpm, ph, fmt): _f_measure(t, bpm, r, AAC_PRIMING_S if fmt == "m4a" else 0.0)
              for t, bpm, ph, fmt, r in heard}
    assert np.mean(list(scores.values())) >= 0.9, scores
    assert min(scores.values()) >= 0.8, scores  # the bar, for every case


def test_tempo_within_4_percent_and_key_right(heard: list) -> None:
    tempo_errors = {(t.name, bpm, ph): abs(r.tempo.bpm / bpm - 1) for t, bpm, ph, _, r in heard}
    assert max(tempo_errors.values()) <= 0.04, tempo_errors
    keys_right = [(r.key, r.mode) == (t.key, t.mode) for t, _, _, _, r in heard]
    assert sum(keys_right) >= 0.9 * len(keys_right), [(t.name, r.key, r.mode) for t, _, _, _, r in heard]


def test_motif_keeps_the_tunes_intervals_and_rhythm(heard: list) -> None:
    for tune, _, _, _, r in heard:
        want = [p for p, _ in tune.notes if p is not None]
        got = [m["pitch"] for m in r.motif if m["pitch"] is not None]
        assert intervals(got) == intervals(want), tune.name
        beats = [m["beats"] for m in r.motif if m["pitch"] is not None]
        assert beats[:-1] == [b for _, b in tune.notes][:-1], tune.name  # quantised back to the written rhythm


# ---------------------------------------------------------------------------------------------- the pack


def _lead_pitches(midi_path: Path) -> list[int]:
    tracks = notes_from_midi(mido.MidiFile(str(midi_path)))
    lead = next(notes for name, notes in tracks.items() if name.startswith("Lead"))
    return [n.pitch for n in sorted(lead, key=lambda n: n.onset)]


def _best_match(pattern: list[int], seq: list[int], start: int = 0) -> tuple[float, int]:
    """The best share of equal intervals of `pattern` against any window of `seq` from `start`, and where."""
    best, at = 0.0, -1
    for i in range(start, len(seq) - len(pattern) + 1):
        share = float(np.mean([a == b for a, b in zip(pattern, seq[i:i + len(pattern)], strict=True)]))
        if share > best:
            best, at = share, i
    return best, at


def _contour(iv: list[int]) -> list[int]:
    return [int(np.sign(x)) for x in iv]


@pytest.fixture(scope="module")
def hummed_pack(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, Tune]:
    from motif_client import MotifClient

    tune = TUNES[2]  # Frère Jacques in F major at 104 BPM, through a phone
    data = encode(phone(hum(tune, 104, seed=5)))
    with MotifClient(engine.address) as client:  # type: ignore[attr-defined]
        events = list(client.generate("a warm folk tune by the fire", seed=3, decoders=["music"], hum=data,
                                      hum_name="idea.wav"))
        assert events[-1].kind == "done"
        pack_dir, manifest = client.download_pack(events[-1].manifest["pack_id"], tmp_path_factory.mktemp("hum"))
    return pack_dir, manifest, tune


def test_the_packs_lead_states_and_develops_the_hummed_motif(hummed_pack: tuple[Path, dict, Tune]) -> None:
    pack_dir, _, tune = hummed_pack
    lead = _lead_pitches(pack_dir / "music" / "score.mid")
    motif = [p for p, _ in tune.notes if p is not None]
    head = intervals(motif)[:10]  # the first four bars' shape
    lead_iv = intervals(lead)
    stated, at = _best_match(head, lead_iv)
    assert stated == 1.0 and at == 0, (lead_iv[:20], head)  # stated verbatim first
    # developed: later in the lead the motif's contour comes back (repeated, sequenced or varied)
    later = [_best_match(_contour(head[:6]), _contour(lead_iv), start=len(head))[0]]
    assert later[0] >= 0.8, lead_iv
    assert len(lead) >= 2 * len(head)


def test_the_hummed_motif_also_comes_as_a_counter_line(hummed_pack: tuple[Path, dict, Tune]) -> None:
    pack_dir, _, tune = hummed_pack
    tracks = notes_from_midi(mido.MidiFile(str(pack_dir / "music" / "score.mid")))
    texture = next(notes for name, notes in tracks.items() if name.startswith("Texture"))
    iv = intervals([n.pitch for n in sorted(texture, key=lambda n: n.onset)])
    head = _contour(intervals([p for p, _ in tune.notes if p is not None])[:7])  # the first two bars
    inverted = [-c for c in head]
    best = max(_best_match(pattern, _contour(iv))[0] for pattern in (head, inverted))
    assert best >= 0.8, (iv, head)  # the tune's shape (inverted or not) in the counter-line


def test_pack_json_records_the_transcription_motif_and_derivation(hummed_pack: tuple[Path, dict, Tune]) -> None:
    pack_dir, _, tune = hummed_pack
    pack = json.loads((pack_dir / "pack.json").read_text())
    rec = pack["request"]["hum"]
    assert rec["file"] == "idea.wav" and len(rec["sha256"]) == 64
    assert len(rec["transcription"]["notes"]) == sum(p is not None for p, _ in tune.notes)
    assert rec["transcription"]["model"].startswith("basic-pitch-0.4.0")
    assert abs(rec["tempo"]["bpm"] / 104 - 1) <= 0.04 and (rec["key"]["key"], rec["key"]["mode"]) == ("F", "major")
    assert all("derived" in rec[k] for k in ("transcription", "tempo", "key", "motif"))
    # not pinned: the hum set the latent's tempo and key
    assert pack["latent"]["tempo_bpm"] == pytest.approx(rec["tempo"]["bpm"], abs=0.1)
    assert (pack["latent"]["key"], pack["latent"]["mode"]) == ("F", "major")
    assert "--hum" in pack["replay"]["command"]


def test_pins_win_over_the_hum_and_the_tune_moves_to_the_pinned_key(tmp_path: Path) -> None:
    from engine_server import pipeline
    from engine_server.store import PackStore

    tune = TUNES[1]  # Twinkle in D major
    path = tmp_path / "twinkle.flac"
    path.write_bytes(encode(hum(tune, 110, seed=9), "FLAC"))
    spec = pipeline.JobSpec(latent=_neutral_latent(), pins={"tempo_bpm": 90.0, "key": "G"}, seed=1,
                            decoders=("music",), inputs={"hum": {"path": str(path)}})
    job = pipeline.prepare(spec, None)
    assert job.latent.tempo_bpm == 90.0 and job.latent.key == "G" and job.latent.mode == "major"
    assert job.request_record["hum"]["pinned_kept"] == ["key", "tempo_bpm"]
    store = PackStore(tmp_path / "store")
    pipeline.make_in_process(store, job)
    lead = _lead_pitches(store.pack_dir(job.pack_id) / "music" / "score.mid")
    motif = [p for p, _ in tune.notes if p is not None][:12]
    g_major = {(7 + s) % 12 for s in (0, 2, 4, 5, 7, 9, 11)}
    assert lead[0] % 12 == 7  # D's tonic sung first: G's tonic now
    assert all(p % 12 in g_major for p in lead[:12])
    assert _best_match(intervals(motif), intervals(lead))[0] == 1.0


def _neutral_latent() -> dict[str, Any]:
    from engine_server.readers.edit import FILM_BASE

    return {**FILM_BASE, "mode": "major", "ensemble": "folk"}


# ---------------------------------------------------------------------------------------------- bad input


def _wav(y: np.ndarray, sr: int, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


def _bad(case: str) -> bytes:
    rng = np.random.default_rng(0)
    if case == "silence":
        return _wav(np.zeros(SR * 4, np.float32), SR)
    if case == "noise":
        return _wav(0.2 * rng.standard_normal(SR * 4).astype(np.float32), SR)
    if case == "ten_minutes":
        return _wav(np.zeros(8000 * 600, np.int16), 8000)
    if case == "not_audio":
        return b"These are the lyrics, not the tune.\n" * 40
    if case == "rate":
        return _wav(0.1 * np.ones(4000, np.float32), 1000)
    if case == "layout":
        return _wav(np.zeros((SR * 2, 12), np.float32), SR)
    if case == "empty":
        return b""
    raise AssertionError(case)


@pytest.mark.parametrize(("case", "message"), [
    ("silence", "is silent"),
    ("noise", "No melody was heard"),
    ("ten_minutes", "lasts 600 s; the limit is 60 s"),
    ("not_audio", "not an audio file"),
    ("rate", "sampled at 1000 Hz"),
    ("layout", "has 12 channels"),
    ("empty", "is empty"),
])
def test_bad_hums_are_refused_with_a_sentence(case: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        read_hum({"file_name": f"{case}.wav", "data": _bad(case)})


def test_bad_hum_over_grpc_and_cli_is_refused_before_any_work(engine: Any, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from motif_client import EngineError, MotifClient

    with MotifClient(engine.address) as client, pytest.raises(EngineError) as info:  # type: ignore[attr-defined]
        list(client.generate("rain on a tin roof", decoders=["music"], hum=_bad("noise"), hum_name="noise.wav"))
    assert info.value.code == "INVALID_ARGUMENT" and "No melody was heard" in info.value.message
    silent = tmp_path / "quiet.wav"
    silent.write_bytes(_bad("silence"))
    store = tmp_path / "store"
    code = motif_main(["generate", "rain on a tin roof", "--hum", str(silent), "--only", "music",
                       "--store", str(store), "--out", str(tmp_path / "out")])
    assert code != 0 and "is silent" in capsys.readouterr().err
    assert not (store / "packs").exists() or not any((store / "packs").iterdir())
