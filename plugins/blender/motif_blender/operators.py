"""Operators: each validates on the main thread, hands network work to the runner and returns at
once; results arrive through `runtime.drain_events`. File › Import › Motif Pack imports a pack
folder from disk (any host's), the feed's Import button one from the engine's store."""

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
from bpy_extras.io_utils import ImportHelper

from . import prefs, props, runtime
from .kit import packinfo, runner


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


def _start(op: Any, kind: str, p: Any, scene: Any, said: str = "", **kw: Any) -> set[str]:
    """Hand a task to the runner; report `said` once it runs, or why it cannot."""
    try:
        runtime.start(kind, p, scene, **kw)
    except (runner.Busy, ValueError) as exc:
        runtime.SESSION.status.set(str(exc), "ERROR")
        op.report({"ERROR"}, str(exc))
        return {"CANCELLED"}
    if said:
        op.report({"INFO"}, said)
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
        status = runtime.SESSION.status
        problem = packinfo.address_problem(p.address, runtime.online_access(), "Blender", runtime.ONLINE_HINT)
        if problem:
            status.connection_text, status.connection_ok = problem, False
            self.report({"ERROR"}, problem)
            return {"CANCELLED"}
        status.connection_text, status.connection_ok = f"Connecting to {p.address}…", None
        return _start(self, "describe", p, context.scene, said=f"Motif: connecting to {p.address}…")


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
        try:
            spec, warning = generate_spec(context, state)
        except RuntimeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        if warning:
            self.report({"WARNING"}, warning)
        return _start(self, "generate", p, context.scene, spec=spec,
                      said=f"Motif: generating {', '.join(spec.decoders)} for '{state.prompt[:40]}'…")


def generate_spec(context: Any, state: Any) -> tuple[runner.GenerateSpec, str]:
    """What the panel asks for now: prompt, seed, locked fields as pins, ticked modalities, quality
    and the sketch for the decoders that take one. Returns (spec, warning); RuntimeError with a
    sentence when it cannot be asked."""
    decoders = props.chosen_decoders(state)
    if not decoders:
        raise RuntimeError("Tick at least one modality to generate (mesh, music, image, video).")
    options, warning = sketch_options(context, state, decoders)
    spec = runner.GenerateSpec(prompt=state.prompt, seed=int(state.seed), pins=props.current_pins(state),
                        decoders=decoders, quality=state.quality, options=options, hum=hum_input(state))
    return spec, warning


def hum_input(state: Any) -> tuple[str, bytes] | None:
    """The hum the engine builds the music on (GenerateRequest.hum): the sound datablock (its packed bytes
    or its file), else the Hum File; None when neither is set. RuntimeError when it cannot be read."""
    sound = state.hum_sound
    if sound is not None:
        if sound.packed_file is not None:
            return Path(sound.filepath).name or f"{sound.name}.wav", bytes(sound.packed_file.data)
        path = bpy.path.abspath(sound.filepath)
    elif state.hum_path:
        path = bpy.path.abspath(state.hum_path)
    else:
        return None
    try:
        return Path(path).name, Path(path).read_bytes()
    except OSError as exc:
        raise RuntimeError(f"Cannot read the hum {path}: {exc.strerror or exc}.") from None


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
        return _import_or_fetch(self, context, entry.pack_id, pack_dir, manifest)


def _import_or_fetch(op: Any, context: Any, pack_id: str, pack_dir: Path | None,
                     manifest: dict[str, Any]) -> set[str]:
    """Import the pack from its files when they are all there, else download it from the engine."""
    if pack_dir and manifest and packinfo.pack_is_complete(pack_dir, manifest):
        try:
            runtime.import_local(context.scene, pack_dir, manifest)
        except runner.Busy as exc:
            op.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return {"FINISHED"}
    p = _prefs_or_report(op, context)
    if p is None:
        return {"CANCELLED"}
    return _start(op, "fetch", p, context.scene, pack_id=pack_id)


class MOTIF_OT_import_pack(bpy.types.Operator, ImportHelper):
    """Import a Motif pack from disk: its pack.json, or the folder that holds it (made by any host)"""

    bl_idname = "motif.import_pack"
    bl_label = "Import Motif Pack"
    bl_options = {"REGISTER"}  # noqa: RUF012 - Blender reads a set

    filename_ext = ".json"
    filter_glob: StringProperty(default="pack.json;*.json", options={"HIDDEN"})  # type: ignore

    def execute(self, context: Any) -> set[str]:
        try:
            pack_dir, manifest = packinfo.read_pack(Path(bpy.path.abspath(self.filepath)))
            runtime.import_local(context.scene, pack_dir, manifest)
        except (ValueError, runner.Busy) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Motif: importing pack {manifest['pack_id'][:8]}…")
        return {"FINISHED"}


