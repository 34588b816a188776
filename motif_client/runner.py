"""Host-free job runner: engine calls off the host's UI path, results as events on a queue.

Every host (Blender, Unreal, Resolve, Live) may touch its own data only on its main thread, and its
UI must never wait on the network. So a task (describe, encode, generate, fetch, re-attach) is a
generator of small steps that talk to the engine through an injected client, and posts `UIEvent`s;
the host calls `poll()` from its timer on the main thread and applies them. Every task ends with
exactly one terminal event (`TERMINAL`).

Who runs the steps is pluggable (`Worker`): `ThreadWorker` (the default) runs a task on a daemon
thread, reading the engine's stream to its end; `TickWorker` runs no thread of its own: `poll()`
advances the task a slice at a time inside the host's timer (Ableton Live, where threads are
unwelcome). Sliced, a generate detaches from its stream after the first event and follows the job
with `WatchJob` slices of `slice_s`, resuming from the last event's seq, so no step waits on the
engine for longer than a slice or one short unary call. Both workers drive the same task code.

The pack feed (`watch_feed`) is a second, independent stream: every pack the engine commits, from
any host, posted as `feed` events until `stop_feed()`.

A host without a usable UI timer (Resolve's UIManager) ticks from a `Waker` instead: `JobRunner(wake=…)`
tells it of every event posted, and it asks the host's UI thread for a tick through the host's own queue.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# The progress bar: the engine's work up to GENERATE_SHARE, the download up to DOWNLOAD_END, and the
# host's import (not the runner's business) the rest.
GENERATE_SHARE = 0.8
DOWNLOAD_END = 0.9
DESCRIBE_TIMEOUT_S = 5.0
# After Cancel, how long to wait for the worker to confirm before the UI stops waiting anyway.
CANCEL_GRACE_S = 5.0
THREAD_PREFIX = "motif-runner-"  # names of a ThreadWorker's threads
# Feed events belong to no task; they carry this task id and are never dropped as stale.
FEED_TASK = 0

TERMINAL = frozenset({"described", "encoded", "pack", "error", "cancelled"})


class EngineClient(Protocol):
    """The part of `motif_client.MotifClient` the runner uses."""

    def describe(self) -> dict[str, Any]: ...

    def encode(self, prompt: str, seed: int = 0, pins: Mapping[str, Any] | None = None) -> dict[str, Any]: ...

    def generate(self, *args: Any, **kwargs: Any) -> Iterator[Any]: ...

    def score(self, *args: Any, **kwargs: Any) -> Iterator[Any]: ...

    def watch_job(self, job_id: str, from_seq: int = 0, timeout_s: float | None = None) -> Iterator[Any]: ...

    def watch_packs(self, last: int = 0) -> Iterator[dict[str, Any]]: ...

    def list_packs(self, limit: int = 0) -> list[dict[str, Any]]: ...

    def cancel(self, job_id: str) -> bool: ...

    def get_pack(self, pack_id: str) -> dict[str, Any]: ...

    def wait_ready(self, timeout_s: float = 10.0) -> None: ...

    def download_pack(
        self, pack_id: str, dest_dir: Path, progress: Callable[[str, int, int], None] | None = None
    ) -> tuple[Path, dict[str, Any]]: ...

    def close(self) -> None: ...


ClientFactory = Callable[[str, "str | None", float], EngineClient]
# A task as steps: each `next()` does a little work. A step that yields IDLE has nothing to do until
# time passes (a worker need not call it again this tick).
IDLE = "idle"
Steps = Iterator[str | None]


@dataclass(frozen=True)
class UIEvent:
    """One thing the UI should show or do.

    kind: status | describe | queued | progress | download | described | encoded | pack | error |
    cancelled | feed | feed_error. Events of an engine job carry data["job_id"] and data["seq"]
    (the journal position a re-attach resumes after).
    """

    kind: str
    task_id: int
    message: str = ""
    fraction: float = 0.0
    code: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.kind in TERMINAL


@dataclass(frozen=True)
class GenerateSpec:
    """What the Generate button asks for (the GenerateRequest of the proto, as plain values)."""

    prompt: str | None
    seed: int = 0
    pins: Mapping[str, Any] = field(default_factory=dict)
    decoders: Sequence[str] = ()
    quality: str = "draft"
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    latent: Mapping[str, Any] | None = None  # a full latent instead of the prompt (pins still apply)
    edit: EditSpec | None = None  # score to picture: the edit to score (then `latent` and `quality` are unused)
    hum: tuple[str, bytes] | None = None  # a hummed melody: (file name, audio bytes) the music is built on


@dataclass(frozen=True)
class EditSpec:
    """An edit for score to picture (the proto's EditInput): a timeline's or video's bytes and the hits."""

    file_name: str
    data: bytes
    hits: str = "all"


class Busy(RuntimeError):
    """A task is already running; the UI offers Cancel instead."""


class _Cancelled(Exception):
    pass


class _Detached(Exception):
    """The host stopped following this task (`detach`, or a cancel given up on); end it quietly."""


class UserError(Exception):
    """A refusal in words, before any work (same shape as the client's EngineError)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def error_text(exc: BaseException) -> tuple[str, str]:
    """(code, sentence) for any failure, preferring the client's EngineError wording."""
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None)
    if isinstance(code, str) and isinstance(message, str):
        return code, message
    if isinstance(exc, OSError):
        return "UNAVAILABLE", f"Cannot write the pack to disk: {exc}."
    return "INTERNAL", f"Unexpected error in the Motif plugin: {type(exc).__name__}: {exc}"


