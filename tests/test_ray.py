"""The same engine on a Ray cluster: real nodes on loopback (conftest.ray_cluster), a real engine on top.

A pack made through the Ray executor has the same content, asset by asset, as the local executor's;
a job whose node dies mid-task is re-run elsewhere and still makes the same bytes; a cancel stops the
task on its node; pack.json names the executor and the node of each asset; Ray missing, no cluster
at the address and a task out of memory are each a sentence, and the front-end keeps serving.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine_server import replay
from engine_server.errors import FailedPrecondition
from engine_server.executors.ray_cluster import RayExecutor
from engine_server.provenance.verify import verify_pack
from engine_server.server import Engine
from motif_client import EngineError, MotifClient

CHEAP = {"mesh": {"texture_size": 512, "assets": 5}, "music": {"bars": 2}}
PROMPT = "a misty harbour at dawn"


@pytest.fixture(scope="module")
def ray_engine(ray_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """`motif serve --executor ray --ray-address <the test cluster>` on 127.0.0.1:0."""
    eng = Engine("127.0.0.1:0", store_root=tmp_path_factory.mktemp("ray-store"), executor="ray",
                 ray_address=ray_cluster.address, workers=2).start()
    yield eng
    eng.stop()


@pytest.fixture(scope="module")
def local_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The default executor (a warm worker process), for the same requests on another store."""
    before = os.environ.get("MOTIF_WORKER_WARM_UP")
    os.environ["MOTIF_WORKER_WARM_UP"] = "0"  # read by the worker when it starts; these jobs render nothing
    eng = Engine("127.0.0.1:0", store_root=tmp_path_factory.mktemp("local-store"), executor="local").start()
    yield eng
    eng.stop()
    if before is None:
        os.environ.pop("MOTIF_WORKER_WARM_UP", None)
    else:
        os.environ["MOTIF_WORKER_WARM_UP"] = before


def _make(engine: Engine, **kwargs: Any) -> dict[str, Any]:
    with MotifClient(engine.address) as c:
        events = list(c.generate(**kwargs))
    assert events[-1].kind == "done", events[-1]
    return json.loads((engine.store.pack_dir(events[-1].manifest["pack_id"]) / "pack.json").read_text())


def _contents(manifest: dict[str, Any]) -> dict[str, str]:
    """Each asset's bytes before the per-install C2PA label (what any install reproduces)."""
    return {a["path"]: a["meta"]["content_sha256"] for a in manifest["assets"] if a["role"] != "provenance"}


def _worker_nodes(cluster: Any) -> set[str]:
    return {n.node_id for n in cluster.worker_nodes}


def test_ray_pack_has_the_local_content_and_names_executor_and_nodes(ray_engine: Engine, local_engine: Engine,
                                                                      ray_cluster: Any) -> None:
    request = {"prompt": PROMPT, "seed": 7, "decoders": ["mesh", "music"], "options": CHEAP}
    on_ray, here = _make(ray_engine, **request), _make(local_engine, **request)
    assert on_ray["pack_id"] == here["pack_id"], "the executor is not part of the pack's identity"
    differ = sorted(p for p, digest in _contents(on_ray).items() if _contents(here).get(p) != digest)
    assert not differ and _contents(on_ray).keys() == _contents(here).keys() and len(_contents(on_ray)) >= 10
    assert [a["path"] for a in on_ray["assets"]] == [a["path"] for a in here["assets"]]
    assert (on_ray["executor"], here["executor"]) == ("ray", "local")
    nodes = {a["meta"]["node"] for a in on_ray["assets"] if a["role"] != "provenance"}
    assert nodes <= _worker_nodes(ray_cluster), "every asset names the worker node that made it"
    assert {a["meta"]["node"] for a in here["assets"] if a["role"] != "provenance"} == {"local"}
    # `motif verify` and `motif replay` hold for a pack made on the cluster
    findings = verify_pack(ray_engine.store.pack_dir(on_ray["pack_id"]))
    assert findings and all(f.ok for f in findings), [f for f in findings if not f.ok]
    rows = replay.replay(ray_engine.store, on_ray, _encoder())
    assert rows and all(r.equal for r in rows), [r for r in rows if not r.equal]


