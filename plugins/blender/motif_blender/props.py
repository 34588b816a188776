"""Per-scene Motif state saved in the .blend: prompt, seed, modalities, the editable latent with
its locks, the history of packs (so a pack can be found, re-imported and replayed), and the engine
job still running when the file was saved (so reopening it offers a re-attach)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    FloatVectorProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from .kit import packinfo

SEED_MAX = 2**31 - 1  # Blender integer properties are 32-bit signed; the engine takes up to 2**32-1
NAME_MAX = 63  # Blender ID names (bytes) before 5.0; kept so names survive older files
QUALITY_ITEMS = [
    ("draft", "Draft", "Fast: fewer samples and shorter renders"),
    ("final", "Final", "Slower: full quality"),
]
SKETCH_ITEMS = [
    ("NONE", "None", "No sketch"),
    ("IMAGE", "Image", "An image datablock guides composition and palette"),
    ("VIEWPORT", "Viewport", "A render of the current viewport guides composition and palette"),
]

_filling = False  # True while the add-on writes values, so updates do not lock fields


class filling:
    """Context manager: write latent values without the edit-locks-the-field rule."""

    def __enter__(self) -> None:
        global _filling
        _filling = True

    def __exit__(self, *exc: object) -> None:
        global _filling
        _filling = False


def _state_of(owner: Any) -> Any:
    """The scene's MotifSceneState for any property group living in it."""
    scene = owner.id_data
    return getattr(scene, "motif", None)


def _lock(state: Any, name: str) -> None:
    if _filling or state is None:
        return
    for f in state.fields:
        if f.name == name and not f.locked:
            f.locked = True


def _field_float_update(self: Any, context: Any) -> None:
    if _filling:
        return
    lo, hi = self.vmin, self.vmax
    if lo < hi and not lo <= self.value <= hi:
        self.value = min(max(self.value, lo), hi)  # re-enters with the clamped value
        return
    if not self.locked:
        self.locked = True


def _field_text_update(self: Any, context: Any) -> None:
    if not _filling and not self.locked:
        self.locked = True


def _field_search(self: Any, context: Any, edit_text: str) -> list[str]:
    choices = [c for c in self.choices.split("\n") if c]
    if self.kind == "subjects":  # a comma-separated list: complete the name being typed
        return packinfo.complete_subjects(edit_text, choices)
    return [c for c in choices if edit_text.lower() in c.lower()] or choices


def _swatch_update(self: Any, context: Any) -> None:
    _lock(_state_of(self), "palette")


def _weight_update(self: Any, context: Any) -> None:
    _lock(_state_of(self), "instruments")


def _user_choice(self: Any, context: Any) -> None:
    """The user set seed or quality: the preferences' defaults must not replace it later."""
    if not self.initialized:
        self.initialized = True


class MotifSwatch(bpy.types.PropertyGroup):
    color: FloatVectorProperty(name="Colour", subtype="COLOR_GAMMA", size=3, min=0.0, max=1.0,  # type: ignore
                               update=_swatch_update)
    weight: FloatProperty(name="Weight", min=0.0, max=1.0, update=_swatch_update)  # type: ignore


class MotifWeight(bpy.types.PropertyGroup):
    # `name` is built in: the instrument family
    weight: FloatProperty(name="Weight", min=0.0, max=1.0, update=_weight_update)  # type: ignore


class MotifLatentField(bpy.types.PropertyGroup):
    """One named latent field as Describe states it; `value` or `text` holds it, `locked` pins it."""

    # `name` is built in: the field name
    kind: StringProperty()  # type: ignore  # float | int | choice | palette | weights | subjects
    doc: StringProperty()  # type: ignore
    vmin: FloatProperty()  # type: ignore
    vmax: FloatProperty()  # type: ignore
    choices: StringProperty()  # type: ignore  # newline-separated
    value: FloatProperty(name="Value", update=_field_float_update)  # type: ignore
    # a choice, or the subjects as comma-separated recipe names (hero first)
    text: StringProperty(name="Value", update=_field_text_update, search=_field_search)  # type: ignore
    locked: BoolProperty(name="Lock", description="Keep this value: it is sent as a pin")  # type: ignore


class MotifDecoderToggle(bpy.types.PropertyGroup):
    # `name` is built in: the decoder name
    enabled: BoolProperty(name="Generate", default=True)  # type: ignore
    summary: StringProperty()  # type: ignore
    placeholder: BoolProperty()  # type: ignore
    is_default: BoolProperty()  # type: ignore


