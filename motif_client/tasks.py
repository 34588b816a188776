"""Host-free task state machine: what a plugin's panel shows, and what its timer does each tick.

A plugin keeps only its host's UI and importer, behind the small `Host` interface; `TaskSession`
does the rest the same way in every host: one task at a time (describe, encode, generate, fetch,
re-attach, or a local import), the status line and progress bar, the connection line, the job a
host should remember for a re-attach after a crash, the pack feed, the local engine, and the pack
import run a slice per tick so the host's UI stays responsive.

The host calls `tick()` from its main-thread timer (Blender: `bpy.app.timers`) and reschedules it
after the interval it returns (None: nothing left to do until the next task).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .engine_process import EngineStartError, LocalEngine, start_local
from .runner import DOWNLOAD_END, Busy, JobRunner, UIEvent

TICK_S = 0.1  # while a task runs
FEED_TICK_S = 0.5  # while only the pack feed runs
IMPORT_SLICE_S = 0.05  # main-thread time per tick for an import in progress
LOCAL_ENGINE_WAIT_S = 60.0
FEED_ROWS = 50
# Errors after which the job may well still run in the engine: keep remembering it for a re-attach.
_REACHABILITY = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "UNAUTHENTICATED"})
_STARTING = {"describe": "Connecting…", "encode": "Encoding…", "generate": "Starting…", "fetch": "Downloading…",
             "reattach": "Re-attaching…", "import": "Importing…"}


@dataclass
class Status:
    """What the panel and the status bar show."""

    busy: bool = False
    fraction: float = 0.0
    text: str = ""
    level: str = "INFO"  # INFO | WARNING | ERROR
    task: str = ""
    connection_text: str = ""
    connection_ok: bool | None = None
    last_import: str = ""  # what the last import made (a host's collection or bin name)
    feed: list[dict[str, Any]] = field(default_factory=list)  # the pack feed, newest first
    feed_text: str = ""  # why the feed stopped, if it did

    def set(self, text: str, level: str = "INFO") -> None:
        self.text = text
        self.level = level


class ImportJob(Protocol):
    """A host's import of one pack, run as small steps on the main thread."""

    def steps(self) -> Iterator[tuple[float, str]]: ...

    def abort(self) -> None: ...


class Host(Protocol):
    """What a plugin implements: its UI, its importer, and where it keeps a running job's id."""

    def notify(self, level: str, message: str) -> None:
        """Report a finished task (status bar, info log)."""

    def refresh(self, progress_text: str | None) -> None:
        """Redraw the panels; show `progress_text` in the host's status bar (None: clear it)."""

    def on_event(self, ev: UIEvent, context: Mapping[str, Any]) -> None:
        """Host-specific state from an event (Describe -> modalities, encoded -> latent fields)."""

    def begin_import(self, pack_dir: Path, manifest: Mapping[str, Any], context: Mapping[str, Any]) -> ImportJob:
        """Start importing a downloaded pack (raise with a sentence if it cannot start)."""

    def imported(self, job: ImportJob, manifest: Mapping[str, Any], pack_dir: Path,
                 context: Mapping[str, Any]) -> str:
        """The import finished: record it (history) and return the sentence to report."""

    def remember_job(self, context: Mapping[str, Any], job: Mapping[str, Any] | None) -> None:
        """Keep {job_id, seq} of the running job where it survives a crash (None: forget it)."""


