"""The add-on's live state and the timer that carries results from the worker to Blender.

`drain_events` is the one `bpy.app.timers` function: it empties the job runner's queue and applies
each event on the main thread (status, progress, latent, modalities), then runs a pending pack
import a slice at a time. Tests call it directly (timers never fire in module mode).
"""

from __future__ import annotations

import contextlib
import json
import socket
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bpy

from . import packinfo
from .engine_process import EngineStartError, LocalEngine, split_command
from .jobs import Busy, GenerateSpec, JobRunner, UIEvent

TIMER_INTERVAL_S = 0.1
IMPORT_SLICE_S = 0.05  # main-thread time per tick for an import in progress
LOCAL_ENGINE_WAIT_S = 60.0


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
    last_collection: str = ""

    def set(self, text: str, level: str = "INFO") -> None:
        self.text = text
        self.level = level


STATUS = Status()
RUNNER: JobRunner | None = None
LOCAL_ENGINE: LocalEngine | None = None
IMPORT: Any = None  # the PackImport in progress
_import_steps: Any = None
_import_context: dict[str, Any] = {}
REPORTS: list[tuple[str, str]] = []  # (level, message) of finished tasks, newest last (tests read it)


def wrap(text: str, width: int = 48) -> list[str]:
    return textwrap.wrap(text, width) or [""]


# ------------------------------------------------------------------ engine access


def client_factory(address: str, token: str | None, timeout_s: float) -> Any:
    """The vendored client (bundled by the build; see scripts/vendor_client.py)."""
    try:
        from .vendor.motif_client import MotifClient
    except ImportError as exc:
        raise _AddonBroken(
            "The Motif client library or its grpcio/protobuf wheels are missing from this add-on "
            f"({exc}). Reinstall the extension zip built by `make blender-extension` for this platform."
        ) from None
    return MotifClient(address, token=token, timeout_s=timeout_s)


class _AddonBroken(Exception):
    code = "FAILED_PRECONDITION"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def cache_dir() -> Path:
    """Packs are downloaded into the extension's user folder (kept across sessions)."""
    try:
        return Path(bpy.utils.extension_path_user(__package__, path="packs", create=True))
    except (ValueError, AttributeError):  # not installed as an extension (e.g. a legacy add-on path)
        return Path(bpy.app.tempdir or "/tmp") / "motif_packs"


def online_access() -> bool:
    return bool(getattr(bpy.app, "online_access", True))


def get_runner(prefs: Any) -> JobRunner:
    """The runner, pointed at the address and token the preferences hold now."""
    global RUNNER
    address = prefs.address.strip()
    if RUNNER is None:
        RUNNER = JobRunner(client_factory, address, prefs.token or None, cache_dir())
    elif not RUNNER.busy:
        RUNNER.address, RUNNER.token = address, prefs.token or None
    local = LOCAL_ENGINE is not None and LOCAL_ENGINE.running() and LOCAL_ENGINE.address == address
    RUNNER.ready_wait_s = LOCAL_ENGINE_WAIT_S if local else 0.0
    return RUNNER


def check_ready(prefs: Any) -> str | None:
    """A reason not to start a task (bad address, offline policy, busy), or None."""
    problem = packinfo.address_problem(prefs.address, online_access())
    if problem:
        return problem
    if busy():
        return "Motif is still working on the previous request; wait for it or press Cancel."
    return None


def busy() -> bool:
    return (RUNNER is not None and RUNNER.busy) or IMPORT is not None


def start(kind: str, prefs: Any, scene: Any, **kw: Any) -> int:
    """Start a task on the worker; raises Busy or ValueError (with a sentence) when it cannot."""
    problem = check_ready(prefs)
    if problem:
        raise ValueError(problem)
    if prefs.start_local_engine:
        start_local_engine(prefs, quiet=True)
    runner = get_runner(prefs)
    context = {"scene": scene.name, "started": time.monotonic()}
    if kind == "describe":
        task = runner.describe(context)
    elif kind == "encode":
        task = runner.encode(kw["prompt"], kw["seed"], kw.get("pins"), context)
    elif kind == "generate":
        spec: GenerateSpec = kw["spec"]
        context["spec"] = spec
        task = runner.generate(spec, context)
    elif kind == "fetch":
        task = runner.fetch(kw["pack_id"], context)
    else:  # pragma: no cover - programming error
        raise ValueError(kind)
    STATUS.busy, STATUS.fraction, STATUS.task = True, 0.0, kind
    STATUS.set({"describe": "Connecting…", "encode": "Encoding…", "generate": "Starting…",
                "fetch": "Downloading…"}[kind])
    ensure_timer()
    return task


def cancel() -> bool:
    """Cancel whatever runs: the engine job / download, or an import in progress (undone)."""
    global IMPORT, _import_steps
    if IMPORT is not None:
        IMPORT.abort()
        IMPORT, _import_steps = None, None
        _finish("WARNING", "Cancelled; the partial import was removed.")
        return True
    if RUNNER is not None and RUNNER.busy:
        RUNNER.cancel()
        STATUS.set("Cancelling…", "WARNING")
        ensure_timer()
        _redraw()
        return True
    return False


