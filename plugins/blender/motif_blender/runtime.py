"""The add-on's live state: the shared task session (motif_client.tasks) with Blender as its host.

`drain_events` is the one `bpy.app.timers` function: it ticks the session, which applies the job
runner's events (status, progress, Describe, latent, the pack feed) and runs a pending pack import
a slice at a time; `BlenderHost` is all that is Blender about it. Tests call `drain_events`
directly (timers never fire in module mode).
"""

from __future__ import annotations

import contextlib
import textwrap
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import bpy

from .kit import MotifClient, channel, packinfo, runner, tasks

CLIENT_NAME = "blender"  # on every Generate: ListJobs and the pack feed say which host asked
ONLINE_HINT = "enable Preferences › System › Network › Allow Online Access"
REPORTS: list[tuple[str, str]] = []  # (level, message) of finished tasks, newest last (tests read it)


def wrap(text: str, width: int = 48) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def client_factory(address: str, token: str | None, timeout_s: float) -> MotifClient:
    """The vendored client (bundled by the build; see scripts/vendor_client.py)."""
    return MotifClient(address, token=token, timeout_s=timeout_s, client_name=CLIENT_NAME)


def cache_dir() -> Path:
    """Packs are downloaded into the extension's user folder (kept across sessions)."""
    try:
        return Path(bpy.utils.extension_path_user(__package__, path="packs", create=True))
    except (ValueError, AttributeError):  # not installed as an extension (e.g. a legacy add-on path)
        return Path(bpy.app.tempdir or "/tmp") / "motif_packs"


def online_access() -> bool:
    return bool(getattr(bpy.app, "online_access", True))


# ------------------------------------------------------------------ Blender as the kit's host


def _scene(context: Mapping[str, Any]) -> Any:
    return bpy.data.scenes.get(context.get("scene", "")) or bpy.context.scene


