"""Blender extension benchmark: Generate click -> last object imported, and the import step alone.

    .venv/bin/python bench/blender_import.py [--rounds 5] [--zip dist/motif_blender-<v>-linux_x64.zip]

The engine runs warm in this process (encoder loaded, its worker already used once by a warm-up
job with another seed, so the timed pack is not a cache hit). Blender (bpy 5.0.1) runs in a child
process with the built extension installed into a temporary BLENDER_USER_RESOURCES; the timed path
is the artist's: `bpy.ops.motif.generate()`, then the timer function, called again after the
interval it returns (as Blender's timer does), until the last object is in the scene. Decoders:
the engine's defaults, else every real decoder it has, else the diagnostic `probe`.

Import alone: the same add-on's importer (`runtime.import_local`, driven by the timer) on the
engine's pack; on a pack from the real mesh + music decoders called directly
(plugins/blender/testing/decoder_pack.py: 6 GLB pieces with LODs and 1024 px PBR textures, kit.json,
MIDI, WAV mix and stems); and on a synthetic 5-mesh pack of real files (Blender-exported PBR GLBs,
concept PNG, WAV mix + 2 stems, H.264 MP4; plugins/blender/testing/synthetic_pack.py). Goal: <= 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CMD = "python bench/blender_import.py"
MODULE = "bl_ext.user_default.motif_blender"
PROMPT = "abandoned cyberpunk marketplace at dusk with rain"  # the CLI's default prompt
RESULT = "BENCH_RESULT "


def _decoders(describe: dict[str, Any]) -> list[str]:
    ds = describe["decoders"]
    return ([d["name"] for d in ds if d["default"]] or [d["name"] for d in ds if not d["placeholder"]]
            or ["probe"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="repetitions of the import-only timing")
    ap.add_argument("--zip", type=Path, help="extension zip (default: build linux-x64 into a temp folder)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_blender_extension as builder

    from engine_server.server import Engine
    from motif_client import MotifClient

    with tempfile.TemporaryDirectory(prefix="motif-bench-blender-") as tmp_s:
        tmp = Path(tmp_s)
        ext_zip = args.zip.resolve() if args.zip else builder.build(["linux-x64"], tmp / "dist")[0]
        subprocess.run([sys.executable, str(ROOT / "plugins/blender/testing/synthetic_pack.py"), str(tmp / "synth")],
                       check=True, capture_output=True)
        # the real mesh + music decoders, called directly (default options: 6 pieces, 1024 px textures)
        made = subprocess.run([sys.executable, str(ROOT / "plugins/blender/testing/decoder_pack.py"),
                               str(tmp / "real"), "mesh,music", "--prompt", PROMPT, "--seed", "0"],
                              capture_output=True, text=True, cwd=ROOT)
        real = json.loads(made.stdout.strip().splitlines()[-1]) if made.returncode == 0 else {"made": []}
        engine = Engine("127.0.0.1:0", store_root=tmp / "store").start()
        try:
            with MotifClient(engine.address) as c:
                decoders = _decoders(c.describe())
                list(c.generate(prompt=PROMPT, seed=1, decoders=decoders))  # warm the worker
            env = {**os.environ, "BLENDER_USER_RESOURCES": str(tmp / "blender_user")}
            payload = {"zip": str(ext_zip), "address": engine.address, "decoders": decoders,
                       "synthetic": str(tmp / "synth"), "rounds": args.rounds,
                       "real": str(tmp / "real") if real["made"] else None}
            proc = subprocess.run([sys.executable, __file__, "--blender-side", json.dumps(payload)], env=env,
                                  capture_output=True, text=True, cwd=ROOT, timeout=1800)
        finally:
            engine.stop()
    line = next((x for x in proc.stdout.splitlines() if x.startswith(RESULT)), None)
    if line is None:
        print((proc.stdout + proc.stderr)[-4000:])
        return 1
    r = json.loads(line[len(RESULT):])
    cmd = CMD + (f" --rounds {args.rounds}" if args.rounds != 5 else "")
    print(f"decoders: {', '.join(r['decoders'])}; pack roles: {r['roles']}; device: CPU, bpy {r['bpy']}")
    print(f"{r['click_to_last_object_s']:.2f} s  Generate click -> last object imported, engine warm "
          f"(engine + download {r['click_to_pack_s']:.2f} s, import {r['pack_to_done_s']:.2f} s)  [{cmd}]")
    print(f"{statistics.median(r['import_engine_pack_s']):.3f} s  import step alone, engine pack "
          f"({r['engine_pack_objects']} objects, {r['engine_pack_strips']} strips; median of "
          f"{len(r['import_engine_pack_s'])})  [{cmd}]")
    if r.get("import_real_s"):
        rs = r["import_real_s"]
        print(f"{statistics.median(rs):.3f} s  import step alone, real decoder pack ({', '.join(real['made'])}: "
              f"{r['real_roles']}; {r['real_objects']} objects incl. hidden LODs, {r['real_strips']} strips; "
              f"median of {len(rs)}, max {max(rs):.3f})  [{cmd}]")
    synth = r["import_synthetic_s"]
    print(f"{statistics.median(synth):.3f} s  import step alone, 5-asset pack "
          f"({r['synthetic_objects']} objects, {r['synthetic_strips']} strips; median of {len(synth)}, "
          f"min {min(synth):.3f}, max {max(synth):.3f}; goal <= 2 s)  [{cmd}]")
    return 0


# ---------------------------------------------------------------- Blender side


def _blender_side(a: dict[str, Any]) -> dict[str, Any]:
    import bpy

    bpy.ops.extensions.package_install_files(filepath=a["zip"], repo="user_default", enable_on_install=True)
    runtime: Any = sys.modules[f"{MODULE}.runtime"]
    prefs = bpy.context.preferences.addons[MODULE].preferences
    prefs.address = a["address"]
    scene = bpy.context.scene
    state = sys.modules[f"{MODULE}.props"].ensure_initialized(scene, prefs)
    bpy.ops.motif.test_connection()
    _drain(runtime)
    for d in state.decoders:
        d.enabled = d.name in a["decoders"]
    state.prompt, state.seed = PROMPT, 0

    stamps: dict[str, float] = {}
    host = runtime.SESSION.host
    begin_import = host.begin_import

    def stamped(*args: Any) -> Any:  # when the downloaded pack reaches the main thread
        stamps["pack"] = time.perf_counter()
        return begin_import(*args)

    host.begin_import = stamped
    t0 = time.perf_counter()
    bpy.ops.motif.generate()
    while runtime.busy():  # as Blender's timer would: call, then wait the interval it asks for
        time.sleep(runtime.drain_events() or 0.0)
    t1 = time.perf_counter()
    host.begin_import = begin_import
    t_pack = stamps.get("pack")
    if runtime.SESSION.status.level != "INFO":
        raise SystemExit(f"generate failed: {runtime.SESSION.status.text}")
    entry = state.history[-1]
    manifest = json.loads(entry.manifest_json)
    out: dict[str, Any] = {
        "bpy": bpy.app.version_string, "decoders": a["decoders"],
        "roles": sorted({x["role"] for x in manifest["assets"]}),
        "click_to_last_object_s": t1 - t0, "click_to_pack_s": (t_pack or t1) - t0,
        "pack_to_done_s": t1 - (t_pack or t1),
    }
    out["import_engine_pack_s"], out["engine_pack_objects"], out["engine_pack_strips"] = _time_imports(
        runtime, scene, Path(entry.pack_dir), manifest, a["rounds"])
    synth = Path(a["synthetic"])
    out["import_synthetic_s"], out["synthetic_objects"], out["synthetic_strips"] = _time_imports(
        runtime, scene, synth, json.loads((synth / "pack.json").read_text()), a["rounds"])
    if a.get("real"):
        real = Path(a["real"])
        rm = json.loads((real / "pack.json").read_text())
        out["real_roles"] = sorted({x["role"] for x in rm["assets"]})
        out["import_real_s"], out["real_objects"], out["real_strips"] = _time_imports(
            runtime, scene, real, rm, a["rounds"])
    return out


def _time_imports(runtime: Any, scene: Any, pack: Path, manifest: dict[str, Any],
                  rounds: int) -> tuple[list[float], int, int]:
    import bpy

    times = []
    objects = strips = 0
    for _ in range(rounds):
        _clear()  # every round starts from the same, otherwise empty, file
        t0 = time.perf_counter()
        runtime.import_local(scene, pack, manifest)
        while runtime.busy():
            time.sleep(runtime.drain_events() or 0.0)
        times.append(time.perf_counter() - t0)
        col = next(iter(_collections(manifest["pack_id"])))
        objects = len(col.objects)
        strips = sum(1 for sc in bpy.data.scenes for s in (sc.sequence_editor.strips_all if sc.sequence_editor else [])
                     if s.get("motif_pack_id") == manifest["pack_id"])
    _clear()
    return times, objects, strips


def _clear() -> None:
    """Remove every imported pack (objects, strips, collections) and purge what they used."""
    import bpy

    for col in [c for c in bpy.data.collections if c.get("motif_pack_id")]:
        for o in list(col.objects):
            bpy.data.objects.remove(o)
        bpy.data.collections.remove(col)
    for sc in bpy.data.scenes:
        se = sc.sequence_editor
        for s in [s for s in (se.strips_all if se else []) if s.get("motif_pack_id")]:
            se.strips.remove(s)
    bpy.data.orphans_purge(do_local_ids=True, do_linked_ids=True, do_recursive=True)


def _collections(pack_id: str) -> Any:
    import bpy

    return (c for c in bpy.data.collections if c.get("motif_pack_id") == pack_id)


def _drain(runtime: Any) -> None:
    deadline = time.monotonic() + 120
    while runtime.busy() and time.monotonic() < deadline:
        runtime.drain_events()
        time.sleep(0.01)
    runtime.drain_events()


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--blender-side":
        result = _blender_side(json.loads(sys.argv[2]))
        print(RESULT + json.dumps(result), flush=True)
        os._exit(0)
    sys.exit(main())
