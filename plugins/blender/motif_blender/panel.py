"""The Motif tab in the 3D viewport's sidebar (N panel): prompt, seed, modalities, quality, sketch,
Generate with progress and Cancel, the offer to re-attach to a job that outlived Blender; the
editable latent with locks; the history of packs; the engine's feed of packs from every host."""

from __future__ import annotations

from typing import Any

import bpy

from . import runtime

_MODALITY_ICONS = {"mesh": "MESH_CUBE", "music": "SOUND", "image": "IMAGE_DATA", "video": "FILE_MOVIE"}
_LEVEL_ICONS = {"INFO": "INFO", "WARNING": "ERROR", "ERROR": "CANCEL"}


class _InMotifTab:
    """Where every Motif panel lives: the Motif tab of the 3D viewport's sidebar."""

    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Motif"


class _SubPanel(_InMotifTab):
    bl_parent_id = "MOTIF_PT_main"


class MOTIF_PT_main(_InMotifTab, bpy.types.Panel):
    bl_idname = "MOTIF_PT_main"
    bl_label = "Motif"

    def draw(self, context: Any) -> None:
        layout = self.layout
        state = context.scene.motif
        status = runtime.SESSION.status
        busy = runtime.busy()
        _draw_reattach(layout, state)

        col = layout.column(align=True)
        col.enabled = not busy
        col.label(text="Prompt")
        col.prop(state, "prompt", text="")
        row = col.row(align=True)
        row.prop(state, "seed")
        row.operator("motif.random_seed", text="", icon="RNDCURVE")

        box = layout.box()
        box.enabled = not busy
        box.label(text="Generate")
        flow = box.grid_flow(row_major=True, columns=2, even_columns=True, align=True)
        decoders = list(state.decoders)
        if not decoders:
            flow.label(text="Mesh · Music · Image · Video")
        for d in decoders:
            flow.prop(d, "enabled", text=d.name.title(), toggle=True, icon=_MODALITY_ICONS.get(d.name, "NONE"))
        box.row().prop(state, "quality", expand=True)
        box.row().prop(state, "sketch_source", expand=True)
        if state.sketch_source == "IMAGE":
            box.template_ID(state, "sketch_image", open="image.open")
        box.template_ID(state, "hum_sound", open="sound.open")  # a hummed melody: a sound datablock ...
        if state.hum_sound is None:
            box.prop(state, "hum_path")  # ... or a file

        row = layout.row(align=True)
        row.enabled = not busy
        row.operator("motif.encode", icon="SHADERFX")
        gen = row.row(align=True)
        gen.scale_y = 1.4
        gen.operator("motif.generate", icon="PLAY")

        if busy:
            layout.progress(factor=status.fraction, type="BAR", text=status.text[:60] or "Working…")
            layout.operator("motif.cancel", icon="CANCEL")
        elif status.text:
            box = layout.box()
            icon = _LEVEL_ICONS.get(status.level, "INFO")
            for i, line in enumerate(runtime.wrap(status.text, 44)):
                box.label(text=line, icon=icon if i == 0 else "BLANK1")


def _draw_reattach(layout: Any, state: Any) -> None:
    """A job this file was waiting for when it was saved (and that nothing follows now): offer it."""
    session = runtime.SESSION
    if not state.job_id or (session.runner.busy and session.runner.job_id == state.job_id):
        return
    box = layout.box()
    what = f"'{state.job_prompt[:36]}'" if state.job_prompt else f"job {state.job_id[:8]}"
    box.label(text=f"Still being made: {what}", icon="TIME")
    box.label(text=f"Started {state.job_started or 'earlier'}; the engine ran it on.")
    row = box.row(align=True)
    row.enabled = not runtime.busy()
    row.operator("motif.reattach", text="Re-attach and Import", icon="LINKED")
    row.operator("motif.forget_job", text="", icon="X")


