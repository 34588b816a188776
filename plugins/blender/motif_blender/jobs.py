"""Host-free job runner: engine calls on a worker thread, results as events on a queue.

Blender data may only be touched on the main thread and the UI must never wait on the network,
so the worker never imports bpy. It talks to the engine through an injected client (the vendored
`motif_client.MotifClient` in Blender, `motif_client.MotifClient` in tests) and posts
`UIEvent`s; the host drains them on its main thread (Blender: a `bpy.app.timers` function) and
applies them. Every task ends with exactly one terminal event (`TERMINAL`).
"""

from __future__ import annotations

import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
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

TERMINAL = frozenset({"described", "encoded", "pack", "error", "cancelled"})


class EngineClient(Protocol):
    """The part of `motif_client.MotifClient` the runner uses."""

    def describe(self) -> dict[str, Any]: ...

    def encode(self, prompt: str, seed: int = 0, pins: Mapping[str, Any] | None = None) -> dict[str, Any]: ...

    def generate(self, *args: Any, **kwargs: Any) -> Iterator[Any]: ...

    def cancel(self, job_id: str) -> bool: ...

    def get_pack(self, pack_id: str) -> dict[str, Any]: ...

    def wait_ready(self, timeout_s: float = 10.0) -> None: ...

    def download_pack(
        self, pack_id: str, dest_dir: Path, progress: Callable[[str, int, int], None] | None = None
    ) -> tuple[Path, dict[str, Any]]: ...

    def close(self) -> None: ...


ClientFactory = Callable[[str, "str | None", float], EngineClient]


@dataclass(frozen=True)
class UIEvent:
    """One thing the UI should show or do.

    kind: status | queued | progress | download | described | encoded | pack | error | cancelled
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


class Busy(RuntimeError):
    """A task is already running; the UI offers Cancel instead."""


class _Cancelled(Exception):
    pass


def error_text(exc: BaseException) -> tuple[str, str]:
    """(code, sentence) for any failure, preferring the client's EngineError wording."""
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None)
    if isinstance(code, str) and isinstance(message, str):
        return code, message
    if isinstance(exc, OSError):
        return "UNAVAILABLE", f"Cannot write the pack to disk: {exc}."
    return "INTERNAL", f"Unexpected error in the Motif add-on: {type(exc).__name__}: {exc}"


