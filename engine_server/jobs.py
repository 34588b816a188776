"""The job queue, the jobs' journals, and the slots that hand jobs to an executor.

What runs a job's decoders is an executor (engine_server.executors), injected here: by default a warm
child process per slot (a decoder that crashes cannot take the server down), in-process for tests and
benchmarks, or a Ray cluster. A job is queued, runs on a free slot, and ends in exactly one of done,
failed, cancelled or interrupted. Jobs belong to the engine, not to the RPC that asked: a client
that goes away detaches and may re-attach later (`Job.wait_events` from any seq), because every
event goes through the job's durable journal in the store (engine_server.journal). Jobs the engine
was running when it died are read back at start as `interrupted`, and `resume` runs their request
again as a new job (same request and seed, so the same pack). Cancelling asks the executor to stop
the decoders (each executor says how). Files are only committed to the store, here, after the
decoders finished, so cancelled or crashed jobs leave nothing.
"""

from __future__ import annotations

import base64
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine_server import failpoints, pipeline
from engine_server.errors import (
    Aborted,
    Cancelled,
    FailedPrecondition,
    InvalidArgument,
    MotifError,
    NotFound,
)
from engine_server.executors import Executor, LocalProcessExecutor
from engine_server.journal import STATES, Journal, JournalEvent, job_folders
from engine_server.pipeline import JobSpec, PreparedJob
from engine_server.store import PackStore

log = logging.getLogger("motif.jobs")
# Ended jobs whose journals are kept in the store (the oldest beyond this are removed at start).
KEEP_ENDED_JOBS = 500
RESUMABLE = frozenset({"interrupted", "failed", "cancelled"})


def spec_record(spec: JobSpec) -> dict[str, Any]:
    """A JobSpec as JSON, so an interrupted job can be made again from its journal (input files included)."""
    return {"prompt": spec.prompt, "latent": dict(spec.latent) if spec.latent is not None else None,
            "pins": dict(spec.pins), "seed": spec.seed, "decoders": list(spec.decoders), "quality": spec.quality,
            "options": {k: dict(v) for k, v in spec.options.items()}, "inputs": _to_json(spec.inputs)}


def spec_from_record(record: Mapping[str, Any]) -> JobSpec:
    return JobSpec(prompt=record["prompt"], latent=record["latent"], pins=record["pins"], seed=record["seed"],
                   decoders=tuple(record["decoders"]), quality=record["quality"], options=record["options"],
                   inputs=_from_json(record.get("inputs") or {}))


def _to_json(value: Any) -> Any:
    """Bytes (an uploaded edit or hum) as {"base64": ...}; everything else as it is."""
    if isinstance(value, bytes | bytearray):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"base64"}:
            return base64.b64decode(value["base64"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


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
    """Queue + slots + every job's journal. Thread-safe; one instance per server.

    `workers` is how many jobs run at once (one slot thread each); `executor` runs them (default: a warm
    child process per slot) and is closed with the manager."""

    def __init__(self, store: PackStore, workers: int = 1, cancel_grace_s: float = 1.5,
                 on_commit: Callable[[str], None] | None = None, executor: Executor | None = None) -> None:
        self.store = store
        self.cancel_grace_s = cancel_grace_s
        self.executor = executor or LocalProcessExecutor(cancel_grace_s)
        self.on_commit = on_commit or (lambda pack_id: None)
        self._lock = threading.Condition()
        self._pending: list[Job] = []
        self._jobs: dict[str, Job] = {}
        self._closing = False
        self._load_journals()
        self._slots = list(range(max(1, workers)))
        self._threads = [
            threading.Thread(target=self._dispatch, args=(slot,), name=f"motif-slot-{slot}", daemon=True)
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
        self.executor.close()

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

    def _dispatch(self, slot: int) -> None:
        try:
            self.executor.warm(slot)
        except Exception:  # the first job on this slot will say what is wrong
            log.exception("slot %s could not warm up", slot)
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

    def _run(self, slot: int, job: Job) -> None:
        """Run on a slot and commit; the job is finished only after its staging folder is gone."""
        assert job.prepared is not None
        outcome: MotifError | dict[str, Any]

        def on_progress(stage: str, fraction: float, message: str) -> None:
            job.emit("progress", stage=stage, fraction=fraction, message=message)

        with self.store.staging(job.id) as staging:
            result = self.executor.run(job.id, job.prepared, staging, on_progress, job.cancel_requested, slot)
            if isinstance(result, MotifError):
                outcome = result
            elif job.cancel_requested.is_set():
                outcome = Cancelled("The job was cancelled.")
            else:
                job.emit("progress", stage="commit", fraction=1.0, message="saving the pack")
                self.store.record_origin(job.pack_id, {"client": job.client, "job_id": job.id})
                outcome = pipeline.commit(self.store, job.prepared, staging, result,
                                          extra={"executor": self.executor.name})
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

