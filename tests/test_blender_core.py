"""The Blender extension's host-free core, without Blender: the job runner against a real engine on
loopback, pack reading and layout, the local-engine supervisor, and the client vendoring script."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from motif_client import MotifClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugins" / "blender"))

from motif_blender import engine_process, jobs, packinfo  # noqa: E402
from motif_blender.jobs import Busy, GenerateSpec, JobRunner  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
import vendor_client  # noqa: E402

PROBE = ["probe"]
SLOW = {"probe": {"sleep_s": 20, "steps": 200}}


def factory(address: str, token: str | None, timeout_s: float) -> MotifClient:
    return MotifClient(address, token=token, timeout_s=timeout_s)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def runner(engine: Any, tmp_path: Path) -> Iterator[JobRunner]:
    r = JobRunner(factory, engine.address, cache_dir=tmp_path / "packs")
    yield r
    if r.busy:
        r.cancel()
        r.wait_idle(10)


def _kinds(events: list[jobs.UIEvent]) -> list[str]:
    return [e.kind for e in events]


# ------------------------------------------------------------------ runner


def test_generate_streams_progress_then_a_downloaded_pack(runner: JobRunner) -> None:
    runner.generate(GenerateSpec(prompt="lighthouse in a storm", seed=11, decoders=PROBE,
                                 options={"probe": {"steps": 5}}), context={"scene": "Scene"})
    assert runner.busy
    events = runner.wait_idle(60)
    kinds = _kinds(events)
    assert kinds[-1] == "pack", events[-1]
    assert {"status", "describe", "queued", "progress", "download"} <= set(kinds)
    fractions = [e.fraction for e in events if e.kind in ("progress", "download")]
    assert fractions == sorted(fractions) and fractions[-1] <= jobs.DOWNLOAD_END
    pack = events[-1].data
    manifest = pack["manifest"]
    pack_dir = Path(pack["pack_dir"])
    assert manifest["request"]["prompt"] == "lighthouse in a storm" and manifest["seed"] == 11
    assert (pack_dir / "pack.json").exists()
    assert packinfo.pack_is_complete(pack_dir, manifest)
    assert not runner.busy and runner.poll() == []


def test_only_one_task_at_a_time(runner: JobRunner) -> None:
    runner.generate(GenerateSpec(prompt="slow", seed=1, decoders=PROBE, options=SLOW))
    with pytest.raises(Busy, match="still working"):
        runner.describe()
    runner.cancel()
    assert _kinds(runner.wait_idle(15))[-1] == "cancelled"


def test_cancel_mid_job_stops_the_engine_job_and_downloads_nothing(runner: JobRunner, engine: Any) -> None:
    runner.generate(GenerateSpec(prompt="cancel me", seed=2, decoders=PROBE, options=SLOW))
    seen: list[jobs.UIEvent] = []
    deadline = time.monotonic() + 30
    while not any(e.kind == "progress" for e in seen) and time.monotonic() < deadline:
        seen += runner.poll()
        time.sleep(0.02)
    job_id = next(e.data["job_id"] for e in seen if e.kind == "queued")
    started = time.monotonic()
    assert runner.cancel() is True
    events = runner.wait_idle(15)
    assert _kinds(events)[-1] == "cancelled" and "nothing was imported" in events[-1].message
    assert time.monotonic() - started < 4.0
    job = engine.jobs.get(job_id)
    assert job.finished.wait(5) and job.state == "cancelled"
    assert not any((runner.cache_dir or Path()).glob("*/pack.json"))


def test_engine_down_gives_a_clear_error(tmp_path: Path) -> None:
    port = free_port()
    r = JobRunner(factory, f"127.0.0.1:{port}", cache_dir=tmp_path / "packs")
    r.generate(GenerateSpec(prompt="nobody home", decoders=PROBE))
    events = r.wait_idle(20)
    assert events[-1].kind == "error" and events[-1].code == "UNAVAILABLE"
    assert f"Cannot reach the Motif engine at 127.0.0.1:{port}" in events[-1].message
    assert not (tmp_path / "packs").exists() or not any((tmp_path / "packs").iterdir())


def test_unknown_modality_is_refused_before_any_work(runner: JobRunner) -> None:
    runner.generate(GenerateSpec(prompt="a forest", decoders=["hologram"]))
    events = runner.wait_idle(20)
    assert events[-1].kind == "error"
    assert "has no 'hologram' decoder" in events[-1].message and "probe" in events[-1].message


def test_server_error_reaches_the_ui_as_a_sentence(runner: JobRunner) -> None:
    runner.generate(GenerateSpec(prompt="crash", decoders=PROBE, options={"probe": {"crash": True, "steps": 2}}))
    events = runner.wait_idle(60)
    assert events[-1].kind == "error" and events[-1].code == "INTERNAL"
    assert "engine is still running" in events[-1].message


def test_describe_and_encode(runner: JobRunner) -> None:
    runner.describe()
    events = runner.wait_idle(20)
    assert events[-1].kind == "described" and "Connected: Motif engine" in events[-1].message
    runner.encode("quiet snowy village at dawn", 7, pins={"tempo_bpm": 91.0})
    events = runner.wait_idle(20)
    latent = events[-1].data["latent"]
    assert events[-1].kind == "encoded" and latent["tempo_bpm"] == 91.0 and 5 <= len(latent["palette"]) <= 7


def test_cancel_when_the_engine_never_answers_still_frees_the_ui(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A hung engine: the UI gives up waiting after the grace period; late events are ignored."""
    release = threading.Event()

    class Hung:
        def describe(self) -> dict[str, Any]:
            release.wait(30)
            return {"decoders": [{"name": "probe"}]}

        def close(self) -> None:
            pass

    monkeypatch.setattr(jobs, "CANCEL_GRACE_S", 0.3)
    r = JobRunner(lambda *a: Hung(), "127.0.0.1:9", cache_dir=tmp_path)  # type: ignore[arg-type,return-value]
    r.generate(GenerateSpec(prompt="x", decoders=PROBE))
    time.sleep(0.1)
    r.cancel()
    events = r.wait_idle(5)
    assert events[-1].kind == "cancelled" and not r.busy
    release.set()
    time.sleep(0.2)
    assert r.poll() == []  # the stuck worker's late events are dropped