class JobRunner:
    """Runs one engine task at a time on a worker thread and queues its events.

    `poll()` is the only way results come back; it never blocks. `cancel()` never blocks either:
    the engine is told on a helper thread, and if the worker has not confirmed within
    CANCEL_GRACE_S the runner reports the cancel itself and ignores that worker from then on.
    """

    def __init__(
        self,
        client_factory: ClientFactory,
        address: str,
        token: str | None = None,
        cache_dir: Path | None = None,
        timeout_s: float = DESCRIBE_TIMEOUT_S,
    ) -> None:
        self._factory = client_factory
        self.address = address
        self.token = token or None
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.timeout_s = timeout_s
        self._events: queue.Queue[UIEvent] = queue.Queue()
        self._lock = threading.Lock()
        self._task_id = 0
        self._active: int | None = None  # task id whose events are still wanted
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._cancel_at = 0.0
        self._job_id: str | None = None
        self._remote_cancel_sent = False
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

    # ------------------------------------------------------------ tasks

    def describe(self, context: Mapping[str, Any] | None = None) -> int:
        """Test Connection: Describe the engine."""
        return self._start("describe", self._run_describe, (), context)

    def encode(
        self, prompt: str, seed: int, pins: Mapping[str, Any] | None = None, context: Mapping[str, Any] | None = None
    ) -> int:
        return self._start("encode", self._run_encode, (prompt, seed, dict(pins or {})), context)

    def generate(self, spec: GenerateSpec, context: Mapping[str, Any] | None = None) -> int:
        if self.cache_dir is None:
            raise ValueError("JobRunner needs a cache_dir to download packs into")
        return self._start("generate", self._run_generate, (spec,), context)

    def fetch(self, pack_id: str, context: Mapping[str, Any] | None = None) -> int:
        """Download a pack already in the engine's store (re-import of a pack whose files are gone)."""
        if self.cache_dir is None:
            raise ValueError("JobRunner needs a cache_dir to download packs into")
        return self._start("fetch", self._run_fetch, (pack_id,), context)

    def _start(self, kind: str, target: Callable[..., None], args: tuple[Any, ...],
               context: Mapping[str, Any] | None) -> int:
        with self._lock:
            if self._active is not None:
                raise Busy("Motif is still working on the previous request; wait for it or press Cancel.")
            self._task_id += 1
            task_id = self._task_id
            self._active = task_id
            self._cancel = threading.Event()
            self._cancel_at = 0.0
            self._job_id = None
            self._remote_cancel_sent = False
            self.task_kind = kind
            self.context = dict(context or {})
        self._thread = threading.Thread(
            target=self._guard, args=(task_id, target, args, self._cancel), name=f"motif-{kind}-{task_id}", daemon=True
        )
        self._thread.start()
        return task_id

    def cancel(self) -> bool:
        """Ask the running task to stop. Returns False when nothing is running."""
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

    def poll(self, limit: int = 1000) -> list[UIEvent]:
        """Events of the current task, oldest first; never blocks. Stale tasks' events are dropped."""
        out: list[UIEvent] = []
        while len(out) < limit:
            try:
                ev = self._events.get_nowait()
            except queue.Empty:
                break
            with self._lock:
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
            self._active = None  # the worker may still be stuck; its later events are dropped
        out.append(UIEvent("cancelled", task_id, "Cancelled. The engine did not confirm in time; "
                                                  "it stops the job when it notices."))

    # ------------------------------------------------------------ worker side

    def _post(self, ev: UIEvent) -> None:
        self._events.put(ev)

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

        threading.Thread(target=call, name="motif-cancel", daemon=True).start()

    def _guard(self, task_id: int, target: Callable[..., None], args: tuple[Any, ...],
               cancel: threading.Event) -> None:
        try:
            target(task_id, cancel, *args)
        except _Cancelled:
            self._post(UIEvent("cancelled", task_id, "Cancelled; nothing was imported."))
        except Exception as exc:
            code, message = error_text(exc)
            if code == "CANCELLED" or cancel.is_set():
                self._post(UIEvent("cancelled", task_id, "Cancelled; nothing was imported.", code="CANCELLED"))
            else:
                self._post(UIEvent("error", task_id, message, code=code))

    def _connect(self, task_id: int, client: EngineClient) -> dict[str, Any]:
        self._post(UIEvent("status", task_id, f"Connecting to {self.address}…"))
        if self.ready_wait_s > 0:
            self._post(UIEvent("status", task_id, f"Waiting for the local engine on {self.address}…"))
            client.wait_ready(self.ready_wait_s)
        return client.describe()

    def _run_describe(self, task_id: int, cancel: threading.Event) -> None:
        client = self._client()
        try:
            info = self._connect(task_id, client)
        finally:
            client.close()
        decoders = ", ".join(d["name"] for d in info.get("decoders", [])) or "none"
        self._post(UIEvent("described", task_id,
                           f"Connected: Motif engine {info.get('engine_version', '?')} at {self.address} "
                           f"(decoders: {decoders})", 1.0, data={"describe": info}))

    def _run_encode(self, task_id: int, cancel: threading.Event, prompt: str, seed: int,
                    pins: dict[str, Any]) -> None:
        client = self._client()
        try:
            info = self._connect(task_id, client)
            self._post(UIEvent("describe", task_id, data={"describe": info}))
            self._post(UIEvent("status", task_id, "Encoding the prompt…"))
            latent = client.encode(prompt, seed=seed, pins=pins)
        finally:
            client.close()
        if cancel.is_set():
            raise _Cancelled
        self._post(UIEvent("encoded", task_id, "Latent ready: edit fields and lock what must stay.", 1.0,
                           data={"latent": latent, "describe": info}))

    def _run_generate(self, task_id: int, cancel: threading.Event, spec: GenerateSpec) -> None:
        client = self._client()
        try:
            info = self._connect(task_id, client)
            self._post(UIEvent("describe", task_id, data={"describe": info}))
            check_decoders(spec.decoders, info, self.address)
            if cancel.is_set():
                raise _Cancelled
            manifest = self._stream(task_id, cancel, client, spec)
            pack_dir, manifest = self._download(task_id, cancel, client, manifest["pack_id"])
        finally:
            client.close()
        self._post(UIEvent("pack", task_id, f"Pack {manifest['pack_id'][:8]} downloaded; importing…", DOWNLOAD_END,
                           data={"pack_dir": str(pack_dir), "manifest": manifest}))

    def _run_fetch(self, task_id: int, cancel: threading.Event, pack_id: str) -> None:
        client = self._client()
        try:
            self._connect(task_id, client)
            pack_dir, manifest = self._download(task_id, cancel, client, pack_id, base=0.0)
        finally:
            client.close()
        self._post(UIEvent("pack", task_id, f"Pack {pack_id[:8]} downloaded; importing…", DOWNLOAD_END,
                           data={"pack_dir": str(pack_dir), "manifest": manifest}))

    def _stream(self, task_id: int, cancel: threading.Event, client: EngineClient,
                spec: GenerateSpec) -> dict[str, Any]:
        source: dict[str, Any] = {"latent": dict(spec.latent)} if spec.latent is not None else {"prompt": spec.prompt}
        stream = client.generate(
            **source, seed=spec.seed, pins=dict(spec.pins), decoders=list(spec.decoders),
            quality=spec.quality, options={k: dict(v) for k, v in spec.options.items()},
        )
        try:
            for ev in stream:
                if ev.job_id and self._job_id is None:
                    with self._lock:
                        self._job_id = ev.job_id
                if cancel.is_set():
                    self._cancel_remote(ev.job_id)
                    continue  # wait for the engine to confirm with CANCELLED
                if ev.kind == "queued":
                    where = "next" if ev.position == 0 else f"position {ev.position}"
                    self._post(UIEvent("queued", task_id, f"Queued ({where}, about {ev.estimated_seconds:.0f} s)",
                                       0.0, data={"job_id": ev.job_id}))
                elif ev.kind == "progress":
                    text = ev.message or ev.stage
                    self._post(UIEvent("progress", task_id, text, ev.fraction * GENERATE_SHARE,
                                       data={"stage": ev.stage}))
                elif ev.kind == "asset":
                    self._post(UIEvent("progress", task_id, f"{ev.asset.get('role', '')}: {ev.asset.get('path', '')}",
                                       GENERATE_SHARE, data={"stage": "asset"}))
                elif ev.kind == "done":
                    if cancel.is_set():
                        raise _Cancelled
                    return dict(ev.manifest)
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()
        if cancel.is_set():
            raise _Cancelled
        raise RuntimeError("the engine ended the stream without a result")

    def _download(self, task_id: int, cancel: threading.Event, client: EngineClient, pack_id: str,
                  base: float = GENERATE_SHARE) -> tuple[Path, dict[str, Any]]:
        assert self.cache_dir is not None
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._post(UIEvent("download", task_id, "Downloading the pack…", base))
        total = max(sum(int(a.get("bytes", 0)) for a in client.get_pack(pack_id).get("assets", [])), 1)
        received: dict[str, int] = {}

        def progress(path: str, done: int, size: int) -> None:
            if cancel.is_set():
                raise _Cancelled
            received[path] = done
            got = min(sum(received.values()) / total, 1.0)
            self._post(UIEvent("download", task_id, f"Downloading {path}", base + (DOWNLOAD_END - base) * got))

        try:
            pack_dir, manifest = client.download_pack(pack_id, self.cache_dir, progress)
        except _Cancelled:
            _remove_partials(self.cache_dir / pack_id)
            raise
        if cancel.is_set():
            raise _Cancelled
        return Path(pack_dir), manifest


def _remove_partials(folder: Path) -> None:
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
        raise _UserError(
            "INVALID_ARGUMENT",
            f"The engine at {address} has no {', '.join(repr(m) for m in missing)} decoder "
            f"(it has: {', '.join(have) or 'none'}). Untick it, or press Test Connection to refresh the list.",
        )
    if not requested and not any(d.get("default") for d in info.get("decoders", [])):
        raise _UserError(
            "INVALID_ARGUMENT",
            f"Pick at least one modality to generate; the engine at {address} has no default decoders.",
        )


class _UserError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