# ------------------------------------------------------------------ local engine


def start_local_engine(prefs: Any, quiet: bool = False) -> str | None:
    """Start `motif serve` if enabled and not running; returns an error sentence or None."""
    global LOCAL_ENGINE
    if LOCAL_ENGINE is not None and LOCAL_ENGINE.running():
        return None
    try:
        host, port = packinfo.parse_address(prefs.address)
        if not packinfo.is_loopback(host):
            raise EngineStartError(f"A local engine listens on this computer only; set the address to "
                                   f"127.0.0.1:PORT instead of {prefs.address}.")
        if _listening(host, port):
            STATUS.connection_text = (f"Something already listens on {prefs.address} (an engine you started?); "
                                      "Motif uses it instead of starting another.")
            STATUS.connection_ok = None
            return None
        argv = split_command(prefs.engine_command)
        log = cache_dir().parent / "logs" / "engine.log"
        extra = {"MOTIF_STORE": bpy.path.abspath(prefs.store_dir)} if prefs.store_dir else {}
        LOCAL_ENGINE = LocalEngine(argv, prefs.address.strip(), log, token=prefs.token or None, extra_env=extra)
        LOCAL_ENGINE.start()
    except EngineStartError as exc:
        STATUS.connection_text, STATUS.connection_ok = str(exc), False
        if not quiet:
            notify("ERROR", str(exc))
        return str(exc)
    STATUS.connection_text = f"Local engine starting on {prefs.address} (pid {LOCAL_ENGINE.pid})…"
    STATUS.connection_ok = None
    return None


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


def stop_local_engine() -> None:
    global LOCAL_ENGINE
    if LOCAL_ENGINE is not None:
        LOCAL_ENGINE.stop()
        LOCAL_ENGINE = None


# ------------------------------------------------------------------ the timer


def ensure_timer() -> None:
    if not bpy.app.timers.is_registered(drain_events):
        bpy.app.timers.register(drain_events, first_interval=TIMER_INTERVAL_S, persistent=False)


def drain_events() -> float | None:
    """Timer body: apply queued events, advance an import; keep ticking while anything runs."""
    if RUNNER is not None:
        for ev in RUNNER.poll():
            try:
                _apply(ev)
            except Exception as exc:  # never let the timer die with the task half-reported
                _finish("ERROR", f"Motif could not apply the engine's result: {type(exc).__name__}: {exc}")
    if IMPORT is not None:
        _advance_import()
    if IMPORT is not None:
        return 0.0  # come straight back after Blender has handled input and redrawn
    if busy():
        return TIMER_INTERVAL_S
    STATUS.busy = False
    return None


def _scene(ev_context: dict[str, Any]) -> Any:
    return bpy.data.scenes.get(ev_context.get("scene", "")) or bpy.context.scene


def _apply(ev: UIEvent) -> None:
    assert RUNNER is not None
    ctx = RUNNER.context
    scene = _scene(ctx)
    if ev.kind in ("status", "queued", "progress", "download"):
        STATUS.fraction = max(STATUS.fraction, ev.fraction) if ev.kind != "status" else STATUS.fraction
        STATUS.set(ev.message, "WARNING" if RUNNER.cancelling else "INFO")
        _status_bar(f"Motif: {ev.message} ({STATUS.fraction * 100:.0f}%)")
        _redraw()
    elif ev.kind == "describe":
        from . import props

        props.set_decoders(scene.motif, ev.data["describe"])
    elif ev.kind == "described":
        from . import props

        props.set_decoders(scene.motif, ev.data["describe"])
        STATUS.connection_text, STATUS.connection_ok = ev.message, True
        _finish("INFO", ev.message)
    elif ev.kind == "encoded":
        from . import props

        props.fill_latent(scene.motif, ev.data["latent"], ev.data.get("describe"))
        scene.motif.show_latent = True
        _finish("INFO", ev.message)
    elif ev.kind == "pack":
        _begin_import(scene, ev)
    elif ev.kind == "error":
        if ev.code in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "UNAUTHENTICATED") or RUNNER.task_kind == "describe":
            STATUS.connection_text, STATUS.connection_ok = _with_engine_log(ev.message), False
        _finish("ERROR", _with_engine_log(ev.message))
    elif ev.kind == "cancelled":
        _finish("WARNING", ev.message)


def _with_engine_log(message: str) -> str:
    """If our local engine died, say so: it explains 'cannot reach' better than gRPC can."""
    if LOCAL_ENGINE is not None and not LOCAL_ENGINE.running():
        return f"{message} {LOCAL_ENGINE.exit_reason()}"
    return message


