"""Motif's dialogs: details views of small Python-defined objects (EditorDialog.show_object_details_view).

Pure Python cannot build Slate widgets, and an Editor Utility Widget would be a binary asset; a
details view of a `uclass` with `uproperty` fields is a native, modal editor dialog with OK and
Cancel that needs neither. Each function fills an object from current values, shows it, and
returns plain values (None when the designer pressed Cancel). Nothing here talks to the engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import unreal

from .settings import QUALITIES, Settings

MODALITIES = ("mesh", "music", "image", "video")


def _meta(name: str, category: str, tip: str, **extra: str) -> dict[str, str]:
    return {"DisplayName": name, "Category": category, "ToolTip": tip, **extra}


@unreal.uclass()
class MotifGenerateOptions(unreal.Object):
    """Generate Pack: what to ask the engine for."""

    prompt = unreal.uproperty(str, meta=_meta("Prompt", "Pack", "What the pack is of: a place, a mood, a time of "
                                                                "day.", MultiLine="true"))
    seed = unreal.uproperty(int, meta=_meta("Seed", "Pack", "The same prompt and seed make the same pack.",
                                            ClampMin="0"))
    mesh = unreal.uproperty(bool, meta=_meta("3D Kit", "Modalities", "Static meshes with LODs and materials."))
    music = unreal.uproperty(bool, meta=_meta("Music Loop", "Modalities", "A looping sound wave (and stems)."))
    image = unreal.uproperty(bool, meta=_meta("Concept Image", "Modalities", "A picture of the kit as a texture."))
    video = unreal.uproperty(bool, meta=_meta("Video Clip", "Modalities", "Made, but not imported into Unreal."))
    quality = unreal.uproperty(str, meta=_meta("Quality", "Pack", "draft or final."))
    options_json = unreal.uproperty(str, meta=_meta("Decoder Options (JSON)", "Advanced",
                                                    'Per decoder, as Describe lists them, e.g. '
                                                    '{"mesh": {"texture_size": 512}}.'))


@unreal.uclass()
class MotifImportOptions(unreal.Object):
    """Import Pack: a pack folder on disk, or a pack id from the engine's store."""

    pack_folder = unreal.uproperty(unreal.DirectoryPath, meta=_meta(
        "Pack Folder", "From Disk", "A Motif pack folder (the one holding pack.json)."))
    pack_id = unreal.uproperty(str, meta=_meta("Pack Id", "From the Engine",
                                               "Fetch this pack from the engine's store and import it."))


@unreal.uclass()
class MotifSettingsObject(unreal.Object):
    """Settings, as the details view edits them."""

    engine_address = unreal.uproperty(str, meta=_meta("Engine Address", "Engine", "host:port of `motif serve`."))
    token = unreal.uproperty(str, meta=_meta("Token", "Engine", "For an engine started with --token.",
                                             PasswordField="true"))
    ca_file = unreal.uproperty(str, meta=_meta("CA File", "Engine", "The engine's CA (`motif trust`), for TLS."))
    default_seed = unreal.uproperty(int, meta=_meta("Default Seed", "Generate", "", ClampMin="0"))
    quality = unreal.uproperty(str, meta=_meta("Default Quality", "Generate", "draft or final."))
    destination_root = unreal.uproperty(str, meta=_meta("Destination Root", "Import",
                                                        "Packs land in <root>/<pack id>/."))
    place_in_level = unreal.uproperty(bool, meta=_meta("Place In Level", "Import",
                                                       "Lay the kit out in front of the viewport camera (or at "
                                                       "the selected actor) with an ambient sound."))
    master_material = unreal.uproperty(str, meta=_meta("Master Material", "Import",
                                                       "Your own parent material (empty: Motif's); it must have "
                                                       "the parameters listed in the Motif docs."))


@dataclass
class GenerateRequest:
    prompt: str
    seed: int
    decoders: list[str]
    quality: str
    options: dict[str, dict[str, Any]] = field(default_factory=dict)


