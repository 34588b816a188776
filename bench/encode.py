"""Encoder latency: one prompt (median of N after warm-up) and 1,000 distinct prompts, one by one.

    .venv/bin/python bench/encode.py [--n 200] [--warmup 20] [--count 1000] [--threads K]

Each figure is printed with the command that made it. Goal: <= 10 ms for one prompt.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine_server.encoder import Encoder  # noqa: E402

PROMPT = "abandoned cyberpunk marketplace at dusk with rain"
SUBJECTS = ["a harbour", "a forest temple", "a desert outpost", "a neon alley", "a mountain village",
            "an ice cave", "a space station", "a cathedral", "a jazz bar", "a battlefield"]  # fmt: skip
MOODS = ["at dawn", "at night", "in the rain", "under snow", "in fog", "at noon", "after a storm",
         "during a festival", "in ruins", "at sunset"]  # fmt: skip
STYLES = ["", "with a lonely piano", "with pounding drums", "with a choir", "with warm lights",
          "with cold blue light", "with synthesizers", "with a folk fiddle", "full of people",
          "empty and quiet"]  # fmt: skip


def command() -> str:
    exe = os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT)) else sys.executable
    return shlex.join([exe, *sys.argv])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="timed encodes of one prompt")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--count", type=int, default=1000, help="distinct prompts for the throughput figure")
    ap.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads (default: auto)")
    args = ap.parse_args()
    cmd = command()

    t0 = time.perf_counter()
    enc = Encoder(threads=args.threads)
    load_s = time.perf_counter() - t0
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {enc.version}")
    print(f"load both models: {load_s * 1000:.0f} ms  [{cmd}]")

    for _ in range(args.warmup):
        enc.encode(PROMPT, 0)
    times = []
    for i in range(args.n):
        t = time.perf_counter()
        enc.encode(PROMPT, i)
        times.append(time.perf_counter() - t)
    times.sort()
    med = statistics.median(times) * 1000
    p90 = times[int(0.9 * (len(times) - 1))] * 1000
    print(f"encode one prompt: median {med:.2f} ms, p90 {p90:.2f} ms over {args.n} runs after "
          f"{args.warmup} warm-up ({len(PROMPT)} chars)  [{cmd}]")

    prompts = [" ".join(p).strip() for p in itertools.product(SUBJECTS, MOODS, STYLES)][: args.count]
    t = time.perf_counter()
    for i, p in enumerate(prompts):
        enc.encode(p, i)
    total = time.perf_counter() - t
    print(f"encode {len(prompts)} distinct prompts one by one: {total:.2f} s total, "
          f"{total / len(prompts) * 1000:.2f} ms per prompt  [{cmd}]")

    t = time.perf_counter()
    enc.embed(prompts)
    emb_total = time.perf_counter() - t
    print(f"embed {len(prompts)} prompts in batches (embedding only): {emb_total:.2f} s  [{cmd}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