def test_files_through_a_shared_folder_have_the_same_bytes(ray_cluster: Any, local_engine: Engine,
                                                          ray_engine: Engine, tmp_path: Path) -> None:
    """--ray-shared-dir: the files go through a folder every node mounts (here the same disk), not the
    object store; the pack is the same, and the job's folder there is gone afterwards."""
    shared = tmp_path / "shared"
    shared.mkdir()
    request = {"prompt": PROMPT, "seed": 7, "decoders": ["mesh", "music"], "options": CHEAP}
    eng = Engine("127.0.0.1:0", store_root=tmp_path / "store", executor="ray", ray_address=ray_cluster.address,
                 ray_shared_dir=shared).start()
    try:
        through = _make(eng, **request)
    finally:
        eng.stop()
    assert _contents(through) == _contents(_make(local_engine, **request))
    assert through["executor"] == "ray" and not any(shared.iterdir())


def _encoder() -> Any:
    from engine_server.encoder import get_encoder

    return get_encoder()


def _has_blender(node_id: str) -> bool:
    import ray

    return any(n["NodeID"] == node_id and n["Resources"].get("blender") for n in ray.nodes())


def _add_node(cluster: Any, blender: bool) -> None:
    """Put back a worker node the session's other tests expect."""
    from tests.conftest import RAY_NODE_ARGS

    cluster.add_node(**RAY_NODE_ARGS, resources={"blender": 1} if blender else {})
    cluster.wait_for_nodes()


def _wait_dead(node_id: str, timeout_s: float = 30) -> None:
    import ray

    deadline = time.monotonic() + timeout_s
    while any(n["NodeID"] == node_id and n["Alive"] for n in ray.nodes()):
        assert time.monotonic() < deadline, "the cluster never noticed the node was gone"
        time.sleep(0.1)


def test_a_node_lost_mid_task_is_rerun_elsewhere_with_the_same_bytes(ray_engine: Engine, local_engine: Engine,
                                                                     ray_cluster: Any) -> None:
    request = {"prompt": "a lighthouse keeper's kit", "seed": 71, "decoders": ["probe"],
               "options": {"probe": {"sleep_s": 3.0, "steps": 30}}}
    executor = ray_engine.jobs.executor
    assert isinstance(executor, RayExecutor)
    with MotifClient(ray_engine.address) as c:
        stream = c.generate(**request)
        job_id = next(stream).job_id
        deadline = time.monotonic() + 30
        while not (where := executor.running_on(job_id)).get("probe"):
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.02)
        lost = next(n for n in ray_cluster.worker_nodes if n.node_id == where["probe"])
        blender_lost = _has_blender(lost.node_id)
        ray_cluster.remove_node(lost, allow_graceful=False)  # the machine is gone: no goodbye
        events = list(stream)
    assert events[-1].kind == "done", events[-1]
    _add_node(ray_cluster, blender_lost)
    on_ray = json.loads((ray_engine.store.pack_dir(events[-1].manifest["pack_id"]) / "pack.json").read_text())
    [asset] = [a for a in on_ray["assets"] if a["role"] == "probe"]
    assert asset["meta"]["node"] != lost.node_id, "the task was re-run on a node that is still there"
    assert _contents(on_ray) == _contents(_make(local_engine, **request))


def test_cancel_stops_the_task_on_its_node(ray_engine: Engine) -> None:
    import ray

    with MotifClient(ray_engine.address) as c:
        cpus = ray.cluster_resources()["CPU"]
        stream = c.generate(prompt="cancel me on the cluster", seed=72, decoders=["probe"],
                            options={"probe": {"sleep_s": 60, "steps": 600}})
        job_id = next(stream).job_id
        for ev in stream:
            if ev.kind == "progress" and "probe step" in ev.message:
                break
        assert ray.available_resources().get("CPU", 0) < cpus, "the task holds a CPU while it runs"
        started = time.monotonic()
        assert c.cancel(job_id) is True
        with pytest.raises(EngineError) as err:
            list(stream)
        assert err.value.code == "CANCELLED" and time.monotonic() - started < 5
        deadline = time.monotonic() + 10
        while ray.available_resources().get("CPU", 0) < cpus:  # the task let go of its node
            assert time.monotonic() < deadline, "the cancelled task still holds its CPU"
            time.sleep(0.1)
        assert c.describe()["engine_version"], "the front-end keeps serving"
        assert not any(ray_engine.store.staging_root.iterdir()), "a cancelled job leaves no files"


def test_a_decoder_no_node_can_run_fails_its_job_with_a_sentence(ray_engine: Engine, ray_cluster: Any) -> None:
    """Image renders need Blender: with no `blender` node left, the job says so instead of waiting forever."""
    blender = next(n for n in ray_cluster.worker_nodes if _has_blender(n.node_id))
    ray_cluster.remove_node(blender)
    _wait_dead(blender.node_id)
    try:
        with MotifClient(ray_engine.address) as c, pytest.raises(EngineError) as err:
            list(c.generate(prompt="a render with no renderer", seed=73, decoders=["image"],
                            options={"image": {"width": 64, "height": 64}}))
        assert err.value.code == "FAILED_PRECONDITION"
        assert "can run the image decoder" in err.value.message and '"blender": 1' in err.value.message
        assert c_describes(ray_engine)
    finally:
        _add_node(ray_cluster, blender=True)