# ------------------------------------------------------------------ packinfo


def test_address_policy() -> None:
    assert packinfo.address_problem("127.0.0.1:50051", online_access=False) is None
    assert packinfo.address_problem("localhost:50051", online_access=False) is None
    assert packinfo.address_problem("[::1]:50051", online_access=False) is None
    remote = packinfo.address_problem("10.0.0.5:50051", online_access=False)
    assert remote and "online access is off" in remote
    assert packinfo.address_problem("10.0.0.5:50051", online_access=True) is None
    bad = packinfo.address_problem("localhost", online_access=True)
    assert bad and "HOST:PORT" in bad


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_kit_layout_is_on_grid_and_never_overlaps(n: int) -> None:
    items = [packinfo.KitItem(f"m{i}.glb", 0.5 + (i % 3) * 1.3, 0.4 + (i % 2) * 2.1) for i in range(n)]
    spots = packinfo.layout_kit(items, grid=2.0)
    assert set(spots) == {it.path for it in items}
    boxes = []
    for it in items:
        x, y, z = spots[it.path]
        assert z == 0.0
        boxes.append((x - it.width / 2, x + it.width / 2, y - it.depth / 2, y + it.depth / 2))
    for i in range(n):
        for j in range(i + 1, n):
            assert not _overlaps(boxes[i], boxes[j])
    xs = [b for box in boxes for b in box[:2]]
    assert abs(max(xs) + min(xs)) < max(it.width for it in items) + 2.0  # roughly centred


def test_kit_footprints_come_from_metadata_before_measurement() -> None:
    manifest = {"assets": [
        {"role": "mesh", "path": "mesh/a.glb", "meta": {"footprint": [2.0, 1.0], "grid": 0.5}},
        {"role": "mesh", "path": "mesh/b.glb", "meta": {}},
        {"role": "mesh", "path": "mesh/c.glb"},
    ]}
    kit = {"assets": [{"path": "mesh/c.glb", "position": [1.0, 0.0, 2.0]}]}
    grid, meta = packinfo.kit_info(manifest, kit)
    items = {it.path: it for it in packinfo.kit_items(meta, {"mesh/b.glb": (3.0, 4.0)})}
    assert grid == 0.5
    assert (items["mesh/a.glb"].width, items["mesh/a.glb"].depth) == (2.0, 1.0)
    assert (items["mesh/b.glb"].width, items["mesh/b.glb"].depth) == (3.0, 4.0)
    assert items["mesh/c.glb"].position == (1.0, -2.0, 0.0)  # glTF (x, y up, z) -> Blender (x, -z, y)
    spots = packinfo.layout_kit(list(items.values()), grid)
    assert spots["mesh/c.glb"] == (1.0, -2.0, 0.0)