class BlenderHost:
    """The Blender side of `tasks.Host`: panels, reports, scene state and the importer."""

    def notify(self, level: str, message: str) -> None:
        """Report in Blender's status bar / Info log (and the console)."""
        REPORTS.append((level, message))
        del REPORTS[:-50]
        print(f"Motif {level.lower()}: {message}")
        with contextlib.suppress(Exception):  # no window (e.g. during shutdown): the console line stays
            bpy.ops.motif.notify(level=level, message=message[:1000])

    def refresh(self, progress_text: str | None) -> None:
        wm = bpy.context.window_manager
        for window in getattr(wm, "windows", []):
            workspace = window.workspace
            if workspace is not None:
                workspace.status_text_set(progress_text)
            for area in getattr(window.screen, "areas", []):
                if area.type in ("VIEW_3D", "PREFERENCES", "SEQUENCE_EDITOR"):
                    area.tag_redraw()

    def on_event(self, ev: runner.UIEvent, context: Mapping[str, Any]) -> None:
        from . import props

        if ev.kind in ("describe", "described"):
            props.set_decoders(_scene(context).motif, ev.data["describe"])
        elif ev.kind == "encoded":
            state = _scene(context).motif
            props.fill_latent(state, ev.data["latent"], ev.data.get("describe"))
            state.show_latent = True
        if ev.kind in ("described", "pack") and not SESSION.runner.feeding:
            SESSION.watch_feed()  # the engine answers: show what it makes for every host

    def begin_import(self, pack_dir: Path, manifest: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
        from .importer import PackImport

        scene = _scene(context)
        return PackImport(scene, pack_dir, manifest, window=_window_for(scene))

    def imported(self, job: Any, manifest: Mapping[str, Any], pack_dir: Path, context: Mapping[str, Any]) -> str:
        from . import props

        scene = _scene(context)
        result = job.result
        props.add_history(scene.motif, manifest, str(pack_dir), result.collection, time.strftime("%Y-%m-%d %H:%M"))
        if manifest.get("latent"):
            props.fill_latent(scene.motif, manifest["latent"], props.describe_of(scene.motif))
        SESSION.status.last_import = result.collection.name
        extra = f"; not imported (no Blender equivalent): {', '.join(result.skipped)}" if result.skipped else ""
        return (f"Imported {len(result.objects)} objects and {len(result.strips)} strips into "
                f"'{result.collection.name}'{extra}.")

    def remember_job(self, context: Mapping[str, Any], job: Mapping[str, Any] | None) -> None:
        from . import props

        spec = context.get("spec")
        prompt = getattr(spec, "prompt", None) or context.get("prompt", "")
        props.remember_job(_scene(context).motif, job, str(prompt or ""))


SESSION = tasks.TaskSession(BlenderHost(), runner.JobRunner(client_factory, channel.DEFAULT_ADDRESS,
                                                            client_name=CLIENT_NAME))


# ------------------------------------------------------------------ starting tasks


def check_ready(prefs: Any) -> str | None:
    """A reason not to start a task (bad address, offline policy, busy), or None."""
    problem = packinfo.address_problem(prefs.address, online_access(), "Blender", ONLINE_HINT)
    if problem:
        return problem
    if busy():
        return "Motif is still working on the previous request; wait for it or press Cancel."
    return None


def busy() -> bool:
    return SESSION.busy()


def _point(prefs: Any) -> None:
    SESSION.runner.cache_dir = cache_dir()
    SESSION.point_at(prefs.address, prefs.token or None)


def start(kind: str, prefs: Any, scene: Any, **kw: Any) -> int:
    """Start a task on the worker; raises Busy or ValueError (with a sentence) when it cannot."""
    problem = check_ready(prefs)
    if problem:
        raise ValueError(problem)
    if prefs.start_local_engine:
        start_local_engine(prefs, quiet=True)
    _point(prefs)
    task = SESSION.start(kind, {"scene": scene.name, **kw.pop("context", {})}, **kw)
    ensure_timer()
    return task


def import_local(scene: Any, pack_dir: Path, manifest: Mapping[str, Any]) -> None:
    """Import a pack whose files are on disk (no engine needed); runs through the timer too."""
    SESSION.import_pack(pack_dir, manifest, {"scene": scene.name})
    ensure_timer()


def watch_feed(prefs: Any) -> str | None:
    """(Re)start the engine's pack feed; an error sentence when the address may not be used."""
    problem = packinfo.address_problem(prefs.address, online_access(), "Blender", ONLINE_HINT)
    if problem:
        return problem
    if not SESSION.runner.busy:
        _point(prefs)
    SESSION.stop_feed()
    SESSION.watch_feed()
    ensure_timer()
    return None


def cancel() -> bool:
    """Cancel whatever runs: the engine job / download, or an import in progress (undone)."""
    done = SESSION.cancel()
    if done:
        ensure_timer()
    return done


def start_local_engine(prefs: Any, quiet: bool = False) -> str | None:
    """Start `motif serve` if enabled and not running; returns an error sentence or None."""
    log = cache_dir().parent / "logs" / "engine.log"
    store = bpy.path.abspath(prefs.store_dir) if prefs.store_dir else None
    return SESSION.start_local_engine(prefs.engine_command, prefs.address, log, token=prefs.token or None,
                                      store_dir=store, quiet=quiet)


def stop_local_engine() -> None:
    SESSION.stop_local_engine()


# ------------------------------------------------------------------ the timer


def ensure_timer() -> None:
    if not bpy.app.timers.is_registered(drain_events):
        bpy.app.timers.register(drain_events, first_interval=tasks.TICK_S, persistent=False)


def drain_events() -> float | None:
    """Timer body: apply queued events, advance an import; keep ticking while anything runs."""
    return SESSION.tick()


def _window_for(scene: Any) -> Any | None:
    wm = bpy.context.window_manager
    windows = list(getattr(wm, "windows", []))
    for window in windows:
        if window.scene == scene:
            return window
    return windows[0] if windows else None


# ------------------------------------------------------------------ files opening and closing


def drop_tasks() -> None:
    """Another file is about to open: undo an import in progress and stop following the running job.

    The engine runs the job on; the file it belongs to remembers it (if saved), so reopening that
    file offers the re-attach."""
    SESSION.detach()


def offer_reattach() -> list[str]:
    """A file was opened: for each scene that remembers a running job, say how to pick it up.
    Nothing here talks to the engine (the UI never waits); the panel shows a Re-attach button."""
    offered = []
    for scene in bpy.data.scenes:
        state = getattr(scene, "motif", None)
        if state is None or not state.job_id:
            continue
        offered.append(state.job_id)
        what = f"'{state.job_prompt[:40]}'" if state.job_prompt else f"job {state.job_id[:8]}"
        SESSION.host.notify("INFO", f"Motif: {what} was still being made when this file was saved. Press "
                                    "Re-attach in the Motif panel to follow it and import its pack.")
    if offered:
        SESSION.host.refresh(None)
    return offered


def shutdown() -> None:
    """Unregister: leave the running job to the engine, stop the feed, drop the timer, stop our engine."""
    SESSION.shutdown()
    if bpy.app.timers.is_registered(drain_events):
        bpy.app.timers.unregister(drain_events)