# ------------------------------------------------------------------ workers


class Worker(Protocol):
    """Runs task steps off the host's UI path.

    slice_s: None when a step may block until its engine call ends (a thread); otherwise the
    longest a stream read may last inside one step (the host's own tick).
    """

    slice_s: float | None

    def run(self, name: str, steps: Steps) -> None: ...

    def call_soon(self, fn: Callable[[], None]) -> None: ...

    def step(self, budget_s: float) -> bool: ...


class ThreadWorker:
    """Each task (and each quick side call, such as Cancel) on its own daemon thread."""

    slice_s: float | None = None

    def run(self, name: str, steps: Steps) -> None:
        threading.Thread(target=_exhaust, args=(steps,), name=name, daemon=True).start()

    def call_soon(self, fn: Callable[[], None]) -> None:
        threading.Thread(target=fn, name=f"{THREAD_PREFIX}call", daemon=True).start()

    def step(self, budget_s: float) -> bool:
        return False  # the threads need no help


class TickWorker:
    """No threads: `step()` (called by `JobRunner.poll()` from the host's timer) advances every
    task for up to `budget_s`, each engine read inside a step lasting at most `slice_s`."""

    def __init__(self, slice_s: float = 0.05) -> None:
        self.slice_s: float | None = slice_s
        self._tasks: list[Steps] = []
        self._calls: list[Callable[[], None]] = []

    @property
    def idle(self) -> bool:
        return not self._tasks and not self._calls

    def run(self, name: str, steps: Steps) -> None:
        self._tasks.append(steps)

    def call_soon(self, fn: Callable[[], None]) -> None:
        self._calls.append(fn)

    def step(self, budget_s: float) -> bool:
        calls, self._calls = self._calls, []
        for fn in calls:
            fn()
        deadline = time.monotonic() + budget_s
        for steps in list(self._tasks):
            while True:  # at least one step per task and tick, then as many as the budget allows
                try:
                    said = next(steps)
                except StopIteration:
                    self._tasks.remove(steps)
                    break
                if said == IDLE or time.monotonic() >= deadline:
                    break
        return not self.idle


def _exhaust(steps: Steps) -> None:
    for said in steps:
        if said == IDLE:
            time.sleep(0.05)