def _options() -> Any:
    return unreal.EditorDialogLibraryObjectDetailsViewOptions(show_object_name=False, allow_search=False,
                                                              allow_resizing=True, min_width=560,
                                                              value_column_width_ratio=0.6)


def _show(title: str, obj: Any) -> bool:
    return bool(unreal.EditorDialog.show_object_details_view(title, obj, _options()))


def ask_generate(s: Settings, last: GenerateRequest | None = None) -> GenerateRequest | None:
    """The Generate dialog, prefilled from the last request (or the settings); None on Cancel.
    ValueError with a sentence when what was typed cannot be sent."""
    obj = MotifGenerateOptions()
    obj.set_editor_property("prompt", last.prompt if last else "")
    obj.set_editor_property("seed", last.seed if last else s.default_seed)
    chosen = last.decoders if last else list(MODALITIES[:3])
    for m in MODALITIES:
        obj.set_editor_property(m, m in chosen)
    obj.set_editor_property("quality", last.quality if last else s.quality)
    obj.set_editor_property("options_json", json.dumps(last.options) if last and last.options else "")
    if not _show("Motif: Generate Pack", obj):
        return None
    prompt = str(obj.get_editor_property("prompt")).strip()
    if not prompt:
        raise ValueError("Type a prompt first: what the pack is of (a place, a mood, a time of day).")
    quality = str(obj.get_editor_property("quality")).strip() or "draft"
    if quality not in QUALITIES:
        raise ValueError(f"Quality must be one of {', '.join(QUALITIES)}; got {quality!r}.")
    decoders = [m for m in MODALITIES if bool(obj.get_editor_property(m))]
    if not decoders:
        raise ValueError("Tick at least one modality (3D Kit, Music Loop, Concept Image or Video Clip).")
    return GenerateRequest(prompt, int(obj.get_editor_property("seed")), decoders, quality,
                           parse_options(str(obj.get_editor_property("options_json"))))


def parse_options(text: str) -> dict[str, dict[str, Any]]:
    """Decoder options typed as JSON: {decoder: {option: value}}; ValueError with a sentence otherwise."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"Decoder Options is not valid JSON ({exc}). Example: "
                         '{"mesh": {"texture_size": 512}, "music": {"bars": 4}}') from None
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ValueError('Decoder Options must map each decoder to its options, e.g. {"mesh": {"assets": 6}}.')
    return {str(k): dict(v) for k, v in value.items()}


def ask_import() -> tuple[Path | None, str] | None:
    """The Import Pack dialog: (pack folder or None, pack id or ""); None on Cancel."""
    obj = MotifImportOptions()
    if not _show("Motif: Import Pack", obj):
        return None
    folder = str(obj.get_editor_property("pack_folder").get_editor_property("path")).strip()
    pack_id = str(obj.get_editor_property("pack_id")).strip()
    if not folder and not pack_id:
        raise ValueError("Pick a pack folder (the one holding pack.json), or type the id of a pack in the engine's "
                         "store.")
    return (Path(folder) if folder else None, pack_id)


def edit_settings(s: Settings) -> Settings | None:
    """The Settings dialog; the edited settings (not yet checked or saved), None on Cancel."""
    obj = MotifSettingsObject()
    values = {"engine_address": s.address, "token": s.token, "ca_file": s.ca_file, "default_seed": s.default_seed,
              "quality": s.quality, "destination_root": s.destination_root, "place_in_level": s.place_in_level,
              "master_material": s.master_material}
    for name, value in values.items():
        obj.set_editor_property(name, value)
    if not _show("Motif: Settings", obj):
        return None
    get = obj.get_editor_property
    return Settings(address=str(get("engine_address")).strip(), token=str(get("token")).strip(),
                    ca_file=str(get("ca_file")).strip(), default_seed=int(get("default_seed")),
                    quality=str(get("quality")).strip(), destination_root=str(get("destination_root")).strip(),
                    place_in_level=bool(get("place_in_level")), master_material=str(get("master_material")).strip())
