"""The local-process executor (the default): one warm child process per slot, fed over a pipe.

Decoding is heavy and can crash (a renderer, a synthesiser), so it runs outside the server process:
each slot owns one long-lived child (spawned, kept warm so decoder imports are paid once). At start
the child imports every decoder and runs its optional `warm_up`; `MOTIF_WORKER_WARM_UP=0` turns that
off on a machine short of memory. Cancelling asks the decoder to stop (it polls between steps); if it
has not stopped within a grace period the child is killed and replaced. A child that dies fails only
its job.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

from engine_server import pipeline
from engine_server.errors import Cancelled, MotifError, error_from_code
from engine_server.executors.base import (
    LOCAL_NODE,
    Executor,
    Outcome,
    ProgressFn,
    Throttle,
    crash_error,
    decoder_failure,
    made_on,
)
from engine_server.pipeline import PreparedJob

log = logging.getLogger("motif.executors")


class LocalProcessExecutor(Executor):
    name = "local"

    def __init__(self, cancel_grace_s: float = 1.5) -> None:
        self.cancel_grace_s = cancel_grace_s
        self.slots: dict[int, WorkerSlot] = {}
        self._lock = threading.Lock()

    def _slot(self, index: int) -> WorkerSlot:
        with self._lock:
            if index not in self.slots:
                self.slots[index] = WorkerSlot(index)
            return self.slots[index]

    def warm(self, slot: int) -> None:
        self._slot(slot).ensure_started()

    def run(self, job_id: str, prepared: PreparedJob, staging: Path, on_progress: ProgressFn,
            cancel: threading.Event, slot: int = 0) -> Outcome:
        outcome = self._slot(slot).run(job_id, prepared, staging, on_progress, cancel, self.cancel_grace_s)
        return outcome if isinstance(outcome, MotifError) else made_on(outcome, LOCAL_NODE)

    def close(self) -> None:
        with self._lock:
            slots = list(self.slots.values())
        for s in slots:
            s.stop()


class WorkerSlot:
    """One warm child process and the pipe to it."""

    _ctx = mp.get_context("spawn")

    def __init__(self, index: int) -> None:
        self.index = index
        self.process: Any = None
        self.conn: Connection | None = None
        self.cancel_event: MpEvent = self._ctx.Event()

    def ensure_started(self) -> None:
        if self.process is not None and self.process.is_alive():
            return
        parent_conn, child_conn = self._ctx.Pipe()
        self.cancel_event = self._ctx.Event()
        self.process = self._ctx.Process(
            target=worker_main, args=(child_conn, self.cancel_event, os.getpid()),
            name=f"motif-worker-{self.index}", daemon=True,
        )
        self.process.start()
        child_conn.close()
        self.conn = parent_conn

    def stop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError, BrokenPipeError):
                self.conn.send(None)
        if self.process is not None and self.process.pid is not None:
            self.process.join(timeout=2)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self.process = None

    def _kill(self) -> None:
        if self.process is not None and self.process.pid is not None:
            self.process.kill()
            self.process.join()
        self.process = None

    def run(self, job_id: str, prepared: PreparedJob, staging: Path, on_progress: ProgressFn,
            cancel: threading.Event, grace_s: float) -> Outcome:
        """Run one job to its end on this slot; restart the child if it died or would not stop."""
        self.ensure_started()
        assert self.conn is not None
        self.cancel_event.clear()
        self.conn.send((job_id, prepared, str(staging)))
        kill_at: float | None = None
        while True:
            if cancel.is_set() and kill_at is None:
                self.cancel_event.set()
                kill_at = time.monotonic() + grace_s
            if kill_at is not None and time.monotonic() > kill_at:
                self._kill()
                return Cancelled("The job was cancelled (the decoder was stopped).")
            try:
                ready = self.conn.poll(0.05)
                msg = self.conn.recv() if ready else None
            except (EOFError, OSError):
                code = None
                if self.process is not None:
                    self.process.join(timeout=1)
                    code = self.process.exitcode
                self._kill()
                if cancel.is_set():
                    return Cancelled("The job was cancelled.")
                return crash_error(code)
            if msg is None:
                if self.process is not None and not self.process.is_alive():
                    code = self.process.exitcode
                    self._kill()
                    return crash_error(code)
                continue
            kind = msg[0]
            if kind == "progress":
                _, stage, fraction, message = msg
                on_progress(stage, fraction, message)
            elif kind == "done":
                return list(msg[1])
            elif kind == "error":
                return error_from_code(msg[1], msg[2])


# ---------------------------------------------------------------- child side


def worker_main(conn: Connection, cancel_event: MpEvent, parent_pid: int) -> None:
    """Loop in the child: receive a job, run its decoders, send progress and the result."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the server, which stops us
    _exit_with_parent(parent_pid)
    if os.environ.get("MOTIF_WORKER_WARM_UP", "1") != "0":
        from engine_server.decoders import registry

        registry.warm_up()  # a job sent meanwhile waits in the pipe
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        job_id, prepared, staging = msg
        progress = Throttle(lambda stage, fraction, message: conn.send(("progress", stage, fraction, message)))
        try:
            files = pipeline.run_decoders(prepared, Path(staging), progress, cancel_event.is_set)
            conn.send(("done", files))
        except MotifError as exc:
            conn.send(("error", exc.code, exc.message))
        except Exception as exc:
            log.exception("decoder failure in job %s", job_id)
            err = decoder_failure(exc)
            conn.send(("error", err.code, err.message))


def _exit_with_parent(parent_pid: int) -> None:
    """Never outlive the server: a watchdog thread exits when the parent is gone."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watchdog").start()
