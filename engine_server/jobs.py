"""The job queue and the worker processes that run decoders.

Decoding is heavy and can crash (a renderer, a synthesiser), so it never runs in the server
process: each worker slot owns one long-lived child process (kept warm so decoder imports are paid
once) fed over a pipe. A job is queued, runs on a free slot, and ends in exactly one of done,
error or cancelled. Cancelling asks the decoder to stop (it polls between steps); if it has not
stopped within a grace period the child is killed and replaced. Files are only committed to the
store by the parent after the decoders finished, so cancelled or crashed jobs leave nothing.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

from engine_server import pipeline
from engine_server.errors import Cancelled, DecoderFailed, MotifError, NotFound, error_from_code
from engine_server.pipeline import PreparedJob
from engine_server.store import PackStore, StagedFile

log = logging.getLogger("motif.jobs")


@dataclass(frozen=True)
class JobEvent:
    """What a watcher of a job sees. kind: queued | progress | asset | done | error."""

    kind: str
    data: dict[str, Any]


@dataclass
class Job:
    id: str
    prepared: PreparedJob
    events: queue.Queue[JobEvent] = field(default_factory=queue.Queue)
    state: str = "queued"  # queued | running | done | failed | cancelled
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)

    def emit(self, kind: str, **data: Any) -> None:
        self.events.put(JobEvent(kind, data))

    def finish(self, state: str, kind: str, **data: Any) -> None:
        self.state = state
        self.emit(kind, **data)
        self.finished.set()


class JobManager:
    """Queue + worker slots. Thread-safe; one instance per server."""

    def __init__(self, store: PackStore, workers: int = 1, cancel_grace_s: float = 1.5) -> None:
        self.store = store
        self.cancel_grace_s = cancel_grace_s
        self._lock = threading.Condition()
        self._pending: list[Job] = []
        self._jobs: dict[str, Job] = {}
        self._closing = False
        self._slots = [_WorkerSlot(i) for i in range(max(1, workers))]
        self._threads = [
            threading.Thread(target=self._dispatch, args=(slot,), name=f"motif-slot-{slot.index}", daemon=True)
            for slot in self._slots
        ]
        for t in self._threads:
            t.start()

    # ------------------------------------------------------------ public

    def submit(self, prepared: PreparedJob) -> Job:
        job = Job(uuid.uuid4().hex[:16], prepared)
        with self._lock:
            self._jobs[job.id] = job
            if self.store.exists(prepared.pack_id):
                job.emit("queued", position=0, estimated_seconds=0.0)
                self._finish_done(job, self.store.get(prepared.pack_id), cached=True)
                return job
            self._pending.append(job)
            self._announce_positions(only=job)
            self._lock.notify_all()
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"There is no job {job_id!r} on this engine.")
        return job

    def cancel(self, job_id: str) -> bool:
        """Cancel a job; returns True if it was running. NotFound if unknown or already over."""
        job = self.get(job_id)
        with self._lock:
            if job.finished.is_set():
                raise NotFound(f"Job {job_id} has already finished ({job.state}); there is nothing to cancel.")
            job.cancel_requested.set()
            if job in self._pending:
                self._pending.remove(job)
                job.finish("cancelled", "error", code=Cancelled.code,
                           message="The job was cancelled before it started.")
                self._announce_positions()
                return False
        return True

    def close(self) -> None:
        with self._lock:
            self._closing = True
            for job in self._pending:
                job.finish("cancelled", "error", code="UNAVAILABLE", message="The engine is shutting down.")
            self._pending.clear()
            for job in self._jobs.values():
                job.cancel_requested.set()
            self._lock.notify_all()
        for t in self._threads:
            t.join(timeout=self.cancel_grace_s + 3)
        for slot in self._slots:
            slot.stop()

    # ------------------------------------------------------------ dispatch

    def _announce_positions(self, only: Job | None = None) -> None:
        """Tell queued jobs how many jobs must start before them, and a rough wait + run time."""
        running = [j for j in self._jobs.values() if j.state == "running"]
        eta = sum(j.prepared.estimated_seconds for j in running) / len(self._slots)
        for index, job in enumerate(self._pending):
            position = max(0, len(running) + index + 1 - len(self._slots))
            if only is None or job is only:
                job.emit("queued", position=position, estimated_seconds=eta + job.prepared.estimated_seconds)
            eta += job.prepared.estimated_seconds / len(self._slots)

    def _dispatch(self, slot: _WorkerSlot) -> None:
        slot.ensure_started()
        while True:
            with self._lock:
                while not self._pending and not self._closing:
                    self._lock.wait()
                if self._closing:
                    return
                job = self._pending.pop(0)
                job.state = "running"
                self._announce_positions()
            try:
                self._run(slot, job)
            except Exception as exc:  # a bug in the machinery must not kill the slot
                log.exception("job %s failed in the dispatcher", job.id)
                if not job.finished.is_set():
                    job.finish("failed", "error", code="INTERNAL", message=f"Engine error: {exc}")

    def _run(self, slot: _WorkerSlot, job: Job) -> None:
        """Run on a slot and commit; the job is finished only after its staging folder is gone."""
        outcome: MotifError | dict[str, Any]
        with self.store.staging(job.id) as staging:
            result = slot.run(job, staging, self.cancel_grace_s)
            if isinstance(result, MotifError):
                outcome = result
            elif job.cancel_requested.is_set():
                outcome = Cancelled("The job was cancelled.")
            else:
                job.emit("progress", stage="commit", fraction=1.0, message="saving the pack")
                outcome = pipeline.commit(self.store, job.prepared, staging, result)
        if isinstance(outcome, MotifError):
            state = "cancelled" if isinstance(outcome, Cancelled) else "failed"
            job.finish(state, "error", code=outcome.code, message=outcome.message)
        else:
            self._finish_done(job, outcome, cached=False)

    def _finish_done(self, job: Job, manifest: dict[str, Any], cached: bool) -> None:
        for asset in manifest["assets"]:
            job.emit("asset", **{k: asset[k] for k in ("role", "path", "media_type", "bytes", "sha256")})
        job.finish("done", "done", manifest=manifest, cached=cached)


class _WorkerSlot:
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

    def run(self, job: Job, staging: Path, grace_s: float) -> list[StagedFile] | MotifError:
        """Run one job to its end on this slot; restart the child if it died or would not stop."""
        self.ensure_started()
        assert self.conn is not None
        self.cancel_event.clear()
        self.conn.send((job.id, job.prepared, str(staging)))
        kill_at: float | None = None
        while True:
            if job.cancel_requested.is_set() and kill_at is None:
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
                if job.cancel_requested.is_set():
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
                job.emit("progress", stage=stage, fraction=fraction, message=message)
            elif kind == "done":
                return msg[1]
            elif kind == "error":
                return error_from_code(msg[1], msg[2])


def crash_error(exitcode: int | None) -> MotifError:
    if exitcode is None:
        how = "it stopped answering"
    elif exitcode >= 0:
        how = f"exit code {exitcode}"
    else:
        how = f"signal {-exitcode}"
    return DecoderFailed(
        f"A decoder crashed and its worker process stopped ({how}); the job failed, the engine is still running. "
        "Try again, or another seed; if it repeats, run `motif doctor`."
    )


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
        progress = _ThrottledProgress(conn)
        try:
            files = pipeline.run_decoders(prepared, Path(staging), progress, cancel_event.is_set)
            conn.send(("done", files))
        except MotifError as exc:
            conn.send(("error", exc.code, exc.message))
        except Exception as exc:
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            log.error("decoder failure in job %s:\n%s", job_id, traceback.format_exc())
            conn.send(("error", "INTERNAL", f"A decoder failed: {detail}"))


class _ThrottledProgress:
    """Forward progress to the parent at most every 50 ms (and always the final 1.0)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.last = 0.0

    def __call__(self, stage: str, fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - self.last >= 0.05 or fraction >= 1.0:
            self.last = now
            self.conn.send(("progress", stage, fraction, message))


def _exit_with_parent(parent_pid: int) -> None:
    """Never outlive the server: a watchdog thread exits when the parent is gone."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watchdog").start()
