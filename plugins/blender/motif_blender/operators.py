"""Operators: each validates on the main thread, hands network work to the runner and returns at
once; results arrive through `runtime.drain_events`."""

from __future__ import annotations

import base64
import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, StringProperty

from . import packinfo, prefs, props, runtime
from .jobs import Busy, GenerateSpec


def _prefs_or_report(op: Any, context: Any) -> Any | None:
    p = prefs.get(context)
    if p is None:
        op.report({"ERROR"}, "Motif's preferences are unavailable; re-enable the Motif extension.")
    return p


def _prompted_or_report(op: Any, context: Any) -> tuple[Any, Any] | None:
    """(preferences, scene state) when the scene has a prompt; otherwise report why and return None."""
    p = _prefs_or_report(op, context)
    if p is None:
        return None
    state = props.ensure_initialized(context.scene, p)
    if not state.prompt.strip():
        op.report({"ERROR"}, "Type a prompt first: a place, a mood or a scene.")
        return None
    return p, state


def _start(op: Any, kind: str, p: Any, scene: Any, **kw: Any) -> set[str]:
    try:
        runtime.start(kind, p, scene, **kw)
    except (Busy, ValueError) as exc:
        runtime.STATUS.set(str(exc), "ERROR")
        op.report({"ERROR"}, str(exc))
        return {"CANCELLED"}
    return {"FINISHED"}


class MOTIF_OT_notify(bpy.types.Operator):
    """Show a message from a finished Motif task in the status bar"""

    bl_idname = "motif.notify"
    bl_label = "Motif Message"
    bl_options = {"INTERNAL"}  # noqa: RUF012 - Blender reads a set

    level: EnumProperty(items=[(k, k.title(), "") for k in ("INFO", "WARNING", "ERROR")])  # type: ignore
    message: StringProperty()  # type: ignore

    def execute(self, context: Any) -> set[str]:
        self.report({self.level}, self.message)
        return {"FINISHED"}


class MOTIF_OT_test_connection(bpy.types.Operator):
    """Ask the engine for its version and decoders"""

    bl_idname = "motif.test_connection"
    bl_label = "Test Connection"

    def execute(self, context: Any) -> set[str]:
        p = _prefs_or_report(self, context)
        if p is None:
            return {"CANCELLED"}
        problem = packinfo.address_problem(p.address, runtime.online_access())
        if problem:
            runtime.STATUS.connection_text, runtime.STATUS.connection_ok = problem, False
            self.report({"ERROR"}, problem)
            return {"CANCELLED"}
        runtime.STATUS.connection_text, runtime.STATUS.connection_ok = f"Connecting to {p.address}…", None
        result = _start(self, "describe", p, context.scene)
        if result == {"FINISHED"}:
            self.report({"INFO"}, f"Motif: connecting to {p.address}…")
        return result


class MOTIF_OT_random_seed(bpy.types.Operator):
    """Roll a new seed"""

    bl_idname = "motif.random_seed"
    bl_label = "Random Seed"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a set

    def execute(self, context: Any) -> set[str]:
        state = props.ensure_initialized(context.scene, prefs.get(context))
        state.seed = random.randint(0, props.SEED_MAX)
        return {"FINISHED"}


class MOTIF_OT_encode(bpy.types.Operator):
    """Turn the prompt into the latent and show its fields for editing"""

    bl_idname = "motif.encode"
    bl_label = "Encode"

    def execute(self, context: Any) -> set[str]:
        ready = _prompted_or_report(self, context)
        if ready is None:
            return {"CANCELLED"}
        p, state = ready
        return _start(self, "encode", p, context.scene, prompt=state.prompt, seed=state.seed,
                      pins=props.current_pins(state))