class MOTIF_PT_latent(_SubPanel, bpy.types.Panel):
    bl_idname = "MOTIF_PT_latent"
    bl_label = "Latent"
    bl_options = {"DEFAULT_CLOSED"}  # noqa: RUF012 - Blender reads a set

    def draw(self, context: Any) -> None:
        layout = self.layout
        state = context.scene.motif
        if not len(state.fields):
            layout.label(text="Press Encode to see and edit the latent.", icon="INFO")
            return
        layout.enabled = not runtime.busy()
        row = layout.row(align=True)
        row.operator("motif.lock_all", text="Lock All", icon="LOCKED").lock = True
        row.operator("motif.lock_all", text="Unlock All", icon="UNLOCKED").lock = False
        layout.label(text="Locked fields are kept when you generate.")
        for f in state.fields:
            row = layout.row(align=True)
            row.prop(f, "locked", text="", icon="LOCKED" if f.locked else "UNLOCKED", emboss=False)
            label = f.name.replace("_", " ").title()
            if f.kind == "palette":
                sub = row.row(align=True)
                sub.label(text=label)
                swatches = layout.row(align=True)
                for sw in state.palette:
                    swatches.prop(sw, "color", text="")
            elif f.kind == "weights":
                row.label(text=label)
                grid = layout.grid_flow(columns=2, even_columns=True, align=True)
                for w in state.instruments:
                    grid.prop(w, "weight", text=w.name.replace("_", " ").title(), slider=True)
            elif f.kind == "choice":
                row.prop(f, "text", text=label)
            elif f.kind == "subjects":
                row.prop(f, "text", text=label)
                layout.label(text="Recipe names, hero first, comma-separated", icon="BLANK1")
            else:
                row.prop(f, "value", text=label)


class MOTIF_UL_history(bpy.types.UIList):
    bl_idname = "MOTIF_UL_history"

    def draw_item(self, context: Any, layout: Any, data: Any, item: Any, icon: Any, active_data: Any,
                  active_propname: str, index: int = 0) -> None:
        row = layout.row(align=True)
        missing = item.collection is None
        row.label(text=item.name, icon="OUTLINER_COLLECTION" if not missing else "GHOST_ENABLED")
        row.label(text=f"seed {item.seed}")


class MOTIF_PT_history(_SubPanel, bpy.types.Panel):
    bl_idname = "MOTIF_PT_history"
    bl_label = "History"

    def draw(self, context: Any) -> None:
        layout = self.layout
        state = context.scene.motif
        if not len(state.history):
            layout.label(text="Packs you generate appear here.")
            return
        layout.template_list("MOTIF_UL_history", "", state, "history", state, "history_index", rows=3)
        if not 0 <= state.history_index < len(state.history):
            return
        entry = state.history[state.history_index]
        col = layout.column(align=True)
        col.label(text=f"Prompt: {entry.prompt or '(latent)'}")
        col.label(text=f"Pack {entry.pack_id[:12]} · seed {entry.seed} · {entry.quality}")
        col.label(text=f"Made: {entry.decoders}")
        row = layout.row(align=True)
        row.enabled = not runtime.busy()
        row.operator("motif.reimport", icon="IMPORT").index = state.history_index
        row.operator("motif.load_pack_latent", icon="SHADERFX").index = state.history_index
        row = layout.row()
        row.enabled = not runtime.busy()
        row.menu("MOTIF_MT_regenerate", icon="FILE_REFRESH")


class MOTIF_PT_feed(_SubPanel, bpy.types.Panel):
    """Packs the engine made for any host (WatchPacks), newest first, each with an Import button."""

    bl_idname = "MOTIF_PT_feed"
    bl_label = "Engine Feed"
    bl_options = {"DEFAULT_CLOSED"}  # noqa: RUF012 - Blender reads a set

    def draw(self, context: Any) -> None:
        layout = self.layout
        session = runtime.SESSION
        status = session.status
        row = layout.row()
        row.label(text="Packs from every host" if session.runner.feeding else "Feed not running")
        row.operator("motif.watch_feed", text="", icon="FILE_REFRESH")
        if status.feed_text:
            for line in runtime.wrap(status.feed_text, 44):
                layout.label(text=line, icon="ERROR")
        if not status.feed:
            layout.label(text="Packs made by any host appear here.")
        col = layout.column(align=True)
        col.enabled = not runtime.busy()
        for pack in status.feed[:FEED_SHOWN]:
            row = col.row(align=True)
            prompt = str(pack.get("prompt") or "(latent)")
            who = str(pack.get("client") or "?")
            row.label(text=f"{prompt[:28]} · {who}", icon=_CLIENT_ICONS.get(who, "PACKAGE"))
            row.operator("motif.import_feed", text="Import", icon="IMPORT").pack_id = pack["pack_id"]


FEED_SHOWN = 12
_CLIENT_ICONS = {"blender": "BLENDER", "cli": "CONSOLE", "unreal": "SCENE_DATA", "resolve": "SEQUENCE",
                 "live": "SOUND"}

CLASSES = (MOTIF_PT_main, MOTIF_PT_latent, MOTIF_UL_history, MOTIF_PT_history, MOTIF_PT_feed)
