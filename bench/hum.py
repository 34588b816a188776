"""Hum a melody benchmark: 10 s of humming made here (tests/hum_audio.py), transcribed, then a music pack.

    .venv/bin/python bench/hum.py [--repeat 3]

Prints seconds for decoding + transcription of the 10 s hum (basic-pitch's ONNX model on onnxruntime,
goal <= 2 s on this machine; the first call also loads the model), and for the whole hum -> music pack
job in-process (read the hum, encode the prompt, compose, render, commit).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine_server import pipeline  # noqa: E402
from engine_server.readers.hum import read_hum  # noqa: E402
from engine_server.store import PackStore  # noqa: E402
from tests.hum_audio import SR, TUNES, encode, hum  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    y = hum(TUNES[2], 120, seed=1)[: 10 * SR]  # Frère Jacques at 120 BPM: 10 s
    data = encode(y)
    t = time.perf_counter()
    read_hum({"file_name": "hum.wav", "data": data})
    first = time.perf_counter() - t
    runs = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        reading = read_hum({"file_name": "hum.wav", "data": data})
        runs.append(time.perf_counter() - t)
    print(f"transcribe 10 s hum: first {first:.2f} s (model load), then median {statistics.median(runs):.2f} s "
          f"over {args.repeat} ({len(reading.notes)} notes, {reading.tempo.bpm:.1f} BPM, {reading.key} {reading.mode})"
          "  [goal <= 2 s]")
    from engine_server.encoder import get_encoder

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hum.wav"
        path.write_bytes(data)
        store = PackStore(Path(tmp) / "store")
        encoder = get_encoder()
        for seed in range(2):
            t = time.perf_counter()
            job = pipeline.prepare(pipeline.JobSpec(prompt="a warm folk tune by the fire", seed=seed,
                                                    decoders=("music",), inputs={"hum": {"path": str(path)}}),
                                   encoder)
            pipeline.make_in_process(store, job)
            print(f"hum -> music pack (seed {seed}{', encoder warm-up included' if seed == 0 else ''}): "
                  f"{time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