def menu_import(self: Any, context: Any) -> None:
    """File › Import › Motif Pack."""
    self.layout.operator(MOTIF_OT_import_pack.bl_idname, text="Motif Pack (pack.json)")


class MOTIF_OT_import_feed(bpy.types.Operator):
    """Import this pack from the engine's store (it may have been made by another host)"""

    bl_idname = "motif.import_feed"
    bl_label = "Import"

    pack_id: StringProperty()  # type: ignore

    def execute(self, context: Any) -> set[str]:
        if not self.pack_id:
            self.report({"ERROR"}, "Pick a pack in the feed first.")
            return {"CANCELLED"}
        local = runtime.cache_dir() / self.pack_id
        manifest: dict[str, Any] = {}
        if (local / packinfo.MANIFEST).is_file():
            try:
                local, manifest = packinfo.read_pack(local)
            except ValueError:
                manifest = {}  # incomplete: download it again
        return _import_or_fetch(self, context, self.pack_id, local, manifest)


class MOTIF_OT_watch_feed(bpy.types.Operator):
    """Show the packs the engine makes, for any host (Blender, Unreal, Resolve, Live, the CLI)"""

    bl_idname = "motif.watch_feed"
    bl_label = "Refresh Feed"

    def execute(self, context: Any) -> set[str]:
        p = _prefs_or_report(self, context)
        if p is None:
            return {"CANCELLED"}
        problem = runtime.watch_feed(p)
        if problem:
            self.report({"ERROR"}, problem)
            return {"CANCELLED"}
        return {"FINISHED"}


class MOTIF_OT_reattach(bpy.types.Operator):
    """Follow the job this file was waiting for (the engine ran it on) and import its pack"""

    bl_idname = "motif.reattach"
    bl_label = "Re-attach"

    def execute(self, context: Any) -> set[str]:
        p = _prefs_or_report(self, context)
        if p is None:
            return {"CANCELLED"}
        state = context.scene.motif
        if not state.job_id:
            self.report({"INFO"}, "This file waits for no Motif job.")
            return {"CANCELLED"}
        return _start(self, "reattach", p, context.scene, job_id=state.job_id, from_seq=int(state.job_seq) + 1,
                      context={"prompt": state.job_prompt}, said=f"Motif: re-attaching to job {state.job_id[:8]}…")


class MOTIF_OT_forget_job(bpy.types.Operator):
    """Stop waiting for this job here (the engine still finishes it; its pack appears in the feed)"""

    bl_idname = "motif.forget_job"
    bl_label = "Forget"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender reads a set

    def execute(self, context: Any) -> set[str]:
        props.remember_job(context.scene.motif, None)
        return {"FINISHED"}


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
        return _start(self, "generate", p, context.scene, spec=spec,
                      said=f"Motif: regenerating only {self.decoder} of pack {entry.pack_id[:8]}…")


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
        props.fill_latent(state, manifest.get("latent", {}), props.describe_of(state))
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
    """Per-decoder options carrying the sketch, for the chosen decoders whose Describe options take an
    image, each under that option's own name (base64 PNG, as the engine reads image options).

    Returns (options, warning). RuntimeError when the sketch cannot be captured.
    """
    if state.sketch_source == "NONE":
        return {}, ""
    targets = packinfo.sketch_targets(props.describe_of(state) or {}, decoders)
    if not targets:
        return {}, ("No chosen modality on this engine takes a sketch (press Test Connection to refresh); "
                    "generating from the prompt alone.")
    text = base64.b64encode(capture_sketch(context, state)).decode("ascii")
    return {decoder: {option: text} for decoder, option in targets.items()}, ""


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
    MOTIF_OT_cancel, MOTIF_OT_reimport, MOTIF_OT_import_pack, MOTIF_OT_import_feed, MOTIF_OT_watch_feed,
    MOTIF_OT_reattach, MOTIF_OT_forget_job, MOTIF_OT_regenerate_only, MOTIF_MT_regenerate, MOTIF_OT_lock_all,
    MOTIF_OT_load_pack_latent, MOTIF_OT_start_engine,
)
