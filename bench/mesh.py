"""Mesh decoder benchmarks: seconds per kit and per asset, and peak memory.

    .venv/bin/python bench/mesh.py [--runs 3] [--quick | --vocabulary]

Each configuration runs in a fresh process (so its peak RSS is its own): one cold decode (imports and FFT
plans warm up), then `--runs` warm decodes whose median is reported, in wall time and in CPU time (the
machine is shared: wall time rises with other people's load, CPU time does not). Kits come from the encoder when
its models are installed (the issue's prompt and two others), else from hand-made latents. Goal
(issue 3): a 5-asset kit with 1K textures in <= 5 s on a 2-core machine; (issue 18) a 6-piece kit picked
from the subject vocabulary by a prompt's nouns, still <= 5 s (`--vocabulary`). Each figure is printed
with the command that made it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CMD = "python bench/mesh.py"
PROMPTS = {
    "scifi": "abandoned cyberpunk marketplace at dusk with rain",
    "medieval": "sunlit medieval village square",
    "natural": "misty pine forest clearing at dawn",
    "subjects": "a snowy pine forest cabin at night",  # cabin + pine from the vocabulary, snow environment
}


def _latent(style: str, seed: int):  # type: ignore[no-untyped-def]
    try:
        from engine_server.encoder import get_encoder

        return get_encoder().encode(PROMPTS[style], seed), f"prompt {PROMPTS[style]!r}"
    except Exception:  # encoder models not installed: hand-made latent of the same style
        from tests.test_mesh_kit import style_latent

        if style == "subjects":
            return style_latent("natural", subjects=["cabin", "pine"], environment="snow"), "hand-made subjects latent"
        return style_latent(style), f"hand-made {style} latent"


def child(style: str, size: int, assets: int, runs: int) -> dict:
    """One configuration in this process: cold run, warm runs, per-phase split, peak RSS."""
    from engine_server.decoders.base import DecodeContext, DecodeRequest
    from engine_server.decoders.mesh import MeshDecoder
    from engine_server.decoders.mesh.kit import build_asset, plan_kit
    from engine_server.decoders.mesh.materials import kit_materials
    from engine_server.decoders.mesh.textures import synthesize

    seed = 7
    latent, source = _latent(style, seed)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times, cpu = [], []
    for i in range(runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            ctx = DecodeContext(Path(tmp), lambda f, m: None, lambda: False)
            t0, c0 = time.perf_counter(), time.process_time()
            request = DecodeRequest(latent, seed + i, options={"texture_size": size, "assets": assets})
            out = MeshDecoder().decode(request, ctx)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            total_bytes = sum((Path(tmp) / a.path).stat().st_size for a in out)
    style_, items = plan_kit(latent, seed, assets)
    mats = kit_materials(latent, style_)
    t0 = time.perf_counter()
    built = [build_asset(it, style_, latent, seed, mats) for it in items]
    geo = (time.perf_counter() - t0) / len(items)
    roles = sorted({p.material for lods in built for lod in lods for p in lod.primitives})
    t0 = time.perf_counter()
    for r in roles:
        synthesize(mats[r], size, seed).png()
    tex = (time.perf_counter() - t0) / len(roles)
    return {
        "source": source, "style": latent.geometry_style, "cold_s": times[0], "warm_s": statistics.median(times[1:]),
        "runs": [round(t, 3) for t in times[1:]], "cpu_s": statistics.median(cpu[1:]),
        "geometry_s_per_asset": geo, "texture_s_per_material": tex,
        "materials": len(roles), "rss_before_mib": rss_before,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "mib_written": total_bytes / 2**20,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="only the issue's configuration")
    ap.add_argument("--vocabulary", action="store_true", help="only the 6-piece kit picked by a prompt's nouns")
    ap.add_argument("--child", nargs=4, metavar=("STYLE", "SIZE", "ASSETS", "RUNS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        style, size, assets, runs = args.child
        print(json.dumps(child(style, int(size), int(assets), int(runs))))
        return

    configs = [("subjects", 1024, 6)] if args.vocabulary else [("scifi", 1024, 5)]
    if not args.quick and not args.vocabulary:
        configs += [("medieval", 1024, 5), ("natural", 1024, 5), ("scifi", 1024, 6), ("scifi", 2048, 5),
                    ("scifi", 512, 5), ("subjects", 1024, 6)]
    cmd = f"{CMD} --runs {args.runs}" + (" --quick" if args.quick else "")
    cmd += " --vocabulary" if args.vocabulary else ""
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    for style, size, assets in configs:
        proc = subprocess.run([sys.executable, __file__, "--child", style, str(size), str(assets), str(args.runs)],
                              capture_output=True, text=True, cwd=ROOT, check=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        goal = ""
        if (size, assets) == (1024, 5) or style == "subjects":
            goal = "  (goal <= 5 s: " + ("met" if r["warm_s"] <= 5.0 else "NOT met") + ")"
        print(f"{assets}-asset {r['style']} kit, {size} px textures ({r['source']}): median {r['warm_s']:.2f} s "
              f"(runs {', '.join(map(str, r['runs']))}; cold {r['cold_s']:.2f} s) = {r['warm_s'] / assets:.2f} s per "
              f"asset{goal}; {r['mib_written']:.1f} MiB written   [{cmd}]")
        print(f"    CPU time (both threads, load-independent) median {r['cpu_s']:.2f} s per kit: the wall time on an "
              f"idle 2-core machine is at most this   [{cmd}]")
        print(f"    split: geometry + LODs {r['geometry_s_per_asset']:.3f} s per asset; textures (synthesis + PNG, "
              f"one thread) {r['texture_s_per_material']:.3f} s per material x {r['materials']} materials   [{cmd}]")
        print(f"    peak RSS {r['peak_rss_mib']:.0f} MiB (after imports {r['rss_before_mib']:.0f} MiB)   [{cmd}]")
    print(f"machine load average {os.getloadavg()[0]:.1f} at end (figures above are inflated when it exceeds the "
          f"core count)")


if __name__ == "__main__":
    main()
