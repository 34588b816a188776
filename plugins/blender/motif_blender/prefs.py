"""Add-on preferences: where the engine is, how to start one, and the defaults for new scenes."""

from __future__ import annotations

from typing import Any

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, StringProperty

from . import props, runtime
from .kit import channel

DEFAULT_ADDRESS = channel.DEFAULT_ADDRESS


def _local_engine_update(self: Any, context: Any) -> None:
    """Ticking 'Start local engine' starts it at once; unticking stops the one we started."""
    if self.start_local_engine:
        runtime.start_local_engine(self, quiet=True)
    else:
        runtime.stop_local_engine()


class MotifPreferences(bpy.types.AddonPreferences):
    bl_idname = __package__  # type: ignore[assignment]

    address: StringProperty(  # type: ignore
        name="Engine Address", default=DEFAULT_ADDRESS,
        description="HOST:PORT of the Motif engine (`motif serve`); 127.0.0.1 is this computer",
    )
    token: StringProperty(  # type: ignore
        name="Token", subtype="PASSWORD", default="",
        description="Bearer token, only for an engine started with --token (e.g. a studio server)",
    )
    default_seed: IntProperty(name="Default Seed", min=0, max=props.SEED_MAX, default=0)  # type: ignore
    default_quality: EnumProperty(name="Default Quality", items=props.QUALITY_ITEMS, default="draft")  # type: ignore
    start_local_engine: BoolProperty(  # type: ignore
        name="Start Local Engine", default=False, update=_local_engine_update,
        description="Run `motif serve` as a child of Blender on the address above; it stops when Blender does",
    )
    engine_command: StringProperty(  # type: ignore
        name="Engine Command", default="motif",
        description="The `motif` command, or a full command such as `/path/to/python -m engine_server.cli`",
    )
    store_dir: StringProperty(  # type: ignore
        name="Pack Store", subtype="DIR_PATH", default="",
        description="Where the local engine keeps packs (empty: the engine's default)",
    )

    def draw(self, context: Any) -> None:
        layout = self.layout
        col = layout.column()
        col.prop(self, "address")
        col.prop(self, "token")
        row = col.row()
        row.operator("motif.test_connection", icon="PLUGIN")
        status = runtime.SESSION.status
        if status.connection_text:
            box = col.box()
            for line in runtime.wrap(status.connection_text, 90):
                box.label(text=line, icon="ERROR" if status.connection_ok is False else "NONE")
        col.separator()
        col.prop(self, "start_local_engine")
        sub = col.column()
        sub.active = self.start_local_engine
        sub.prop(self, "engine_command")
        sub.prop(self, "store_dir")
        engine = runtime.SESSION.local_engine
        if engine is not None:
            text = f"Local engine running (pid {engine.pid})" if engine.running() else engine.exit_reason()
            sub.label(text=text, icon="CHECKMARK" if engine.running() else "ERROR")
        col.separator()
        col.prop(self, "default_seed")
        col.prop(self, "default_quality")


def get(context: Any | None = None) -> Any | None:
    """This add-on's preferences, or None (e.g. while unregistering)."""
    ctx = context or bpy.context
    addon = ctx.preferences.addons.get(__package__)
    return addon.preferences if addon else None


CLASSES = (MotifPreferences,)