def c_describes(engine: Engine) -> bool:
    with MotifClient(engine.address) as c:
        return bool(c.describe()["engine_version"])


def test_a_task_out_of_memory_fails_its_job_with_a_sentence(ray_engine: Engine, ray_cluster: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A node whose memory monitor finds it full kills the task that filled it, every retry too: the job ends
    RESOURCE_EXHAUSTED with a sentence and the front-end keeps serving. The node's threshold sits 1.5 GiB above
    what the machine uses now and the task fills 4 GiB, so only the task trips it (a threshold below what the
    machine already uses keeps a raylet in a state Ray does not survive reliably)."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from tests.conftest import RAY_NODE_ARGS

    meminfo = {k: int(v.split()[0]) << 10 for k, v in
               (line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())}
    total = meminfo["MemTotal"]
    threshold = (total - meminfo["MemAvailable"] + (3 << 29)) / total
    with monkeypatch.context() as env:  # read by that node's raylet when it starts
        env.setenv("RAY_memory_usage_threshold", f"{threshold:.4f}")
        env.setenv("RAY_memory_monitor_refresh_ms", "50")
        full = ray_cluster.add_node(**RAY_NODE_ARGS)
    ray_cluster.wait_for_nodes()

    @ray.remote(num_cpus=2)
    class Hold:  # keeps the healthy nodes busy, so the job's task can only go to the full one
        def ready(self) -> bool:
            return True

    holds = [Hold.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n.node_id, soft=False)).remote()
             for n in ray_cluster.worker_nodes if n is not full]
    try:
        ray.get([h.ready.remote() for h in holds], timeout=60)
        with MotifClient(ray_engine.address) as c:
            with pytest.raises(EngineError) as err:
                list(c.generate(prompt="too big for its node", seed=74, decoders=["probe"], timeout_s=240,
                                options={"probe": {"sleep_s": 20, "steps": 50, "hold_mb": 4096}}))
            assert err.value.code == "RESOURCE_EXHAUSTED", err.value.message
            assert "probe decoder ran out of memory on its Ray node" in err.value.message
            assert c.describe()["engine_version"], "the front-end keeps serving"
    finally:
        for h in holds:
            ray.kill(h)
        ray_cluster.remove_node(full)


def test_a_job_no_node_can_take_yet_says_it_waits_then_runs(ray_engine: Engine, ray_cluster: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Every worker node busy: the job says what it waits for (not a silent stall), then runs when one frees."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    @ray.remote(num_cpus=2)
    class Hold:
        def ready(self) -> bool:
            return True

    executor = ray_engine.jobs.executor
    assert isinstance(executor, RayExecutor)
    monkeypatch.setattr(executor, "wait_notice_s", 1.0)
    holds = [Hold.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n.node_id, soft=False)).remote()
             for n in ray_cluster.worker_nodes]
    ray.get([h.ready.remote() for h in holds], timeout=60)
    try:
        with MotifClient(ray_engine.address) as c:
            events = c.generate(prompt="the cluster is busy", seed=76, decoders=["probe"], timeout_s=120)
            waiting = next(ev for ev in events if "waiting for a Ray node" in ev.message)
            assert waiting.stage == "probe" and "1 CPU(s) free" in waiting.message, waiting
            for h in holds:
                ray.kill(h)
            holds = []
            rest = list(events)
        assert rest[-1].kind == "done", rest[-1]
        assert not any("waiting" in ev.message for ev in rest), "the notice is said once"
    finally:
        for h in holds:
            ray.kill(h)


def test_ray_missing_is_a_sentence_before_the_engine_binds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` does where it is not installed
    with pytest.raises(FailedPrecondition) as err:
        Engine("127.0.0.1:0", store_root=tmp_path / "store", executor="ray", load_encoder=False)
    assert "needs Ray, which is not installed" in err.value.message and "make setup" in err.value.message


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_with_no_cluster_at_the_address_says_so_at_start(tmp_path: Path) -> None:
    address = f"127.0.0.1:{_free_port()}"  # nothing listens there
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "engine_server.cli", "serve", "--address", f"127.0.0.1:{_free_port()}",
         "--store", str(tmp_path / "store"), "--executor", "ray", "--ray-address", address],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"No Ray cluster answers at {address}" in proc.stderr and "--ray-address local" in proc.stderr
    assert time.monotonic() - started < 60
