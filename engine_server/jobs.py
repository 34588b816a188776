"""The job queue, the jobs' journals, and the worker processes that run decoders.

Decoding is heavy and can crash (a renderer, a synthesiser), so it never runs in the server
process: each worker slot owns one long-lived child process (kept warm so decoder imports are paid
once) fed over a pipe. A job is queued, runs on a free slot, and ends in exactly one of done,
failed, cancelled or interrupted. Jobs belong to the engine, not to the RPC that asked: a client
that goes away detaches and may re-attach later (`Job.wait_events` from any seq), because every
event goes through the job's durable journal in the store (engine_server.journal). Jobs the engine
was running when it died are read back at start as `interrupted`, and `resume` runs their request
again as a new job (same request and seed, so the same pack). Cancelling asks the decoder to stop
(it polls between steps); if it has not stopped within a grace period the child is killed and
replaced. Files are only committed to the store by the parent after the decoders finished, so
cancelled or crashed jobs leave nothing.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import shutil
import signal
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

from engine_server import failpoints, pipeline
from engine_server.errors import (
    Aborted,
    Cancelled,
    DecoderFailed,
    FailedPrecondition,
    InvalidArgument,
    MotifError,
    NotFound,
    error_from_code,
)
from engine_server.journal import STATES, Journal, JournalEvent, job_folders
from engine_server.pipeline import JobSpec, PreparedJob
from engine_server.store import PackStore, StagedFile

log = logging.getLogger("motif.jobs")
# Ended jobs whose journals are kept in the store (the oldest beyond this are removed at start).
KEEP_ENDED_JOBS = 500
RESUMABLE = frozenset({"interrupted", "failed", "cancelled"})


def spec_record(spec: JobSpec) -> dict[str, Any]:
    """A JobSpec as JSON, so an interrupted job can be made again from its journal."""
    return {"prompt": spec.prompt, "latent": dict(spec.latent) if spec.latent is not None else None,
            "pins": dict(spec.pins), "seed": spec.seed, "decoders": list(spec.decoders), "quality": spec.quality,
            "options": {k: dict(v) for k, v in spec.options.items()}}


def spec_from_record(record: Mapping[str, Any]) -> JobSpec:
    return JobSpec(prompt=record["prompt"], latent=record["latent"], pins=record["pins"], seed=record["seed"],
                   decoders=tuple(record["decoders"]), quality=record["quality"], options=record["options"])


@dataclass
class Job:
    """One job and its journal. `state` is one of journal.STATES."""

    id: str
    record: dict[str, Any]  # job.json: request, client, pack id, times
    journal: Journal
    prepared: PreparedJob | None = None  # None for jobs read back from a previous engine run
    state: str = "queued"
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    shutting_down: bool = False
    resumed_as: str = ""  # the job that ran this one's request again
    fraction: float = 0.0
    stage: str = ""
    message: str = ""
    manifest: dict[str, Any] | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def pack_id(self) -> str:
        return str(self.record["pack_id"])

    @property
    def client(self) -> str:
        return str(self.record.get("client", ""))

    @property
    def spec(self) -> JobSpec:
        return spec_from_record(self.record["spec"])

    @property
    def updated(self) -> float:
        return self.journal.events[-1].t if self.journal.events else float(self.record["created_unix"])

    def emit(self, kind: str, **data: Any) -> JournalEvent:
        """Journal an event, then wake every watcher."""
        event = self.journal.append(kind, data)
        self._note(event)
        with self._changed:
            self._changed.notify_all()
        return event

    def _note(self, event: JournalEvent) -> None:
        if event.kind == "progress":
            self.fraction, self.stage, self.message = (float(event.data["fraction"]), str(event.data["stage"]),
                                                       str(event.data["message"]))
        elif event.kind == "done":
            self.fraction, self.message = 1.0, "done"
        elif event.kind == "error":
            self.message = str(event.data["message"])

    def finish(self, state: str, kind: str, **data: Any) -> None:
        self.state = state
        if kind == "error":
            data["state"] = state
        self.emit(kind, **data)
        self.finished.set()

    def wait_events(self, from_seq: int, timeout: float) -> list[JournalEvent]:
        """Events from `from_seq` on; waits up to `timeout` when there are none yet (and the job is not over)."""
        with self._changed:
            if self.journal.next_seq <= from_seq and not self.finished.is_set():
                self._changed.wait(timeout)
        return self.journal.since(from_seq)


class JobManager:
    """Queue + worker slots + every job's journal. Thread-safe; one instance per server."""

    def __init__(self, store: PackStore, workers: int = 1, cancel_grace_s: float = 1.5,
                 on_commit: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.cancel_grace_s = cancel_grace_s
        self.on_commit = on_commit or (lambda pack_id: None)
        self._lock = threading.Condition()
        self._pending: list[Job] = []
        self._jobs: dict[str, Job] = {}
        self._closing = False
        self._load_journals()
        self._slots = [_WorkerSlot(i) for i in range(max(1, workers))]
        self._threads = [
            threading.Thread(target=self._dispatch, args=(slot,), name=f"motif-slot-{slot.index}", daemon=True)
            for slot in self._slots
        ]
        for t in self._threads:
            t.start()

    # ------------------------------------------------------------ journals

    def _load_journals(self) -> None:
        """Read back every job of earlier runs; one that never ended was cut off by the engine's death."""
        loaded: list[Job] = []
        for folder in job_folders(self.store.jobs):
            try:
                record, journal = Journal.load(folder)
            except (OSError, ValueError, KeyError) as exc:
                log.warning("skipping unreadable job journal %s: %s", folder, exc)
                continue
            job = Job(folder.name, record, journal)
            for event in journal.events:
                job._note(event)
            if journal.ended:
                end = journal.events[-1]
                job.state = "done" if end.kind == "done" else str(end.data.get("state", "failed"))
                if end.kind == "done":
                    job.manifest = self.store.get(job.pack_id) if self.store.exists(job.pack_id) else None
            else:
                was = "running" if any(e.kind == "progress" for e in journal.events) else "queued"
                job.finish("interrupted", "error", code=Aborted.code, message=(
                    f"The engine stopped while this job was {was} (it was killed, crashed or the machine lost "
                    f"power). Run `motif resume {job.id}` to make it again: the same request and seed give the "
                    "same pack."))
            job.finished.set()
            loaded.append(job)
        loaded.sort(key=lambda j: float(j.record["created_unix"]))
        self._jobs = {job.id: job for job in loaded}
        self._prune()
        for job in loaded:
            earlier = self._jobs.get(str(job.record.get("resumed_from", "")))
            if earlier is not None:
                earlier.resumed_as = job.id

    def _prune(self) -> None:
        """Forget the oldest ended jobs beyond KEEP_ENDED_JOBS, in memory and in the store."""
        ended = sorted((j for j in self._jobs.values() if j.finished.is_set()),
                       key=lambda j: float(j.record["created_unix"]))
        for old in ended[: max(0, len(ended) - KEEP_ENDED_JOBS)]:
            del self._jobs[old.id]
            shutil.rmtree(old.journal.folder, ignore_errors=True)

    def _new_job(self, prepared: PreparedJob, spec: JobSpec, client: str, extra: Mapping[str, Any]) -> Job:
        job_id = uuid.uuid4().hex[:16]
        record = {"job_id": job_id, "created_unix": round(time.time(), 3), "client": client,
                  "prompt": spec.prompt or "", "seed": prepared.seed, "decoders": list(prepared.decoders),
                  "pack_id": prepared.pack_id, "spec": spec_record(spec), **extra}
        return Job(job_id, record, Journal.create(self.store.jobs / job_id, record), prepared)

    # ------------------------------------------------------------ public

    def submit(self, prepared: PreparedJob, spec: JobSpec, client: str = "", **extra: Any) -> Job:
        """Queue a job (or answer it from the store at once when its pack already exists)."""
        with self._lock:
            if self._closing:
                raise FailedPrecondition("The engine is shutting down; start it again and retry.")
            job = self._new_job(prepared, spec, client, extra)
            self._jobs[job.id] = job
            if len(self._jobs) > KEEP_ENDED_JOBS + 50:  # now and then, not on every job
                self._prune()
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
            raise NotFound(f"There is no job {_short(job_id)} on this engine; `motif jobs` lists the jobs it knows.")
        return job

    def list(self, limit: int = 0, states: Sequence[str] = ()) -> list[Job]:
        """Jobs newest first, optionally only those in `states`."""
        unknown = set(states) - set(STATES)
        if unknown:
            raise InvalidArgument(f"Unknown job state(s) {', '.join(sorted(_short(s) for s in unknown))}; "
                                  f"known: {', '.join(STATES)}.")
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: float(j.record["created_unix"]), reverse=True)
        jobs = [j for j in jobs if not states or j.state in states]
        return jobs[:limit] if limit else jobs

    def resumable(self, job_id: str) -> Job:
        """The job to resume, or FailedPrecondition saying why it cannot be."""
        job = self.get(job_id)
        if job.state not in RESUMABLE:
            hint = f" Its pack is {job.pack_id}." if job.state == "done" else ""
            raise FailedPrecondition(
                f"Job {job.id} is {job.state}; only interrupted, failed or cancelled jobs can be resumed.{hint}")
        if job.resumed_as:
            raise FailedPrecondition(f"Job {job.id} was already resumed as job {job.resumed_as}; follow that one "
                                     f"with `motif watch {job.resumed_as}`.")
        return job

    def resume(self, job_id: str, prepared: PreparedJob) -> Job:
        """Run an ended job's request again as a new job that records where it came from."""
        with self._lock:
            old = self.resumable(job_id)
            new = self.submit(prepared, old.spec, old.client, resumed_from=old.id)
            old.resumed_as = new.id
        return new

    def cancel(self, job_id: str) -> bool:
        """Cancel a job; returns True if it was running. FailedPrecondition if it is already over."""
        job = self.get(job_id)
        with self._lock:
            if job.finished.is_set():
                raise FailedPrecondition(f"Job {job_id} has already ended ({job.state}); there is nothing to cancel.")
            job.cancel_requested.set()
            if job in self._pending:
                self._pending.remove(job)
                job.finish("cancelled", "error", code=Cancelled.code,
                           message="The job was cancelled before it started.")
                self._announce_positions()
                return False
        return True

    def close(self) -> None:
        """Stop: jobs still queued or running end as interrupted (resumable), not as failures."""
        with self._lock:
            self._closing = True
            for job in self._pending:
                job.finish("interrupted", "error", code=Aborted.code,
                           message=f"The engine was shut down before this job started; `motif resume {job.id}` "
                           "runs it again.")
            self._pending.clear()
            for job in self._jobs.values():
                if not job.finished.is_set():
                    job.shutting_down = True
                    job.cancel_requested.set()
            self._lock.notify_all()
        for t in self._threads:
            t.join(timeout=self.cancel_grace_s + 3)
        for slot in self._slots:
            slot.stop()

    # ------------------------------------------------------------ dispatch

    def _announce_positions(self, only: Job | None = None) -> None:
        """Tell queued jobs how many jobs must start before them, and a rough wait + run time."""
        running = [j for j in self._jobs.values() if j.state == "running" and j.prepared is not None]
        eta = sum(j.prepared.estimated_seconds for j in running if j.prepared) / len(self._slots)
        for index, job in enumerate(self._pending):
            assert job.prepared is not None
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
        assert job.prepared is not None
        outcome: MotifError | dict[str, Any]
        with self.store.staging(job.id) as staging:
            result = slot.run(job, staging, self.cancel_grace_s)
            if isinstance(result, MotifError):
                outcome = result
            elif job.cancel_requested.is_set():
                outcome = Cancelled("The job was cancelled.")
            else:
                job.emit("progress", stage="commit", fraction=1.0, message="saving the pack")
                self.store.record_origin(job.pack_id, {"client": job.client, "job_id": job.id})
                outcome = pipeline.commit(self.store, job.prepared, staging, result)
        if isinstance(outcome, MotifError):
            if isinstance(outcome, Cancelled) and job.shutting_down:
                job.finish("interrupted", "error", code=Aborted.code,
                           message=f"The engine was shut down while this job was running; `motif resume {job.id}` "
                           "runs it again.")
            else:
                state = "cancelled" if isinstance(outcome, Cancelled) else "failed"
                job.finish(state, "error", code=outcome.code, message=outcome.message)
        else:
            failpoints.hit("jobs.committed")
            self._finish_done(job, outcome, cached=False)
            self.on_commit(job.pack_id)

    def _finish_done(self, job: Job, manifest: dict[str, Any], cached: bool) -> None:
        for asset in manifest["assets"]:
            job.emit("asset", **{k: asset[k] for k in ("role", "path", "media_type", "bytes", "sha256")})
        job.manifest = manifest
        job.finish("done", "done", pack_id=manifest["pack_id"], cached=cached)


def _short(text: str, limit: int = 40) -> str:
    """Quote at most a short prefix of something a client sent."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


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