class TaskSession:
    """One plugin's tasks: started by its buttons, advanced by its timer."""

    def __init__(self, host: Host, runner: JobRunner, import_slice_s: float = IMPORT_SLICE_S) -> None:
        self.host = host
        self.runner = runner
        self.import_slice_s = import_slice_s
        self.status = Status()
        self.local_engine: LocalEngine | None = None
        self.importing: ImportJob | None = None
        self._import_steps: Iterator[tuple[float, str]] | None = None
        self._import_context: dict[str, Any] = {}

    # ------------------------------------------------------------ starting and stopping

    def busy(self) -> bool:
        return self.runner.busy or self.importing is not None

    def point_at(self, address: str, token: str | None) -> None:
        """Use this engine for the next task (the running one keeps its own)."""
        if not self.runner.busy:
            self.runner.address, self.runner.token = address.strip(), token or None
        engine = self.local_engine
        local = engine is not None and engine.running() and engine.address == self.runner.address
        self.runner.ready_wait_s = LOCAL_ENGINE_WAIT_S if local else 0.0

    def start(self, kind: str, context: Mapping[str, Any], **kw: Any) -> int:
        """Start a runner task (describe, encode, generate, fetch, reattach); raises Busy or ValueError."""
        if self.busy():
            raise Busy("Motif is still working on the previous request; wait for it or press Cancel.")
        ctx = {**context, "started": time.monotonic()}
        r = self.runner
        if kind == "describe":
            task = r.describe(ctx)
        elif kind == "encode":
            task = r.encode(kw["prompt"], kw["seed"], kw.get("pins"), ctx)
        elif kind == "generate":
            ctx["spec"] = kw["spec"]
            task = r.generate(kw["spec"], ctx)
        elif kind == "fetch":
            task = r.fetch(kw["pack_id"], ctx)
        elif kind == "reattach":
            task = r.reattach(kw["job_id"], kw.get("from_seq", 0), ctx)
        else:
            raise ValueError(f"Unknown Motif task {kind!r}.")
        self._begin(kind)
        return task

    def import_pack(self, pack_dir: Path, manifest: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        """Import a pack whose files are on disk (no engine needed); runs through `tick` too."""
        if self.busy():
            raise Busy("Motif is still working on the previous request; wait for it or press Cancel.")
        self._begin("import")
        self._begin_import(Path(pack_dir), manifest, dict(context), advance=False)

    def _begin(self, kind: str) -> None:
        s = self.status
        s.busy, s.fraction, s.task = True, 0.0, kind
        s.set(_STARTING[kind])

    def cancel(self) -> bool:
        """Cancel whatever runs: the engine job / download, or an import in progress (undone)."""
        if self.importing is not None:
            self._abort_import()
            self._finish("WARNING", "Cancelled; the partial import was removed.")
            return True
        if self.runner.busy:
            self.runner.cancel()
            self.status.set("Cancelling…", "WARNING")
            self.host.refresh(None)
            return True
        return False

    def detach(self) -> str | None:
        """Leave the running job to the engine (the host's file is closing): an import in progress is
        undone, the job runs on and stays remembered for a re-attach. Returns its id, if any."""
        if self.importing is not None:
            self._abort_import()
        job_id = self.runner.detach()
        self.status.busy = self.busy()
        if job_id:
            self.status.set(f"Job {job_id[:8]} runs on in the engine; its pack will appear in the feed.")
        return job_id

    def shutdown(self) -> None:
        """The plugin goes away: detach, stop the feed and the local engine, forget the status."""
        self.detach()
        self.runner.stop_feed()
        self.stop_local_engine()
        self.status = Status()

    # ------------------------------------------------------------ the pack feed

    def watch_feed(self, last: int = 20) -> bool:
        self.status.feed_text = ""
        return self.runner.watch_feed(last)

    def stop_feed(self) -> None:
        self.runner.stop_feed()

    # ------------------------------------------------------------ local engine

    def start_local_engine(self, command: str, address: str, log_path: Path, token: str | None = None,
                           store_dir: str | None = None, quiet: bool = False) -> str | None:
        """Start `motif serve` unless ours runs; returns an error sentence or None."""
        if self.local_engine is not None and self.local_engine.running():
            return None
        s = self.status
        try:
            engine = start_local(command, address, log_path, token=token, store_dir=store_dir)
        except EngineStartError as exc:
            s.connection_text, s.connection_ok = str(exc), False
            if not quiet:
                self.host.notify("ERROR", str(exc))
            return str(exc)
        if engine is None:
            s.connection_text = (f"Something already listens on {address} (an engine you started?); "
                                 "Motif uses it instead of starting another.")
        else:
            self.local_engine = engine
            s.connection_text = f"Local engine starting on {address} (pid {engine.pid})…"
        s.connection_ok = None
        return None

    def stop_local_engine(self) -> None:
        if self.local_engine is not None:
            self.local_engine.stop()
            self.local_engine = None

    # ------------------------------------------------------------ the timer

    def tick(self) -> float | None:
        """Apply queued events and advance an import; the seconds until the next tick, or None."""
        for ev in self.runner.poll():
            try:
                self._apply(ev)
            except Exception as exc:  # never let the timer die with the task half-reported
                self._finish("ERROR", f"Motif could not apply the engine's result: {type(exc).__name__}: {exc}")
        if self.importing is not None:
            self._advance_import()
        if self.importing is not None:
            return 0.0  # straight back after the host has handled input and redrawn
        if self.busy():
            return TICK_S
        self.status.busy = False
        return FEED_TICK_S if self.runner.feeding else None

    def _apply(self, ev: UIEvent) -> None:
        ctx = self.runner.context
        s = self.status
        self.host.on_event(ev, ctx)
        if ev.kind in ("status", "queued", "progress", "download"):
            if ev.kind != "status":
                s.fraction = max(s.fraction, ev.fraction)
            s.set(ev.message, "WARNING" if self.runner.cancelling else "INFO")
            if ev.data.get("job_id") and self.runner.task_kind in ("generate", "reattach"):
                self.host.remember_job(ctx, {"job_id": ev.data["job_id"], "seq": int(ev.data.get("seq", -1))})
            self.host.refresh(f"Motif: {ev.message} ({s.fraction * 100:.0f}%)")
        elif ev.kind == "described":
            s.connection_text, s.connection_ok = ev.message, True
            self._finish("INFO", ev.message)
        elif ev.kind == "encoded":
            self._finish("INFO", ev.message)
        elif ev.kind == "pack":
            self._begin_import(Path(ev.data["pack_dir"]), ev.data["manifest"], ctx)
        elif ev.kind == "error":
            if ev.code in _REACHABILITY or self.runner.task_kind == "describe":
                s.connection_text, s.connection_ok = self._with_engine_log(ev.message), False
            if ev.code not in _REACHABILITY:
                self.host.remember_job(ctx, None)
            self._finish("ERROR", self._with_engine_log(ev.message))
        elif ev.kind == "cancelled":
            self.host.remember_job(ctx, None)
            self._finish("WARNING", ev.message)
        elif ev.kind == "feed":
            pack = dict(ev.data["pack"])
            s.feed = [pack, *(p for p in s.feed if p.get("pack_id") != pack.get("pack_id"))][:FEED_ROWS]
            self.host.refresh(None)
        elif ev.kind == "feed_error":
            s.feed_text = ev.message
            self.host.refresh(None)

    def _with_engine_log(self, message: str) -> str:
        """If our local engine died, say so: it explains 'cannot reach' better than gRPC can."""
        engine = self.local_engine
        if engine is not None and not engine.running():
            return f"{message} {engine.exit_reason()}"
        return message

    # ------------------------------------------------------------ importing

    def _begin_import(self, pack_dir: Path, manifest: Mapping[str, Any], context: Mapping[str, Any],
                      advance: bool = True) -> None:
        try:
            job = self.host.begin_import(pack_dir, manifest, context)
            self._import_steps = job.steps()
        except Exception as exc:
            self._finish("ERROR", str(exc))
            return
        self.importing = job
        self._import_context = {**context, "pack_dir": pack_dir, "manifest": dict(manifest)}
        self.status.set("Importing…")
        if advance:
            self._advance_import()

    def _advance_import(self) -> None:
        assert self.importing is not None and self._import_steps is not None
        s = self.status
        deadline = time.monotonic() + self.import_slice_s
        try:
            while True:  # at least one step per tick, then as many as fit in the slice
                fraction, message = next(self._import_steps)
                s.set(message)
                s.fraction = fraction if s.task == "import" else max(
                    s.fraction, DOWNLOAD_END + (1 - DOWNLOAD_END) * fraction)
                self.host.refresh(None)
                if time.monotonic() >= deadline:
                    break
        except StopIteration:
            job, ctx = self.importing, self._import_context
            self.importing, self._import_steps = None, None
            message = self.host.imported(job, ctx["manifest"], ctx["pack_dir"], ctx)
            self.host.remember_job(ctx, None)
            self._finish("INFO", message)
        except Exception as exc:
            self.importing, self._import_steps = None, None
            self.host.remember_job(self._import_context, None)
            self._finish("ERROR", str(exc))

    def _abort_import(self) -> None:
        job, self.importing, self._import_steps = self.importing, None, None
        if job is not None:
            job.abort()

    def _finish(self, level: str, message: str) -> None:
        s = self.status
        s.busy = self.busy()
        s.fraction = 1.0 if level == "INFO" else s.fraction
        s.set(message, level)
        self.host.refresh(None)
        self.host.notify(level, message)