class MOTIF_OT_generate(bpy.types.Operator):
    """Generate a pack from the prompt (locked latent fields are kept) and import it"""

    bl_idname = "motif.generate"
    bl_label = "Generate"

    def execute(self, context: Any) -> set[str]:
        ready = _prompted_or_report(self, context)
        if ready is None:
            return {"CANCELLED"}
        p, state = ready
        decoders = props.chosen_decoders(state)
        if not decoders:
            self.report({"ERROR"}, "Tick at least one modality to generate (mesh, music, image, video).")
            return {"CANCELLED"}
        try:
            options, warning = sketch_options(context, state, decoders)
        except RuntimeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        if warning:
            self.report({"WARNING"}, warning)
        spec = GenerateSpec(prompt=state.prompt, seed=int(state.seed), pins=props.current_pins(state),
                            decoders=decoders, quality=state.quality, options=options)
        result = _start(self, "generate", p, context.scene, spec=spec)
        if result == {"FINISHED"}:
            self.report({"INFO"}, f"Motif: generating {', '.join(decoders)} for '{state.prompt[:40]}'…")
        return result


class MOTIF_OT_cancel(bpy.types.Operator):
    """Stop the running Motif job; nothing of it is imported"""

    bl_idname = "motif.cancel"
    bl_label = "Cancel"

    def execute(self, context: Any) -> set[str]:
        if not runtime.cancel():
            self.report({"INFO"}, "Nothing to cancel.")
            return {"CANCELLED"}
        self.report({"WARNING"}, "Motif: cancelling…")
        return {"FINISHED"}


def _entry(context: Any, index: int) -> Any | None:
    history = context.scene.motif.history
    return history[index] if 0 <= index < len(history) else None


class MOTIF_OT_reimport(bpy.types.Operator):
    """Import this pack again (downloading it from the engine if its files are gone)"""

    bl_idname = "motif.reimport"
    bl_label = "Re-import"

    index: IntProperty(default=-1)  # type: ignore

    def execute(self, context: Any) -> set[str]:
        entry = _entry(context, self.index if self.index >= 0 else context.scene.motif.history_index)
        if entry is None:
            self.report({"ERROR"}, "Pick a pack in the history first.")
            return {"CANCELLED"}
        manifest = json.loads(entry.manifest_json) if entry.manifest_json else {}
        pack_dir = Path(bpy.path.abspath(entry.pack_dir)) if entry.pack_dir else None
        if pack_dir and manifest and packinfo.pack_is_complete(pack_dir, manifest):
            try:
                runtime.import_local(context.scene, pack_dir, manifest)
            except Busy as exc:
                self.report({"ERROR"}, str(exc))
                return {"CANCELLED"}
            return {"FINISHED"}
        p = _prefs_or_report(self, context)
        if p is None:
            return {"CANCELLED"}
        return _start(self, "fetch", p, context.scene, pack_id=entry.pack_id)


class MOTIF_OT_regenerate_only(bpy.types.Operator):
    """Regenerate one modality of this pack with every latent field locked and the same seed"""

    bl_idname = "motif.regenerate_only"
    bl_label = "Regenerate Only"

    index: IntProperty(default=-1)  # type: ignore
    decoder: StringProperty(name="Modality")  # type: ignore

    def execute(self, context: Any) -> set[str]:
        p = _prefs_or_report(self, context)
        if p is None:
            return {"CANCELLED"}
        entry = _entry(context, self.index if self.index >= 0 else context.scene.motif.history_index)
        if entry is None or not entry.manifest_json:
            self.report({"ERROR"}, "Pick a pack in the history first.")
            return {"CANCELLED"}
        if not self.decoder:
            self.report({"ERROR"}, "Say which modality to regenerate (mesh, music, image or video).")
            return {"CANCELLED"}
        spec = packinfo.regenerate_spec(json.loads(entry.manifest_json), [self.decoder])
        result = _start(self, "generate", p, context.scene, spec=spec)
        if result == {"FINISHED"}:
            self.report({"INFO"}, f"Motif: regenerating only {self.decoder} of pack {entry.pack_id[:8]}…")
        return result


class MOTIF_MT_regenerate(bpy.types.Menu):
    bl_idname = "MOTIF_MT_regenerate"
    bl_label = "Regenerate Only"

    def draw(self, context: Any) -> None:
        state = context.scene.motif
        names = [d.name for d in state.decoders] or list(packinfo.MODALITIES)
        for name in names:
            op = self.layout.operator(MOTIF_OT_regenerate_only.bl_idname, text=name.title())
            op.decoder = name
            op.index = state.history_index


