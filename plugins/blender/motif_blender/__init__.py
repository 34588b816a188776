"""Motif for Blender: one prompt becomes a kit, a world, a concept image and a soundtrack, imported
natively into a new collection (see docs/BLENDER.md).

Only Blender's side lives here (panels, operators, properties, the importer); the job runner, the
task state machine, pack reading and the local-engine supervisor are the shared host kit
(`motif_client`, vendored into `vendor/` by the build). bpy is imported only in `register`.
"""

from __future__ import annotations

from typing import Any


def _classes() -> list[Any]:
    from . import operators, panel, prefs

    return [*prefs.CLASSES, *operators.CLASSES, *panel.CLASSES]


def _on_load_pre(*_args: Any) -> None:
    """Another file is about to open: undo an import in progress and stop following the running
    job (the engine runs it on), while the old file's data still exists."""
    from . import runtime

    runtime.drop_tasks()


def _on_load_post(*_args: Any) -> None:
    """A file opened (or Blender restarted with one): offer to re-attach to jobs it was waiting for."""
    from . import runtime

    runtime.offer_reattach()


def _menu_import(self: Any, context: Any) -> None:
    from . import operators

    operators.menu_import(self, context)


def register() -> None:
    import bpy

    from . import prefs, props, runtime

    props.register()
    for cls in _classes():
        bpy.utils.register_class(cls)
    for handlers, fn in _handlers():
        handler = _persistent(fn)
        if handler not in handlers:
            handlers.append(handler)
    bpy.types.TOPBAR_MT_file_import.append(_menu_import)
    p = prefs.get()
    if p is not None and p.start_local_engine:
        runtime.start_local_engine(p, quiet=True)


def unregister() -> None:
    import bpy

    from . import props, runtime

    runtime.shutdown()
    bpy.types.TOPBAR_MT_file_import.remove(_menu_import)
    for handlers, fn in _handlers():
        handler = _persistent(fn)
        if handler in handlers:
            handlers.remove(handler)
    for cls in reversed(_classes()):
        bpy.utils.unregister_class(cls)
    props.unregister()


def _handlers() -> list[tuple[Any, Any]]:
    import bpy

    return [(bpy.app.handlers.load_pre, _on_load_pre), (bpy.app.handlers.load_post, _on_load_post)]


def _persistent(fn: Any) -> Any:
    from bpy.app.handlers import persistent

    return persistent(fn)
