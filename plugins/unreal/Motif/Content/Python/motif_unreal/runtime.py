"""Motif's live state in the editor: the shared task session (motif_client.tasks) with Unreal as host.

Engine calls run on the job runner's worker thread; their results wait on a queue. One Slate
post-tick callback (`tick`) drains it on the game thread, the only thread that may touch Unreal:
it advances the session, updates the notification, and unregisters itself when nothing runs.
The editor never waits on the network. `UnrealHost` is all that is Unreal about the session.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import unreal

from . import faults, menus, settings
from .importer import PackImport
from .kit import MotifClient, channel, runner, tasks
from .progress import Notification

CLIENT_NAME = "unreal"  # on every Generate: ListJobs and the pack feed say which host asked
REPORTS: list[tuple[str, str]] = []  # (level, message) of finished tasks, newest last (tests read it)


_ca_file: str | None = None  # set on the game thread (point_at); read by the runner's worker thread


def client_factory(address: str, token: str | None, timeout_s: float) -> MotifClient:
    """The vendored client (bundled by the build; see scripts/vendor_client.py). Runs on the runner's
    worker thread, so it touches no `unreal` API: what it needs was read on the game thread."""
    return MotifClient(address, token=token, timeout_s=timeout_s, client_name=CLIENT_NAME, ca_file=_ca_file)


class UnrealHost:
    """The Unreal side of `tasks.Host`: notification, dialogs, the job to remember, the importer."""

    def __init__(self) -> None:
        self.notification = Notification()
        self.user_cancelled = False
        self.last_import: PackImport | None = None
        self.last_result: Any = None
        self._feed_shown: list[str] = []

    def notify(self, level: str, message: str) -> None:
        """A task ended: close the notification; errors get a dialog and a log_error line."""
        REPORTS.append((level, message))
        del REPORTS[:-50]
        self.notification.finish(level == "INFO")
        job, self.last_import = self.last_import, None
        cancelled_here = self.user_cancelled or (job is not None and job.cancelled)
        if level == "INFO":
            faults.info(message)
        elif cancelled_here:
            faults.warn(message)  # the designer pressed Cancel: no dialog to dismiss
        else:
            faults.report(message)
        self.user_cancelled = False

    def refresh(self, progress_text: str | None) -> None:
        if progress_text and SESSION.runner.busy:
            if not self.notification.active:
                self.notification.start(progress_text)
            self.notification.update(progress_text)
        rows = SESSION.status.feed
        ids = [str(r.get("pack_id", "")) for r in rows]
        if ids != self._feed_shown:
            self._feed_shown = ids
            menus.rebuild_packs(rows)

    def on_event(self, ev: runner.UIEvent, context: Mapping[str, Any]) -> None:
        if ev.kind in ("described", "pack") and not SESSION.runner.feeding:
            SESSION.watch_feed()  # the engine answers: show what it makes for every host
            ensure_ticking()

    def begin_import(self, pack_dir: Path, manifest: Mapping[str, Any], context: Mapping[str, Any]) -> PackImport:
        s = settings.load()
        job = PackImport(pack_dir, manifest, s, settings.work_dir(str(manifest.get("pack_id", ""))))
        self.last_import = job
        return job

    def imported(self, job: Any, manifest: Mapping[str, Any], pack_dir: Path, context: Mapping[str, Any]) -> str:
        result = job.result
        self.last_result = result
        unreal.EditorAssetLibrary.sync_browser_to_objects([result.folder])
        for w in result.warnings:
            faults.warn(w)
        return str(result.summary())

    def remember_job(self, context: Mapping[str, Any], job: Mapping[str, Any] | None) -> None:
        if job is None:
            settings.save_job(None)
            return
        spec = context.get("spec")
        settings.save_job({"job_id": job["job_id"], "seq": int(job.get("seq", -1)),
                           "prompt": str(getattr(spec, "prompt", "") or "")})


HOST = UnrealHost()
SESSION = tasks.TaskSession(HOST, runner.JobRunner(client_factory, channel.DEFAULT_ADDRESS, client_name=CLIENT_NAME))
_handle: Any = None
_wait = 0.0


def point_at(s: settings.Settings) -> None:
    """Use these settings for the next task (game thread: reads the project's Saved folder)."""
    global _ca_file
    _ca_file = s.ca_file or None
    SESSION.runner.cache_dir = settings.packs_dir()
    SESSION.point_at(s.address, s.token or None)


def ensure_ticking() -> None:
    """Register the post-tick callback unless it is registered."""
    global _handle, _wait
    if _handle is None:
        _wait = 0.0
        _handle = unreal.register_slate_post_tick_callback(tick)


def tick(delta_s: float) -> None:
    """The Slate post-tick callback: apply queued events at the session's pace, then stop when idle."""
    global _handle, _wait
    try:
        if HOST.notification.cancel_requested() and SESSION.busy():
            HOST.user_cancelled = True
            SESSION.cancel()
        _wait -= delta_s
        if _wait > 0:
            return
        following = SESSION.tick()
    except Exception:  # never let a Slate callback raise every frame
        unreal.log_error(f"Motif: {traceback.format_exc()}")
        following = None
    if following is None:
        if _handle is not None:
            unreal.unregister_slate_post_tick_callback(_handle)
        _handle = None
    else:
        _wait = following


def ticking() -> bool:
    return _handle is not None


def shutdown() -> None:
    """Editor shutdown or plugin reload: leave the job to the engine, stop the feed and the callback."""
    global _handle
    SESSION.shutdown()
    HOST.notification.finish(False)
    if _handle is not None:
        unreal.unregister_slate_post_tick_callback(_handle)
        _handle = None


_shutdown_handle = unreal.register_python_shutdown_callback(shutdown)  # the editor closes: detach, stop the feed