def test_world_light_follows_time_of_day_brightness_and_palette() -> None:
    base = {"palette": [{"color": "#ff8800", "weight": 0.5}, {"color": "#ffffff", "weight": 0.5},
                        {"color": "#000000", "weight": 0.0}], "brightness": 0.8, "warmth": 0.5}
    noon = packinfo.world_light({**base, "time_of_day": "noon"})
    night = packinfo.world_light({**base, "time_of_day": "night"})
    dim = packinfo.world_light({**base, "time_of_day": "noon", "brightness": 0.1})
    assert noon.strength > dim.strength > 0 and noon.strength > night.strength
    assert night.sun_elevation_deg < 0 < noon.sun_elevation_deg
    r, _g, b = noon.sky
    assert r > b  # an orange-and-white, warm palette gives a warm sky
    assert all(0.0 <= c <= 1.0 for c in (*noon.sky, *noon.sun_color))


def test_regenerate_only_pins_every_field_and_keeps_the_seed() -> None:
    manifest = {"request": {"prompt": "harbour", "quality": "final", "options": {"music": {"bars": 8}}},
                "seed": 4_000_000_000, "latent": {"tempo_bpm": 90.0, "mode": "minor", "seed": 4_000_000_000}}
    spec = packinfo.regenerate_spec(manifest, ["music"])
    assert spec.prompt == "harbour" and spec.seed == 4_000_000_000 and spec.quality == "final"
    assert spec.pins == {"tempo_bpm": 90.0, "mode": "minor"} and list(spec.decoders) == ["music"]
    assert spec.options == {"music": {"bars": 8}}
    from_latent = packinfo.regenerate_spec({"request": {}, "seed": 3, "latent": {"mode": "major"}}, ["image"])
    assert from_latent.prompt is None and from_latent.latent == {"mode": "major"}


def test_collection_names_fit_blender() -> None:
    name = packinfo.collection_name({"pack_id": "abcdef0123456789", "request": {"prompt": "ü" * 300}})
    assert len(name.encode()) <= packinfo.NAME_MAX and name.endswith("[abcdef01]")


# ------------------------------------------------------------------ local engine


def test_local_engine_serves_and_stops(tmp_path: Path) -> None:
    """'Start local engine': a real `motif serve` child, reachable, stopped on request."""
    port = free_port()
    argv = engine_process.split_command(f"{sys.executable} -m engine_server.cli")
    eng = engine_process.LocalEngine(argv, f"127.0.0.1:{port}", tmp_path / "engine.log",
                                     extra_env={"MOTIF_STORE": str(tmp_path / "store"), "PYTHONPATH": str(ROOT)})
    eng.start()
    try:
        with MotifClient(f"127.0.0.1:{port}") as c:
            c.wait_ready(60)
            assert c.describe()["engine_version"]
    finally:
        eng.stop()
    assert not eng.running()
    assert "listening on 127.0.0.1" in (tmp_path / "engine.log").read_text()


def test_missing_engine_command_is_explained() -> None:
    with pytest.raises(engine_process.EngineStartError, match="Cannot find the engine command"):
        engine_process.split_command("motif-does-not-exist-anywhere")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_local_engine_dies_with_its_host(tmp_path: Path) -> None:
    """The host process is killed outright (no atexit): the kernel still takes the engine down."""
    host = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from motif_blender.engine_process import LocalEngine;"
        "e = LocalEngine([sys.executable, '-c', 'import time; time.sleep(120)'], '127.0.0.1:1', sys.argv[2]);"
        "e.start(); print(e.pid, flush=True);"
        "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    )
    out = subprocess.run([sys.executable, "-c", host, str(ROOT / "plugins" / "blender"), str(tmp_path / "log")],
                         capture_output=True, text=True, timeout=60)
    child = int(out.stdout.split()[0])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the engine outlived its host")


# ------------------------------------------------------------------ vendoring


def test_vendor_client_copies_the_one_source_and_detects_drift(tmp_path: Path) -> None:
    target = vendor_client.vendor(tmp_path)
    assert vendor_client.is_current(tmp_path)
    for src in vendor_client.source_files():
        rel = src.relative_to(vendor_client.SOURCE)
        assert (target / rel).read_bytes() == src.read_bytes()
    stamp = json.loads((target / vendor_client.STAMP).read_text())
    assert stamp["source"] == "motif_client"
    (target / "client.py").write_text("# edited by hand\n")
    assert not vendor_client.is_current(tmp_path)
    assert vendor_client.main(["--dest", str(tmp_path), "--check"]) == 1
    assert vendor_client.main(["--dest", str(tmp_path)]) == 0 and vendor_client.is_current(tmp_path)
    # the copy imports as a nested package with no engine on the path
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from vendor.motif_client import MotifClient; "
            "assert not any(m.startswith('engine_server') for m in sys.modules); print('ok')")
    nested = tmp_path / "pkg" / "vendor"
    vendor_client.vendor(nested)
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path / "pkg")], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0 and "ok" in res.stdout, res.stderr