class MOTIF_OT_lock_all(bpy.types.Operator):
    """Lock or unlock every latent field"""

    bl_idname = "motif.lock_all"
    bl_label = "Lock All"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a set

    lock: BoolProperty(default=True)  # type: ignore

    def execute(self, context: Any) -> set[str]:
        for f in context.scene.motif.fields:
            f.locked = self.lock
        return {"FINISHED"}


class MOTIF_OT_load_pack_latent(bpy.types.Operator):
    """Show this pack's latent in the panel (prompt and seed too), to edit and generate a variation"""

    bl_idname = "motif.load_pack_latent"
    bl_label = "Load Latent"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a set

    index: IntProperty(default=-1)  # type: ignore

    def execute(self, context: Any) -> set[str]:
        state = context.scene.motif
        entry = _entry(context, self.index if self.index >= 0 else state.history_index)
        if entry is None or not entry.manifest_json:
            self.report({"ERROR"}, "Pick a pack in the history first.")
            return {"CANCELLED"}
        manifest = json.loads(entry.manifest_json)
        describe = json.loads(state.describe_json) if state.describe_json else None
        props.fill_latent(state, manifest.get("latent", {}), describe)
        if entry.prompt:
            state.prompt = entry.prompt
        if int(entry.seed) <= props.SEED_MAX:
            state.seed = int(entry.seed)
        return {"FINISHED"}


class MOTIF_OT_start_engine(bpy.types.Operator):
    """Start `motif serve` on the preference's address (it stops when Blender does)"""

    bl_idname = "motif.start_engine"
    bl_label = "Start Local Engine"

    def execute(self, context: Any) -> set[str]:
        p = _prefs_or_report(self, context)
        if p is None:
            return {"CANCELLED"}
        error = runtime.start_local_engine(p)
        if error:
            self.report({"ERROR"}, error)
            return {"CANCELLED"}
        return {"FINISHED"}


# ------------------------------------------------------------------ sketch


def sketch_options(context: Any, state: Any, decoders: list[str]) -> tuple[dict[str, dict[str, Any]], str]:
    """Per-decoder options carrying the sketch, for decoders that say (Describe `reads`) they use one.

    Returns (options, warning). RuntimeError when the sketch cannot be captured.
    """
    if state.sketch_source == "NONE":
        return {}, ""
    describe = json.loads(state.describe_json) if state.describe_json else {}
    readers = [d["name"] for d in describe.get("decoders", [])
               if d["name"] in decoders and "sketch" in d.get("reads", [])]
    if not readers:
        return {}, "No chosen decoder on this engine reads a sketch yet; generating from the prompt alone."
    png = capture_sketch(context, state)
    payload = {"sketch_png_base64": base64.b64encode(png).decode("ascii")}
    return {name: dict(payload) for name in readers}, ""


def capture_sketch(context: Any, state: Any) -> bytes:
    """PNG bytes of the sketch image datablock, or of an OpenGL render of the current viewport."""
    fd, tmp = tempfile.mkstemp(suffix=".png", prefix="motif_sketch_")
    os.close(fd)
    try:
        if state.sketch_source == "IMAGE":
            img = state.sketch_image
            if img is None:
                raise RuntimeError("Pick a sketch image (or set Sketch to None).")
            img.save_render(filepath=tmp, scene=context.scene)
        else:
            try:
                bpy.ops.render.opengl(write_still=False, view_context=True)
                bpy.data.images["Render Result"].save_render(filepath=tmp, scene=context.scene)
            except (RuntimeError, KeyError) as exc:
                raise RuntimeError(f"Could not capture the viewport as a sketch: {exc}") from None
        return Path(tmp).read_bytes()
    finally:
        Path(tmp).unlink(missing_ok=True)


CLASSES = (
    MOTIF_OT_notify, MOTIF_OT_test_connection, MOTIF_OT_random_seed, MOTIF_OT_encode, MOTIF_OT_generate,
    MOTIF_OT_cancel, MOTIF_OT_reimport, MOTIF_OT_regenerate_only, MOTIF_MT_regenerate, MOTIF_OT_lock_all,
    MOTIF_OT_load_pack_latent, MOTIF_OT_start_engine,
)