class MotifHistoryEntry(bpy.types.PropertyGroup):
    """A pack made (or imported) in this .blend: enough to find it, re-import it and replay it."""

    # `name` is built in: the collection name shown in the list
    pack_id: StringProperty()  # type: ignore
    prompt: StringProperty()  # type: ignore
    seed: StringProperty()  # type: ignore  # up to 2**32-1, more than an IntProperty holds
    decoders: StringProperty()  # type: ignore  # comma-separated
    quality: StringProperty()  # type: ignore
    pack_dir: StringProperty(subtype="DIR_PATH")  # type: ignore
    collection: PointerProperty(type=bpy.types.Collection)  # type: ignore
    manifest_json: StringProperty()  # type: ignore
    created: StringProperty()  # type: ignore


class MotifSceneState(bpy.types.PropertyGroup):
    initialized: BoolProperty()  # type: ignore
    prompt: StringProperty(name="Prompt", description="Describe a place, a mood or a scene",  # type: ignore
                           default="abandoned cyberpunk marketplace at dusk with rain")
    seed: IntProperty(name="Seed", min=0, max=SEED_MAX, update=_user_choice,  # type: ignore
                      description="Same prompt and seed give the same pack")
    quality: EnumProperty(name="Quality", items=QUALITY_ITEMS, default="draft", update=_user_choice)  # type: ignore
    decoders: CollectionProperty(type=MotifDecoderToggle)  # type: ignore
    sketch_source: EnumProperty(name="Sketch", items=SKETCH_ITEMS, default="NONE")  # type: ignore
    sketch_image: PointerProperty(name="Sketch Image", type=bpy.types.Image)  # type: ignore
    hum_sound: PointerProperty(name="Hum", type=bpy.types.Sound,  # type: ignore
                               description="A sound whose hummed or sung melody the music is built on")
    hum_path: StringProperty(name="Hum File", subtype="FILE_PATH",  # type: ignore
                             description="A hummed melody (WAV, FLAC, OGG, MP3, M4A) the music is built on")
    fields: CollectionProperty(type=MotifLatentField)  # type: ignore
    palette: CollectionProperty(type=MotifSwatch)  # type: ignore
    instruments: CollectionProperty(type=MotifWeight)  # type: ignore
    latent_json: StringProperty()  # type: ignore  # the whole latent (with the embedding) from Encode
    history: CollectionProperty(type=MotifHistoryEntry)  # type: ignore
    history_index: IntProperty()  # type: ignore
    describe_json: StringProperty()  # type: ignore  # last Describe, for modalities and field ranges
    show_latent: BoolProperty(name="Latent", default=True)  # type: ignore
    show_history: BoolProperty(name="History", default=True)  # type: ignore
    # The engine job this scene is waiting for (it outlives Blender): set from its first event,
    # cleared once its pack is imported, it fails or it is cancelled.
    job_id: StringProperty()  # type: ignore
    job_seq: IntProperty(default=-1)  # type: ignore  # the last event handled; a re-attach resumes after it
    job_prompt: StringProperty()  # type: ignore
    job_started: StringProperty()  # type: ignore


CLASSES = (MotifSwatch, MotifWeight, MotifLatentField, MotifDecoderToggle, MotifHistoryEntry, MotifSceneState)


# ------------------------------------------------------------------ reading and writing the state


def ensure_initialized(scene: Any, prefs: Any | None) -> Any:
    """First use in a scene: defaults from the preferences and the standard modalities."""
    state = scene.motif
    if not state.initialized:
        if prefs is not None:
            state.seed = int(prefs.default_seed)
            state.quality = prefs.default_quality
        state.initialized = True
    if not len(state.decoders):
        for name in packinfo.MODALITIES:
            item = state.decoders.add()
            item.name = name
            item.enabled = True
            item.is_default = True
    return state


def set_decoders(state: Any, describe: Mapping[str, Any]) -> None:
    """Modalities from Describe (never a diagnostic decoder); keep the user's ticks for names that stay."""
    state.describe_json = json.dumps(describe)
    previous = {d.name: d.enabled for d in state.decoders}
    state.decoders.clear()
    for d in packinfo.offered_decoders(describe):
        item = state.decoders.add()
        item.name = d["name"]
        item.summary = d.get("summary", "")
        item.placeholder = bool(d.get("placeholder"))
        item.is_default = bool(d.get("default"))
        item.enabled = previous.get(d["name"], bool(d.get("default")))


def chosen_decoders(state: Any) -> list[str]:
    return [d.name for d in state.decoders if d.enabled]


def describe_of(state: Any) -> dict[str, Any] | None:
    """The last Describe this scene saw (None before Test Connection / the first task)."""
    return json.loads(state.describe_json) if state.describe_json else None