def _begin_import(scene: Any, ev: UIEvent) -> None:
    global IMPORT, _import_steps, _import_context
    from .importer import PackImport

    window = _window_for(scene)
    IMPORT = PackImport(scene, Path(ev.data["pack_dir"]), ev.data["manifest"], window=window)
    _import_steps = IMPORT.steps()
    _import_context = {"scene": scene.name, "pack_dir": ev.data["pack_dir"], "manifest": ev.data["manifest"]}
    STATUS.set("Importing…")
    _advance_import()


def _advance_import() -> None:
    global IMPORT, _import_steps
    from .importer import ImportFailed

    deadline = time.monotonic() + IMPORT_SLICE_S
    try:
        while True:  # at least one step per tick, then as many as fit in the slice
            fraction, message = next(_import_steps)
            STATUS.set(message)
            STATUS.fraction = max(STATUS.fraction, 0.9 + 0.1 * fraction) if STATUS.task != "import" else fraction
            _redraw()
            if time.monotonic() >= deadline:
                break
    except StopIteration:
        result = IMPORT.result
        IMPORT, _import_steps = None, None
        _imported(result)
    except ImportFailed as exc:
        IMPORT, _import_steps = None, None
        _finish("ERROR", str(exc))


def _imported(result: Any) -> None:
    from . import props

    scene = bpy.data.scenes.get(_import_context["scene"]) or bpy.context.scene
    manifest = _import_context["manifest"]
    props.add_history(scene.motif, manifest, _import_context["pack_dir"], result.collection,
                      time.strftime("%Y-%m-%d %H:%M"))
    if manifest.get("latent"):
        props.fill_latent(scene.motif, manifest["latent"], _describe_of(scene))
    STATUS.last_collection = result.collection.name
    n_obj, n_strips = len(result.objects), len(result.strips)
    extra = f"; not imported (no Blender equivalent): {', '.join(result.skipped)}" if result.skipped else ""
    _finish("INFO", f"Imported {n_obj} objects and {n_strips} strips into '{result.collection.name}'{extra}.")


def _describe_of(scene: Any) -> dict[str, Any] | None:
    text = scene.motif.describe_json
    return json.loads(text) if text else None


def import_local(scene: Any, pack_dir: Path, manifest: dict[str, Any]) -> None:
    """Re-import a pack whose files are on disk (no engine needed); runs through the timer too."""
    global IMPORT, _import_steps, _import_context
    from .importer import PackImport

    if busy():
        raise Busy("Motif is still working on the previous request; wait for it or press Cancel.")
    IMPORT = PackImport(scene, pack_dir, manifest, window=_window_for(scene))
    _import_steps = IMPORT.steps()
    _import_context = {"scene": scene.name, "pack_dir": str(pack_dir), "manifest": manifest}
    STATUS.busy, STATUS.fraction, STATUS.task = True, 0.0, "import"
    STATUS.set("Importing…")
    ensure_timer()


def _finish(level: str, message: str) -> None:
    STATUS.busy = busy()
    STATUS.fraction = 1.0 if level == "INFO" else STATUS.fraction
    STATUS.set(message, level)
    _status_bar(None)
    notify(level, message)
    _redraw()


# ------------------------------------------------------------------ talking to the user


def notify(level: str, message: str) -> None:
    """Report in Blender's status bar / Info log (and the console)."""
    REPORTS.append((level, message))
    del REPORTS[:-50]
    print(f"Motif {level.lower()}: {message}")
    # No window (e.g. during shutdown): the console line above stays.
    with contextlib.suppress(Exception):
        bpy.ops.motif.notify(level=level, message=message[:1000])


def _status_bar(text: str | None) -> None:
    wm = bpy.context.window_manager
    for window in getattr(wm, "windows", []):
        workspace = window.workspace
        if workspace is not None:
            workspace.status_text_set(text)


def _redraw() -> None:
    wm = bpy.context.window_manager
    for window in getattr(wm, "windows", []):
        screen = window.screen
        for area in getattr(screen, "areas", []):
            if area.type in ("VIEW_3D", "PREFERENCES", "SEQUENCE_EDITOR"):
                area.tag_redraw()


def _window_for(scene: Any) -> Any | None:
    wm = bpy.context.window_manager
    windows = list(getattr(wm, "windows", []))
    for window in windows:
        if window.scene == scene:
            return window
    return windows[0] if windows else None


def drop_tasks() -> None:
    """Undo an import in progress and cancel the running job (before another file opens)."""
    global IMPORT, _import_steps
    if IMPORT is not None:
        IMPORT.abort()
        IMPORT, _import_steps = None, None
    if RUNNER is not None and RUNNER.busy:
        RUNNER.cancel()


def shutdown() -> None:
    """Unregister: stop the worker's job on the engine, drop the timer, stop our engine."""
    global RUNNER
    drop_tasks()
    RUNNER = None
    if bpy.app.timers.is_registered(drain_events):
        bpy.app.timers.unregister(drain_events)
    stop_local_engine()
    STATUS.__init__()  # type: ignore[misc]