class Waker:
    """Ticks a host's UI thread without a UI timer: a daemon thread calls `post()` (the host's way to
    queue a call onto its UI thread) when `wake()` says an event was posted, or when the delay the last
    tick asked for has passed. One post at a time: the next waits until the host's handler reports
    `ticked(delay)`, so a busy UI thread never finds a pile of ticks queued."""

    def __init__(self, post: Callable[[], None]) -> None:
        self._post = post
        self._cond = threading.Condition()
        self._woken = self._pending = self._closed = False
        self._due: float | None = 0.0  # monotonic time of the next tick; None: only on a wake
        self._thread = threading.Thread(target=self._run, name=f"{THREAD_PREFIX}waker", daemon=True)

    def start(self) -> None:
        """Run the thread; the first tick is posted straight away."""
        self._thread.start()

    def wake(self) -> None:
        """Any thread: something happened (the runner posted an event); tick as soon as none is pending."""
        with self._cond:
            self._woken = True
            self._cond.notify()

    def ticked(self, delay: float | None) -> None:
        """The host's handler, after its tick: the post is taken; tick again after `delay` seconds (what
        `TaskSession.tick()` returned: 0.0 straight away, None only on a wake)."""
        with self._cond:
            self._pending = False
            self._due = None if delay is None else time.monotonic() + max(delay, 0.0)
            self._cond.notify()

    def close(self, timeout_s: float = 1.0) -> None:
        """Stop posting (a post already made may still arrive); waits for the thread to end."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _wait_s(self) -> float | None:
        """Seconds until the next post is due (0.0: now); None: until a wake or a tick."""
        if self._pending:
            return None
        if self._woken:
            return 0.0
        return None if self._due is None else max(self._due - time.monotonic(), 0.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (wait := self._wait_s()) != 0.0:
                    self._cond.wait(wait)
                if self._closed:
                    return
                self._pending, self._woken = True, False
            self._post()


# ------------------------------------------------------------------ the runner


class JobRunner:
    """Runs one engine task at a time (plus the pack feed) and queues their events.

    `poll()` is the only way results come back; it never blocks for longer than the tick budget.
    `cancel()` never blocks either: the engine is told through the worker, and if the task has not
    confirmed within CANCEL_GRACE_S the runner reports the cancel itself and ignores that task from
    then on. `detach()` stops following the job without cancelling it (the engine runs it on; a
    later `reattach()` picks it up from its journal).
    """

    def __init__(
        self,
        client_factory: ClientFactory,
        address: str,
        token: str | None = None,
        cache_dir: Path | None = None,
        timeout_s: float = DESCRIBE_TIMEOUT_S,
        *,
        worker: Worker | None = None,
        client_name: str = "",
        tick_budget_s: float = 0.02,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self._factory = client_factory
        self.address = address
        self.token = token or None
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.timeout_s = timeout_s
        self.worker: Worker = worker or ThreadWorker()
        self.client_name = client_name
        self.tick_budget_s = tick_budget_s
        # Called (on whichever thread posts) after each event is queued, e.g. `Waker.wake`.
        self.wake = wake
        self._events: queue.Queue[UIEvent] = queue.Queue()
        self._lock = threading.Lock()
        self._task_id = FEED_TASK
        self._active: int | None = None  # task id whose events are still wanted
        self._cancel = threading.Event()
        self._cancel_at = 0.0
        self._job_id: str | None = None
        self._next_seq = 0
        self._remote_cancel_sent = False
        self._feed: _Feed | None = None
        self.task_kind = ""
        self.context: dict[str, Any] = {}
        # When the host just started a local engine, wait this long for it to listen.
        self.ready_wait_s = 0.0

    # ------------------------------------------------------------ state

    @property
    def busy(self) -> bool:
        return self._active is not None

    @property
    def cancelling(self) -> bool:
        return self.busy and self._cancel.is_set()

    @property
    def job_id(self) -> str | None:
        """The engine job the current task follows (known from its first event)."""
        return self._job_id

    @property
    def next_seq(self) -> int:
        """The seq a re-attach of `job_id` should start from (one past the last event handled)."""
        return self._next_seq

    @property
    def feeding(self) -> bool:
        return self._feed is not None and not self._feed.stopped.is_set()

    # ------------------------------------------------------------ tasks

    def describe(self, context: Mapping[str, Any] | None = None) -> int:
        """Test Connection: Describe the engine."""
        return self._start("describe", self._run_describe, (), context)

    def encode(
        self, prompt: str, seed: int, pins: Mapping[str, Any] | None = None, context: Mapping[str, Any] | None = None
    ) -> int:
        return self._start("encode", self._run_encode, (prompt, seed, dict(pins or {})), context)

    def generate(self, spec: GenerateSpec, context: Mapping[str, Any] | None = None) -> int:
        self._need_cache()
        return self._start("generate", self._run_generate, (spec,), context)

    def fetch(self, pack_id: str, context: Mapping[str, Any] | None = None) -> int:
        """Download a pack already in the engine's store (one made elsewhere, or whose files are gone)."""
        self._need_cache()
        return self._start("fetch", self._run_fetch, (pack_id,), context)

    def reattach(self, job_id: str, from_seq: int = 0, context: Mapping[str, Any] | None = None) -> int:
        """Follow a job started earlier (by this host before a crash, or any client) from its journal,
        then download its pack like generate does."""
        self._need_cache()
        return self._start("reattach", self._run_reattach, (job_id, max(0, int(from_seq))), context,
                           follow=(job_id, max(0, int(from_seq))))

    def _need_cache(self) -> None:
        if self.cache_dir is None:
            raise ValueError("JobRunner needs a cache_dir to download packs into")

    def _start(self, kind: str, target: Callable[..., Steps], args: tuple[Any, ...],
               context: Mapping[str, Any] | None, follow: tuple[str, int] | None = None) -> int:
        with self._lock:
            if self._active is not None:
                raise Busy("Motif is still working on the previous request; wait for it or press Cancel.")
            self._task_id += 1
            task_id = self._task_id
            self._active = task_id
            self._cancel = threading.Event()
            self._cancel_at = 0.0
            self._job_id, self._next_seq = follow or (None, 0)
            self._remote_cancel_sent = False
            self.task_kind = kind
            self.context = dict(context or {})
            cancel = self._cancel
        steps = self._guarded(task_id, cancel, target(task_id, cancel, *args))
        self.worker.run(f"{THREAD_PREFIX}{kind}-{task_id}", steps)
        return task_id

    def cancel(self) -> bool:
        """Ask the running task to stop (and its engine job). Returns False when nothing is running."""
        with self._lock:
            if self._active is None or self._cancel.is_set():
                return self._active is not None
            self._cancel.set()
            self._cancel_at = time.monotonic()
            task_id = self._active
            job_id = self._job_id
        self._post(UIEvent("status", task_id, "Cancelling…"))
        if job_id:
            self._cancel_remote(job_id)
        return True

    def detach(self) -> str | None:
        """Stop following the current task without cancelling its engine job; returns that job's id.

        The task's later events are dropped and its stream is closed at its next step; the engine
        runs the job to the end (its pack appears in the feed), and `reattach` can follow it again.
        """
        with self._lock:
            if self._active is None:
                return None
            self._active = None
            job_id = self._job_id
        return job_id

    def poll(self, limit: int = 1000) -> list[UIEvent]:
        """Events of the current task and the feed, oldest first. Stale tasks' events are dropped.

        With a TickWorker this is also where the work happens (for about `tick_budget_s`)."""
        self.worker.step(self.tick_budget_s)
        out: list[UIEvent] = []
        while len(out) < limit:
            try:
                ev = self._events.get_nowait()
            except queue.Empty:
                break
            with self._lock:
                if ev.task_id != FEED_TASK:
                    if ev.task_id != self._active:
                        continue
                    if ev.terminal:
                        self._active = None
            out.append(ev)
        self._check_cancel_grace(out)
        return out

    def wait_idle(self, timeout_s: float) -> list[UIEvent]:
        """For tests and scripts: poll until the task finishes (or the timeout passes)."""
        events: list[UIEvent] = []
        deadline = time.monotonic() + timeout_s
        while self.busy and time.monotonic() < deadline:
            events += self.poll()
            if self.busy:
                time.sleep(0.02)
        return events

    def _check_cancel_grace(self, out: list[UIEvent]) -> None:
        with self._lock:
            if self._active is None or not self._cancel.is_set():
                return
            if time.monotonic() - self._cancel_at < CANCEL_GRACE_S:
                return
            task_id = self._active
            self._active = None  # the task may still be stuck; its later events are dropped
        out.append(UIEvent("cancelled", task_id, "Cancelled. The engine did not confirm in time; "
                                                  "it stops the job when it notices."))

    # ------------------------------------------------------------ the pack feed

    def watch_feed(self, last: int = 20, poll_s: float = 2.0) -> bool:
        """Start the pack feed: the newest `last` packs, then each pack the engine commits, as `feed`
        events (data["pack"]: a PackSummary dict). False if it already runs.

        On a thread it holds one WatchPacks stream; sliced (no threads) it asks ListPacks every
        `poll_s` seconds, as a stream would block the host's tick."""
        with self._lock:
            if self.feeding:
                return False
            self._feed = feed = _Feed(last, poll_s)
        self.worker.run(f"{THREAD_PREFIX}feed", self._guarded_feed(feed))
        return True

    def stop_feed(self) -> None:
        """End the feed (closes its stream); no feed events follow."""
        with self._lock:
            feed, self._feed = self._feed, None
        if feed is not None:
            feed.stop()

    def _guarded_feed(self, feed: _Feed) -> Steps:
        client: EngineClient | None = None
        try:
            client = self._client()
            feed.client = client
            steps = self._feed_polled(feed, client) if self.worker.slice_s else self._feed_stream(feed, client)
            yield from steps
        except Exception as exc:
            if not feed.stopped.is_set():
                code, message = error_text(exc)
                self._post(UIEvent("feed_error", FEED_TASK, f"The pack feed stopped: {message}", code=code))
        finally:
            feed.stopped.set()
            if client is not None:
                with contextlib.suppress(Exception):  # stop() may have closed it already
                    client.close()
            with self._lock:
                if self._feed is feed:
                    self._feed = None

    def _feed_stream(self, feed: _Feed, client: EngineClient) -> Steps:
        stream = client.watch_packs(last=feed.last)
        feed.stream = stream
        try:
            for summary in stream:
                if feed.stopped.is_set():
                    return
                self._post_feed(feed, summary)
                yield None
        finally:
            _close(stream)
        if not feed.stopped.is_set():
            raise UserError("UNAVAILABLE", f"the engine at {self.address} ended it (did it stop?). Refresh to "
                                           "watch again.")

    def _feed_polled(self, feed: _Feed, client: EngineClient) -> Steps:
        first = True
        while not feed.stopped.is_set():
            rows = client.list_packs(max(feed.last, 50))
            fresh = [r for r in reversed(rows) if str(r.get("pack_id", "")) not in feed.seen]  # oldest first
            if first:  # like WatchPacks(last=N): the newest N now, older ones never
                shown = fresh[len(fresh) - feed.last:] if feed.last else []
                feed.seen.update(str(r.get("pack_id", "")) for r in fresh[: len(fresh) - len(shown)])
                fresh, first = shown, False
            for summary in fresh:
                self._post_feed(feed, summary)
            next_look = time.monotonic() + feed.poll_s
            while time.monotonic() < next_look and not feed.stopped.is_set():
                yield IDLE

    def _post_feed(self, feed: _Feed, summary: Mapping[str, Any]) -> None:
        pack_id = str(summary.get("pack_id", ""))
        if pack_id and pack_id not in feed.seen:
            feed.seen.add(pack_id)
            self._post(UIEvent("feed", FEED_TASK, str(summary.get("prompt", "")), data={"pack": dict(summary)}))

    # ------------------------------------------------------------ task side

    def _post(self, ev: UIEvent) -> None:
        self._events.put(ev)
        if self.wake is not None:
            self.wake()

    def _client(self) -> EngineClient:
        return self._factory(self.address, self.token, self.timeout_s)

    def _cancel_remote(self, job_id: str) -> None:
        with self._lock:
            if self._remote_cancel_sent:
                return
            self._remote_cancel_sent = True

        def call() -> None:
            try:
                client = self._client()
                try:
                    client.cancel(job_id)
                finally:
                    client.close()
            except Exception:  # the job may have finished meanwhile; the stream tells
                return

        self.worker.call_soon(call)

    def _guarded(self, task_id: int, cancel: threading.Event, steps: Steps) -> Steps:
        try:
            yield from steps
        except _Detached:
            return
        except _Cancelled:
            self._post(UIEvent("cancelled", task_id, "Cancelled; nothing was imported."))
        except Exception as exc:
            code, message = error_text(exc)
            if code == "CANCELLED" or cancel.is_set():
                self._post(UIEvent("cancelled", task_id, "Cancelled; nothing was imported.", code="CANCELLED"))
            else:
                self._post(UIEvent("error", task_id, message, code=code, data=self._job_data()))

    def _job_data(self) -> dict[str, Any]:
        return {"job_id": self._job_id, "seq": self._next_seq - 1} if self._job_id else {}

    def _connect(self, task_id: int, client: EngineClient) -> Iterator[None]:
        self._post(UIEvent("status", task_id, f"Connecting to {self.address}…"))
        if self.ready_wait_s > 0:
            self._post(UIEvent("status", task_id, f"Waiting for the local engine on {self.address}…"))
            deadline = time.monotonic() + self.ready_wait_s
            while True:
                wait = min(self.worker.slice_s or self.ready_wait_s, max(deadline - time.monotonic(), 0.01))
                try:
                    client.wait_ready(wait)
                    break
                except Exception as exc:
                    if error_text(exc)[0] != "UNAVAILABLE" or time.monotonic() >= deadline:
                        raise
                yield None

    def _run_describe(self, task_id: int, cancel: threading.Event) -> Steps:
        client = self._client()
        try:
            yield from self._connect(task_id, client)
            info = client.describe()
        finally:
            client.close()
        decoders = ", ".join(d["name"] for d in info.get("decoders", [])) or "none"
        self._post(UIEvent("described", task_id,
                           f"Connected: Motif engine {info.get('engine_version', '?')} at {self.address} "
                           f"(decoders: {decoders})", 1.0, data={"describe": info}))

    def _run_encode(self, task_id: int, cancel: threading.Event, prompt: str, seed: int,
                    pins: dict[str, Any]) -> Steps:
        client = self._client()
        try:
            yield from self._connect(task_id, client)
            info = client.describe()
            self._post(UIEvent("describe", task_id, data={"describe": info}))
            self._post(UIEvent("status", task_id, "Encoding the prompt…"))
            yield None
            latent = client.encode(prompt, seed=seed, pins=pins)
        finally:
            client.close()
        if cancel.is_set():
            raise _Cancelled
        self._post(UIEvent("encoded", task_id, "Latent ready: edit fields and lock what must stay.", 1.0,
                           data={"latent": latent, "describe": info}))

    def _run_generate(self, task_id: int, cancel: threading.Event, spec: GenerateSpec) -> Steps:
        client = self._client()
        try:
            yield from self._connect(task_id, client)
            info = client.describe()
            self._post(UIEvent("describe", task_id, data={"describe": info}))
            check_decoders(spec.decoders, info, self.address)
            if cancel.is_set():
                raise _Cancelled
            yield None
            source: dict[str, Any] = (
                {"latent": dict(spec.latent)} if spec.latent is not None else {"prompt": spec.prompt})
            options = {k: dict(v) for k, v in spec.options.items()}
            stream = (client.score(
                spec.edit.file_name, spec.edit.data, prompt=spec.prompt, seed=spec.seed, hits=spec.edit.hits,
                pins=dict(spec.pins), decoders=list(spec.decoders), options=options,
                client=self.client_name or None) if spec.edit is not None else client.generate(
                **source, seed=spec.seed, pins=dict(spec.pins), decoders=list(spec.decoders),
                quality=spec.quality, options=options, client=self.client_name or None,
                **({"hum": spec.hum[1], "hum_name": spec.hum[0]} if spec.hum is not None else {}),
            ))
            manifest: dict[str, Any] = {}
            yield from self._follow(task_id, cancel, client, stream, manifest)
            yield from self._download(task_id, cancel, client, manifest["pack_id"], manifest)
        finally:
            client.close()

    def _run_reattach(self, task_id: int, cancel: threading.Event, job_id: str, from_seq: int) -> Steps:
        client = self._client()
        try:
            yield from self._connect(task_id, client)
            self._post(UIEvent("status", task_id, f"Re-attaching to job {job_id[:8]}…", 0.0,
                               data={"job_id": job_id, "seq": from_seq - 1}))
            manifest: dict[str, Any] = {}
            yield from self._follow(task_id, cancel, client, None, manifest)
            yield from self._download(task_id, cancel, client, manifest["pack_id"], manifest)
        finally:
            client.close()

    def _run_fetch(self, task_id: int, cancel: threading.Event, pack_id: str) -> Steps:
        client = self._client()
        try:
            yield from self._connect(task_id, client)
            client.describe()
            manifest: dict[str, Any] = {}
            yield from self._download(task_id, cancel, client, pack_id, manifest, base=0.0)
        finally:
            client.close()

    def _follow(self, task_id: int, cancel: threading.Event, client: EngineClient, stream: Iterator[Any] | None,
                manifest: dict[str, Any]) -> Steps:
        """Read the job's events until `done` (filling `manifest`).

        On a thread: `stream` (Generate), or one WatchJob stream, to the end. Sliced: Generate only
        until its first event names the job (closing it detaches; the job runs on), then WatchJob
        slices of `slice_s` from `next_seq`, each ended by its deadline, so no step waits longer."""
        sliced = self.worker.slice_s
        while True:
            from_generate = stream is not None
            if stream is None:
                assert self._job_id is not None
                stream = client.watch_job(self._job_id, self._next_seq, timeout_s=sliced)
            try:
                for ev in stream:
                    if self._handle(task_id, cancel, ev, manifest):
                        return
                    if not sliced:
                        yield None
                    elif from_generate:
                        break
                else:
                    raise RuntimeError("the engine ended the stream without a result")
            except Exception as exc:
                if not (sliced and self._job_id and error_text(exc)[0] == "DEADLINE_EXCEEDED"):
                    raise
            finally:
                _close(stream)
            stream = None
            yield None

    def _handle(self, task_id: int, cancel: threading.Event, ev: Any, manifest: dict[str, Any]) -> bool:
        """Post one engine event; True at `done`. Raises _Detached once the host stopped following."""
        with self._lock:
            if self._active != task_id:
                raise _Detached
            if ev.job_id and self._job_id is None:
                self._job_id = ev.job_id
            self._next_seq = max(self._next_seq, int(ev.seq) + 1)
        data = {"job_id": ev.job_id, "seq": int(ev.seq)}
        if cancel.is_set():
            self._cancel_remote(ev.job_id)
            if ev.kind == "done":
                raise _Cancelled
            return False  # wait for the engine to confirm with CANCELLED
        if ev.kind == "queued":
            where = "next" if ev.position == 0 else f"position {ev.position}"
            self._post(UIEvent("queued", task_id, f"Queued ({where}, about {ev.estimated_seconds:.0f} s)", 0.0,
                               data=data))
        elif ev.kind == "progress":
            self._post(UIEvent("progress", task_id, ev.message or ev.stage, ev.fraction * GENERATE_SHARE,
                               data={**data, "stage": ev.stage}))
        elif ev.kind == "asset":
            self._post(UIEvent("progress", task_id, f"{ev.asset.get('role', '')}: {ev.asset.get('path', '')}",
                               GENERATE_SHARE, data={**data, "stage": "asset"}))
        elif ev.kind == "done":
            manifest.update(ev.manifest)
            return True
        return False

    def _download(self, task_id: int, cancel: threading.Event, client: EngineClient, pack_id: str,
                  manifest: dict[str, Any], base: float = GENERATE_SHARE) -> Steps:
        assert self.cache_dir is not None
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        data = self._job_data()
        self._post(UIEvent("download", task_id, "Downloading the pack…", base, data=data))
        yield None
        total = max(sum(int(a.get("bytes", 0)) for a in client.get_pack(pack_id).get("assets", [])), 1)
        received: dict[str, int] = {}

        def progress(path: str, done: int, size: int) -> None:
            if cancel.is_set():
                raise _Cancelled
            received[path] = done
            got = min(sum(received.values()) / total, 1.0)
            self._post(UIEvent("download", task_id, f"Downloading {path}", base + (DOWNLOAD_END - base) * got,
                               data=data))

        try:
            pack_dir, got_manifest = client.download_pack(pack_id, self.cache_dir, progress)
        except _Cancelled:
            remove_partials(self.cache_dir / pack_id)
            raise
        if cancel.is_set():
            raise _Cancelled
        manifest.update(got_manifest)
        self._post(UIEvent("pack", task_id, f"Pack {pack_id[:8]} downloaded; importing…", DOWNLOAD_END,
                           data={**data, "pack_dir": str(pack_dir), "manifest": dict(got_manifest)}))


