"""Shared fixtures: an isolated pack store and a real engine on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture()
def store_root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real `motif serve` engine (gRPC on 127.0.0.1, one worker process) with its own store."""
    from engine_server.server import Engine

    eng = Engine("127.0.0.1:0", store_root=tmp_path_factory.mktemp("engine-store")).start()
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
