"""Motif for Blender: one prompt becomes a kit, a world, a concept image and a soundtrack, imported
natively into a new collection (see docs/BLENDER.md).

bpy is imported only in `register`, so the host-free core (jobs, packinfo, engine_process) can be
imported and tested outside Blender.
"""

from __future__ import annotations

from typing import Any


def _classes() -> list[Any]:
    from . import operators, panel, prefs

    return [*prefs.CLASSES, *operators.CLASSES, *panel.CLASSES]


def _on_load_pre(*_args: Any) -> None:
    """Another file is about to open: undo an import in progress and stop the running job,
    while the old file's data still exists."""
    from . import runtime

    runtime.drop_tasks()


def register() -> None:
    import bpy

    from . import prefs, props, runtime

    props.register()
    for cls in _classes():
        bpy.utils.register_class(cls)
    handler = _persistent(_on_load_pre)
    if handler not in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.append(handler)
    p = prefs.get()
    if p is not None and p.start_local_engine:
        runtime.start_local_engine(p, quiet=True)


def unregister() -> None:
    import bpy

    from . import props, runtime

    runtime.shutdown()
    handler = _persistent(_on_load_pre)
    if handler in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.remove(handler)
    for cls in reversed(_classes()):
        bpy.utils.unregister_class(cls)
    props.unregister()


def _persistent(fn: Any) -> Any:
    from bpy.app.handlers import persistent

    return persistent(fn)
