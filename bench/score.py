"""Score to picture benchmark: a 60 s edit with 12 cuts at 24 fps, made here with PyAV.

    .venv/bin/python bench/score.py [--repeat 2] [--keep DIR]

Prints seconds for analysis (reading the edit: decode, PySceneDetect, motion, colour, the curve, the cue
plan), composition and render (the music decoder's compose and stem render, then mix, loudness and WAVs,
and score.otio), the whole job (goal <= 10 s on this machine), and the hit timing error measured from the
rendered mix: for every cut, the nearest onset librosa finds in the audio (mean and max, in ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine_server import pipeline  # noqa: E402
from engine_server.decoders import registry  # noqa: E402
from engine_server.store import PackStore  # noqa: E402
from tests.edit_media import ShotSpec, cut_frames, make_edit  # noqa: E402

COLOURS = [(40, 70, 200), (210, 40, 35), (40, 170, 70), (230, 210, 60), (20, 30, 90), (235, 130, 30),
           (30, 150, 150), (225, 225, 220), (150, 40, 160)]
# 13 shots, 12 cuts, 1440 frames = 60 s at 24 fps: long and short shots, calm and fast
LENGTHS = [150, 96, 72, 130, 60, 84, 168, 48, 120, 90, 144, 102, 176]
MOTION = [0.1, 0.4, 0.8, 0.2, 0.9, 0.5, 0.05, 0.95, 0.3, 0.6, 0.15, 0.7, 0.1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="keep the edit and the packs here")
    args = ap.parse_args()
    import librosa
    import soundfile as sf

    work = args.keep or Path(tempfile.mkdtemp(prefix="motif-score-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    shots = [ShotSpec(n, COLOURS[i % len(COLOURS)], m) for i, (n, m) in enumerate(zip(LENGTHS, MOTION, strict=True))]
    assert sum(LENGTHS) == 1440 and len(cut_frames(shots)) == 12
    edit = make_edit(work / "edit60.mp4", Fraction(24), shots, size=(640, 360))
    cmd = "python bench/score.py " + " ".join(sys.argv[1:])
    print(f"$ {cmd}\nedit: {edit.name}, 640x360 H.264, 24 fps, 1440 frames (60 s), 12 cuts")
    getattr(registry.get("music"), "warm_up", lambda: None)()
    rows = []
    for r in range(args.repeat):
        store = PackStore(work / f"store{r}")
        t0 = time.perf_counter()
        job = pipeline.prepare(pipeline.JobSpec(seed=r, inputs={"edit": {"path": str(edit)}}), None)
        t1 = time.perf_counter()
        manifest = pipeline.make_in_process(store, job)
        t2 = time.perf_counter()
        timings = dict(registry.get("music").last_timings)  # type: ignore[attr-defined]
        rows.append((t1 - t0, timings["compose_s"], timings["render_s"], t2 - t1, t2 - t0))
        folder = store.pack_dir(job.pack_id)
    analysis, compose, render, decode, total = (statistics.median(c) for c in zip(*rows, strict=True))
    print(f"analysis (decode 1440 frames, PySceneDetect, motion, colour, curve, cue plan): {analysis:.2f} s")
    print(f"composition (form to parts, tempo map, hits): {compose * 1000:.0f} ms")
    print(f"render (6 stems with FluidSynth): {render:.2f} s; whole decode + commit (mix, loudness, WAVs, "
          f"score.otio, C2PA labels): {decode:.2f} s")
    print(f"total edit -> pack: {total:.2f} s (median of {args.repeat}; goal <= 10 s)")
    rec = manifest["request"]["edit"]
    assert rec["cuts"] == cut_frames(shots), rec["cuts"]
    mix, sr = sf.read(folder / "music/mix.wav", dtype="float32")
    env = librosa.onset.onset_strength(y=mix.mean(axis=1), sr=sr, hop_length=128)
    onsets = librosa.onset.onset_detect(onset_envelope=env, sr=sr, hop_length=128, units="time")
    cuts_s = np.array([c / 24 for c in cut_frames(shots)])
    err = np.array([np.min(np.abs(onsets - t)) for t in cuts_s]) * 1000
    print(f"cuts found: {len(rec['cuts'])}/12 exact; hits: {len(rec['hits'])} "
          f"({', '.join(sorted({h['kind'] for h in rec['hits']}))}); tempo map {len(rec['tempo_map'])} step(s); "
          f"major cuts on downbeats: {sum(a['on'] == 'downbeat' for a in rec['tempo_alignment'])}"
          f"/{len(rec['tempo_alignment'])}")
    print(f"hit timing error from the audio (librosa onsets, hop 2.7 ms): mean {err.mean():.1f} ms, "
          f"max {err.max():.1f} ms (1 frame = 41.7 ms)")
    print(f"mix: {len(mix)} samples = {len(mix) / sr:.6f} s (edit: 60.000000 s)")


if __name__ == "__main__":
    main()