class _Feed:
    def __init__(self, last: int, poll_s: float) -> None:
        self.last = max(0, int(last))
        self.poll_s = poll_s
        self.seen: set[str] = set()
        self.stopped = threading.Event()
        self.client: EngineClient | None = None
        self.stream: Iterator[Any] | None = None

    def stop(self) -> None:
        """From any thread: a stream blocked in another thread ends when its channel closes."""
        self.stopped.set()
        client = self.client
        if client is not None:
            with contextlib.suppress(Exception):  # already closed
                client.close()


def _close(stream: Iterable[Any] | None) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        with contextlib.suppress(ValueError):  # a generator running on another thread closes itself
            close()


def remove_partials(folder: Path) -> None:
    """Drop `.part` files of an abandoned download; a pack without pack.json is dropped whole."""
    if not folder.exists():
        return
    if not (folder / "pack.json").exists():
        shutil.rmtree(folder, ignore_errors=True)
        return
    for part in folder.rglob("*.part"):
        part.unlink(missing_ok=True)


def check_decoders(requested: Sequence[str], info: Mapping[str, Any], address: str) -> None:
    """Refuse, in words, modalities this engine cannot make (before starting any work)."""
    have = [d["name"] for d in info.get("decoders", [])]
    missing = [name for name in requested if name not in have]
    if missing:
        raise UserError(
            "INVALID_ARGUMENT",
            f"The engine at {address} has no {', '.join(repr(m) for m in missing)} decoder "
            f"(it has: {', '.join(have) or 'none'}). Untick it, or press Test Connection to refresh the list.",
        )
    if not requested and not any(d.get("default") for d in info.get("decoders", [])):
        raise UserError(
            "INVALID_ARGUMENT",
            f"Pick at least one modality to generate; the engine at {address} has no default decoders.",
        )
