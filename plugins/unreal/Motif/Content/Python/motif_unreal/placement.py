"""Placing an imported kit in the open level: the pieces on the kit's grid in front of the viewport
camera (or at the selected actor), and an AmbientSound playing the loop. Positions come from the
host-free plan (level_plan: centimetres, +Z up); this module only spawns and labels actors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import unreal

from .kit import level_plan as lp

FOLDER = "Motif"


def actor_tags(pack_id: str) -> list[str]:
    """Tags on every actor Motif places: find (and replace) a pack's actors by them."""
    return ["Motif", f"Motif.{pack_id}"]


def anchor(plan: lp.PackPlan) -> tuple[float, float, float]:
    """The selected actor's location, else a point on the ground ahead of the viewport camera."""
    actors = unreal.get_editor_subsystem(unreal.EditorActorSubsystem)
    selected = [a for a in actors.get_selected_level_actors() if a is not None]
    if selected:
        loc = selected[0].get_actor_location()
        return lp.snap((loc.x, loc.y, loc.z), plan.grid_cm)
    view = unreal.get_editor_subsystem(unreal.UnrealEditorSubsystem).get_level_viewport_camera_info()
    if not view:
        return (0.0, 0.0, 0.0)
    location, rotation = view
    return lp.anchor_in_front((location.x, location.y, location.z), rotation.yaw, lp.view_distance_cm(plan),
                              plan.grid_cm)


def pack_actors(pack_id: str) -> list[Any]:
    """Actors of the level that an earlier import of this pack placed."""
    wanted = f"Motif.{pack_id}"
    actors = unreal.get_editor_subsystem(unreal.EditorActorSubsystem).get_all_level_actors()
    return [a for a in actors if a is not None and wanted in [str(t) for t in a.tags]]


def place(plan: lp.PackPlan, meshes: Mapping[str, Any], loop: Any | None) -> list[Any]:
    """Spawn the kit (and the loop); returns the actors, in the order made."""
    actors = unreal.get_editor_subsystem(unreal.EditorActorSubsystem)
    where = anchor(plan)
    folder = f"{FOLDER}/{lp.asset_name('', plan.title)}_{plan.pack_id[:8]}"
    tags = actor_tags(plan.pack_id)
    made: list[Any] = []
    for name, (x, y, z) in lp.placed(plan, where).items():
        actor = actors.spawn_actor_from_object(meshes[name], unreal.Vector(x, y, z), unreal.Rotator(0.0, 0.0, 0.0))
        if actor is None:
            raise RuntimeError(f"Unreal could not place {name} in the level.")
        made.append(actor)
        _label(actor, name.removeprefix("SM_"), folder, tags)
    if loop is not None:
        x, y, z = lp.sound_location(where)
        sound = actors.spawn_actor_from_class(unreal.AmbientSound, unreal.Vector(x, y, z),
                                              unreal.Rotator(0.0, 0.0, 0.0))
        if sound is None:
            raise RuntimeError("Unreal could not place the ambient sound in the level.")
        made.append(sound)
        sound.audio_component.set_sound(loop)
        _label(sound, "Motif_Loop", folder, tags)
    return made


def _label(actor: Any, label: str, folder: str, tags: list[str]) -> None:
    actor.set_actor_label(label)
    actor.set_folder_path(folder)
    actor.tags = tags
