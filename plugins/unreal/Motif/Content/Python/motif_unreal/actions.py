"""What each Motif menu entry does: read settings, ask in a dialog, check, hand the work to the
session, return at once (the Slate post-tick callback does the rest). Refusals are reported in
words (dialog + log_error) before anything starts."""

from __future__ import annotations

from pathlib import Path

import unreal

from . import dialogs, faults, runtime, settings
from .kit import packinfo, runner

_last: dialogs.GenerateRequest | None = None


def _ready() -> settings.Settings | None:
    """The settings, if a task may start now; else report why not and return None."""
    s = settings.load()
    found = settings.problems(s)
    if found:
        faults.report(" ".join(found) + " Fix it in Motif › Settings.")
        return None
    if runtime.SESSION.busy():
        faults.report("Motif is still working on the previous request; wait for it or use Motif › Cancel.")
        return None
    runtime.point_at(s)
    return s


def _start(kind: str, text: str, **kw: object) -> bool:
    try:
        runtime.SESSION.start(kind, {"started_by": kind}, **kw)
    except (runner.Busy, ValueError) as exc:
        faults.report(str(exc))
        return False
    runtime.HOST.notification.start(text)
    runtime.ensure_ticking()
    return True


def generate_pack() -> bool:
    """Motif › Generate Pack…"""
    global _last
    s = _ready()
    if s is None:
        return False
    try:
        req = dialogs.ask_generate(s, _last)
    except ValueError as exc:
        faults.report(str(exc))
        return False
    if req is None:
        return False
    _last = req
    spec = runner.GenerateSpec(prompt=req.prompt, seed=req.seed, decoders=req.decoders, quality=req.quality,
                               options=req.options)
    return _start("generate", f"Motif: generating '{req.prompt[:40]}'…", spec=spec)


def import_pack() -> bool:
    """Motif › Import Pack…: a folder on disk (no engine needed) or a pack id from the engine's store."""
    s = _ready()
    if s is None:
        return False
    try:
        asked = dialogs.ask_import()
        if asked is None:
            return False
        folder, pack_id = asked
        if folder is not None:
            pack_dir, manifest = packinfo.read_pack(Path(folder))
            runtime.SESSION.import_pack(pack_dir, manifest, {"started_by": "import"})
            runtime.ensure_ticking()
            return True
    except (ValueError, runner.Busy) as exc:
        faults.report(str(exc))
        return False
    return _start("fetch", f"Motif: fetching pack {pack_id[:8]}…", pack_id=pack_id)


def import_from_feed(pack_id: str) -> bool:
    """Motif › Packs › <pack>"""
    if _ready() is None:
        return False
    return _start("fetch", f"Motif: fetching pack {pack_id[:8]}…", pack_id=pack_id)


def watch_packs() -> bool:
    """Motif › Packs › Refresh: (re)start the engine's pack feed."""
    s = settings.load()
    runtime.point_at(s)
    runtime.SESSION.stop_feed()
    started = runtime.SESSION.watch_feed()
    runtime.ensure_ticking()
    return started


def test_connection() -> bool:
    """Motif › Test Connection"""
    if _ready() is None:
        return False
    return _start("describe", "Motif: connecting…")


def reattach() -> bool:
    """Motif › Re-attach to Last Job"""
    job = settings.load_job()
    if job is None:
        faults.report("Motif is not waiting for any job.")
        return False
    if _ready() is None:
        return False
    return _start("reattach", f"Motif: re-attaching to '{str(job.get('prompt', ''))[:40]}'…",
                  job_id=str(job["job_id"]), from_seq=int(job.get("seq", -1)) + 1)


def cancel() -> bool:
    """Motif › Cancel"""
    if not runtime.SESSION.busy():
        faults.info("Nothing to cancel.")
        return False
    runtime.HOST.user_cancelled = True
    runtime.SESSION.cancel()
    runtime.ensure_ticking()
    return True


def edit_settings() -> bool:
    """Motif › Settings…"""
    edited = dialogs.edit_settings(settings.load())
    if edited is None:
        return False
    try:
        path = settings.save(edited)
    except ValueError as exc:
        faults.report(f"{exc} The settings were not saved.")
        return False
    unreal.log(f"Motif: settings saved to {path}")
    return True

