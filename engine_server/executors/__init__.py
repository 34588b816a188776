"""Executors: what runs a prepared job's decoders for the job manager (see base.py).

`make_executor` is the one place a name from `motif serve --executor` becomes an executor; the Ray one is
imported only when asked for, so the engine runs without Ray installed.
"""

from __future__ import annotations

from pathlib import Path

from engine_server.errors import InvalidArgument, quote
from engine_server.executors.base import Executor, Outcome, ProgressFn
from engine_server.executors.inprocess import InProcessExecutor
from engine_server.executors.local import LocalProcessExecutor

EXECUTORS = ("local", "inprocess", "ray")

__all__ = ["EXECUTORS", "Executor", "InProcessExecutor", "LocalProcessExecutor", "Outcome", "ProgressFn",
           "make_executor"]


def make_executor(kind: str = "local", *, ray_address: str = "auto", ray_shared_dir: Path | str | None = None,
                  cancel_grace_s: float = 1.5) -> Executor:
    """An executor by name (not started: the caller calls `start()` and reports its error)."""
    if kind == "local":
        return LocalProcessExecutor(cancel_grace_s)
    if kind == "inprocess":
        return InProcessExecutor()
    if kind == "ray":
        from engine_server.executors.ray_cluster import RayExecutor

        return RayExecutor(ray_address, shared_dir=ray_shared_dir, cancel_grace_s=cancel_grace_s)
    raise InvalidArgument(f"Unknown executor {quote(kind)}; choose one of {', '.join(EXECUTORS)}.")