def remember_job(state: Any, job: Mapping[str, Any] | None, prompt: str = "") -> None:
    """Keep (or, with None, forget) the running engine job in the .blend, for a re-attach."""
    if job is None:
        state.job_id, state.job_seq, state.job_prompt, state.job_started = "", -1, "", ""
        return
    if state.job_id != job["job_id"]:
        state.job_id, state.job_prompt = str(job["job_id"]), prompt
        state.job_started = time.strftime("%Y-%m-%d %H:%M")
        state.job_seq = -1
    state.job_seq = max(int(state.job_seq), int(job.get("seq", -1)))


def fill_latent(state: Any, latent: Mapping[str, Any], describe: Mapping[str, Any] | None) -> None:
    """Show `latent` as editable fields; locks the user set are kept."""
    fields_info = packinfo.editable_fields((describe or {}).get("latent_fields", [])) or [
        {"name": k, "kind": _kind_of(k, v)} for k, v in latent.items() if k not in packinfo.HIDDEN_FIELDS
    ]
    locked = {f.name for f in state.fields if f.locked}
    with filling():
        state.latent_json = json.dumps(dict(latent))
        state.fields.clear()
        for info in fields_info:
            name = info["name"]
            value = packinfo.field_value(latent, name)
            if value is None:
                continue
            f = state.fields.add()
            f.name = name
            f.kind = info.get("kind", _kind_of(name, value))
            f.doc = info.get("doc", "")
            f.vmin = float(info.get("min", 0.0))
            f.vmax = float(info.get("max", 0.0))
            f.choices = "\n".join(info.get("choices", []))
            if f.kind in ("float", "int"):
                f.value = float(value)
            elif f.kind == "choice":
                f.text = str(value)
            elif f.kind == "subjects":
                f.text = packinfo.subjects_text(value)
            f.locked = name in locked
        state.palette.clear()
        for sw in latent.get("palette", []):
            item = state.palette.add()
            lin = str(sw["color"]).lstrip("#")
            item.color = tuple(int(lin[i : i + 2], 16) / 255.0 for i in (0, 2, 4))
            item.weight = float(sw.get("weight", 0.0))
        state.instruments.clear()
        for name, weight in sorted(latent.get("instruments", {}).items()):
            item = state.instruments.add()
            item.name = name
            item.weight = float(weight)


def _kind_of(name: str, value: Any) -> str:
    """A field's kind from its value, for a latent shown before any Describe."""
    if name == "subjects":
        return "subjects"
    if isinstance(value, list):
        return "palette"
    if isinstance(value, dict):
        return "weights"
    if isinstance(value, str):
        return "choice"
    return "float"


def current_latent(state: Any) -> dict[str, Any]:
    """The latent as the panel shows it now (edits applied)."""
    latent: dict[str, Any] = json.loads(state.latent_json) if state.latent_json else {}
    for f in state.fields:
        if f.kind in ("float", "int"):
            latent[f.name] = int(f.value) if f.kind == "int" else float(f.value)
        elif f.kind == "choice":
            latent[f.name] = f.text
        elif f.kind == "subjects":
            latent[f.name] = packinfo.subjects_value(f.text, latent.get(f.name))
        elif f.kind == "palette":
            latent[f.name] = [
                {"color": "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in sw.color),
                 "weight": float(sw.weight)}
                for sw in state.palette
            ]
        elif f.kind == "weights":
            latent[f.name] = {w.name: float(w.weight) for w in state.instruments}
    return latent


def current_pins(state: Any) -> dict[str, Any]:
    """Locked fields as pins for Encode / Generate."""
    if not len(state.fields):
        return {}
    pins = packinfo.pins_for(current_latent(state), [f.name for f in state.fields if f.locked])
    if "palette" in pins:
        total = sum(s["weight"] for s in pins["palette"]) or 1.0
        pins["palette"] = [{"color": s["color"], "weight": s["weight"] / total} for s in pins["palette"]]
    return pins


def add_history(state: Any, manifest: Mapping[str, Any], pack_dir: str, collection: Any, created: str) -> Any:
    entry = state.history.add()
    entry.name = collection.name if collection else collection_name(manifest)
    entry.pack_id = str(manifest.get("pack_id", ""))
    entry.prompt = str(manifest.get("request", {}).get("prompt", ""))
    entry.seed = str(manifest.get("seed", 0))
    entry.decoders = ",".join(packinfo.pack_decoders(manifest))
    entry.quality = str(manifest.get("request", {}).get("quality", "draft"))
    entry.pack_dir = pack_dir
    entry.collection = collection
    entry.manifest_json = json.dumps(dict(manifest), sort_keys=True)
    entry.created = created
    state.history_index = len(state.history) - 1
    return entry


def collection_name(manifest: Mapping[str, Any]) -> str:
    """"Motif <prompt> [<pack id>]" within Blender's ID name limit."""
    return packinfo.pack_title(manifest, NAME_MAX)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.motif = PointerProperty(type=MotifSceneState)


def unregister() -> None:
    del bpy.types.Scene.motif
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
