"""Shared fixtures: an isolated pack store and a real engine on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Ray (tests/test_ray.py): no usage reports, and every Ray process on loopback (read when ray is imported).
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


@pytest.fixture()
def store_root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture(scope="module")
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real `motif serve` engine (gRPC on 127.0.0.1) with its own store.

    Decoders run on the default executor (a warm worker process) unless the module sets ENGINE_EXECUTOR
    (or MOTIF_TEST_EXECUTOR is set): "inprocess" runs them on the engine's own thread. It is not the
    default: it saves ~0.5 s a module here, a decoder that crashes would take pytest down, and Cycles
    (bpy) run on a thread other than the main one leaves the interpreter to segfault at exit."""
    from engine_server.server import Engine

    executor = getattr(request.module, "ENGINE_EXECUTOR", os.environ.get("MOTIF_TEST_EXECUTOR", "local"))
    eng = Engine("127.0.0.1:0", store_root=tmp_path_factory.mktemp("engine-store"), executor=executor).start()
    yield eng
    eng.stop()


@pytest.fixture()
def client(engine: object) -> Iterator[object]:
    from motif_client import MotifClient

    with MotifClient(engine.address) as c:  # type: ignore[attr-defined]
        yield c


@pytest.fixture(scope="session", autouse=True)
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throw-away per-install C2PA identity, shared with subprocesses and worker processes."""
    from engine_server.provenance import keys

    folder = keys.create(tmp_path_factory.mktemp("c2pa-keys"))
    os.environ["MOTIF_KEYS_DIR"] = str(folder)
    return folder


RAY_NODE_ARGS = {"num_cpus": 2, "object_store_memory": 200 << 20, "node_ip_address": "127.0.0.1"}


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """A real Ray cluster on loopback, shared by the session: a head that runs no tasks (the front-end's
    node, as on KubeRay) and two worker nodes, one of them with Blender (the `blender` resource).
    Nodes are declared dead after ~1 s without a heartbeat, so a removed node's tasks re-run quickly."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={
        **RAY_NODE_ARGS, "num_cpus": 0, "include_dashboard": False,
        "_system_config": {"health_check_initial_delay_ms": 0, "health_check_period_ms": 300,
                           "health_check_failure_threshold": 3}})
    cluster.add_node(**RAY_NODE_ARGS)
    cluster.add_node(**RAY_NODE_ARGS, resources={"blender": 1})
    cluster.wait_for_nodes()
    yield cluster
    cluster.shutdown()
