"""Render benchmarks: seconds for the draft and final concept image and for the 6 s clip, and peak memory.

    .venv/bin/python bench/render.py [--only image-draft,image-final,video-draft,video-final] [--repeat 1]

Each measurement runs in its own process (so peak memory is its own), the way a warm engine worker
runs a job: bpy is imported and the renderer warmed up first (the worker does both while idle,
`stage.warm_up_renderer`), the pack's kit and music are made
first (as the mesh and music decoders would have, untimed), then one decode is timed end to end —
staging the set, path tracing, grading, encoding, writing the file. Goals (issue 5, 2-core
machine): draft image <= 3 s, final image <= 20 s, 6 s clip <= 60 s. The machine's load average
and the job's CPU seconds (all threads) are printed with each figure: on a shared machine the wall
figures are upper bounds, and CPU / 2 estimates the wall time on two idle cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CMD = "python bench/render.py"
CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "image-draft": ("image", "draft", {}),
    "image-draft-subjects": ("image", "draft", {}),  # issue 18: a prompt-picked kit under water
    "image-final": ("image", "final", {}),
    "video-draft": ("video", "draft", {}),
    "video-final": ("video", "final", {}),
}
LATENT = dict(geometry_style="industrial", time_of_day="dusk", weather="rain", weather_intensity=0.6,
              camera_motion="dolly", arousal=0.6, palette=["#1d2d44", "#3e5c76", "#748cab", "#f0ebd8", "#e07a5f"])
# "an underwater temple lit by bioluminescent coral" as the encoder reads it (subjects, environment, palette)
LATENT_SUBJECTS = dict(geometry_style="organic", time_of_day="noon", subjects=["temple", "coral"],
                       environment="underwater", palette=["#ed5059", "#005673", "#009cae", "#44cbc2", "#e0b638"])


def one(case: str) -> dict[str, float]:
    """Run one case in this process; return its figures."""
    import bpy  # noqa: F401 - a warm worker has it loaded already

    from engine_server.decoders.base import DecodeContext, DecodeRequest
    from engine_server.decoders.image import ImageDecoder
    from engine_server.decoders.mesh import MeshDecoder
    from engine_server.decoders.music import MusicDecoder
    from engine_server.decoders.video import VideoDecoder
    from tests.latent_factory import make_latent

    kind, quality, options = CASES[case]
    latent = make_latent(**(LATENT_SUBJECTS if case.endswith("-subjects") else LATENT))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        quiet = DecodeContext(out, lambda f, m: None, lambda: False)
        upstream = {"mesh": MeshDecoder().decode(DecodeRequest(latent, seed=11), quiet)}
        if kind == "video":
            upstream["music"] = MusicDecoder().decode(DecodeRequest(latent, seed=11), quiet)
        ctx = DecodeContext(out, lambda f, m: None, lambda: False, upstream)
        dec = ImageDecoder() if kind == "image" else VideoDecoder()
        dec.warm_up()  # as an engine worker does while idle, before any job arrives
        req = DecodeRequest(latent, seed=11, quality=quality, options=options)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        assets = dec.decode(req, ctx)
        took = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        size = (out / assets[0].path).stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": took, "cpu_seconds": cpu, "peak_rss_mib": peak, "rss_before_mib": rss_before / 1024,
            "bytes": size, "load1": os.getloadavg()[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(CASES))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    goals = {"image-draft": 3.0, "image-draft-subjects": 3.0, "image-final": 20.0, "video-draft": 60.0,
             "video-final": 60.0}
    for case in args.only.split(","):
        for _ in range(args.repeat):
            res = subprocess.run([sys.executable, __file__, "--one", case], cwd=ROOT, capture_output=True, text=True,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})
            if res.returncode != 0:
                print(f"{case}: failed\n{res.stderr[-2000:]}")
                continue
            fig = json.loads(res.stdout.strip().splitlines()[-1])
            what = {"image-draft": "1920x1080 PNG", "image-draft-subjects": "1920x1080 PNG, underwater temple kit",
                    "image-final": "1920x1080 PNG",
                    "video-draft": "6 s 1280x720 MP4 + AAC", "video-final": "6 s 1280x720 MP4 + AAC"}[case]
            verdict = "meets" if fig["seconds"] <= goals[case] else "misses"
            print(f"{case:12s} {fig['seconds']:6.1f} s  ({what}; goal {goals[case]:g} s: {verdict})  "
                  f"CPU {fig['cpu_seconds']:.1f} s  peak RSS {fig['peak_rss_mib']:.0f} MiB  "
                  f"load avg {fig['load1']:.1f}  "
                  f"[{CMD} --only {case}]", flush=True)


if __name__ == "__main__":
    main()
