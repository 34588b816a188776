"""Small Unreal asset operations the importer repeats: one file through AssetTools, a texture's
colour space and compression, metadata tags, an Interchange pipeline for a kit GLB.

Every UObject property the stub marks editor-only is set with set_editor_property (the stub shows
which ones exist; a name it lacks fails in the tests' stand-in as it would in the editor).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import unreal

from .kit import level_plan


class ImportFailed(Exception):
    """Unreal imported nothing from a file (its importer logs why in the Output Log)."""


def import_file(file: Path, folder: str, name: str, options: Any = None) -> list[Any]:
    """Import one file into `folder` (replacing an asset of the same name) and return what it made.

    One AssetImportTask per call, automated (no dialogs), not saved (the importer saves the pack's
    folder once at the end). Interchange names assets after the file, so plans name files as assets."""
    task = unreal.AssetImportTask()
    task.set_editor_property("filename", str(file))
    task.set_editor_property("destination_path", folder)
    task.set_editor_property("destination_name", name)
    task.set_editor_property("replace_existing", True)
    task.set_editor_property("replace_existing_settings", True)
    task.set_editor_property("automated", True)
    task.set_editor_property("save", False)
    if options is not None:
        task.set_editor_property("options", options)
    unreal.AssetToolsHelpers.get_asset_tools().import_asset_tasks([task])
    made = [o for o in task.get_objects() if o is not None]
    if not made:
        raise ImportFailed(f"Unreal could not import {Path(file).name} into {folder} (the Output Log says why).")
    return made


def first_of(objects: list[Any], cls: Any, file: Path) -> Any:
    for o in objects:
        if isinstance(o, cls):
            return o
    raise ImportFailed(f"Importing {Path(file).name} made no {cls.__name__}.")


_COMPRESSION = {
    "default": "TC_DEFAULT",
    "masks": "TC_MASKS",
    "normalmap": "TC_NORMALMAP",
}


def configure_texture(texture: Any, plan: level_plan.TexturePlan) -> None:
    """sRGB for colour, linear + mask compression for packed ORM, normal-map settings for normals."""
    texture.set_editor_property("srgb", plan.srgb)
    texture.set_editor_property("compression_settings",
                                getattr(unreal.TextureCompressionSettings, _COMPRESSION[plan.compression]))
    if plan.role == "normal":
        texture.set_editor_property("lod_group", unreal.TextureGroup.TEXTUREGROUP_WORLD_NORMAL_MAP)
        texture.set_editor_property("flip_green_channel", False)  # glTF and Unreal both use green-up maps
    elif plan.role == "image":
        texture.set_editor_property("lod_group", unreal.TextureGroup.TEXTUREGROUP_UI)


def import_texture(plan: level_plan.TexturePlan, folder: str, tags: Mapping[str, str]) -> Any:
    texture = first_of(import_file(plan.file, folder, plan.name), unreal.Texture2D, plan.file)
    configure_texture(texture, plan)
    tag(texture, tags)
    return texture


def tag(asset: Any, tags: Mapping[str, str]) -> None:
    """Metadata tags (Asset Details › Metadata; searchable in the Content Browser)."""
    for key, value in tags.items():
        unreal.EditorAssetLibrary.set_metadata_tag(asset, key, value)


def mesh_pipeline_stack(asset_name: str) -> Any:
    """Interchange options for one kit GLB: a static mesh named `asset_name`, LODs kept, simple
    collision, Nanite off (the pieces are small and carry their own LODs), lightmap UVs from the
    file's second UV set; no materials or textures (the importer makes its own instances)."""
    pipeline = unreal.InterchangeGenericAssetsPipeline()
    pipeline.set_editor_property("asset_name", asset_name)
    pipeline.set_editor_property("import_offset_uniform_scale", 1.0)
    mesh = pipeline.get_editor_property("mesh_pipeline")
    mesh.set_editor_property("import_static_meshes", True)
    mesh.set_editor_property("import_skeletal_meshes", False)
    mesh.set_editor_property("combine_static_meshes", True)
    mesh.set_editor_property("build_nanite", False)
    mesh.set_editor_property("collision", True)
    mesh.set_editor_property("fallback_collision_type", unreal.InterchangeMeshCollision.BOX)
    mesh.set_editor_property("generate_lightmap_u_vs", False)
    mesh.set_editor_property("auto_compute_lod_screen_sizes", False)
    material = pipeline.get_editor_property("material_pipeline")
    material.set_editor_property("import_materials", False)
    material.get_editor_property("texture_pipeline").set_editor_property("import_textures", False)
    stack = unreal.InterchangePipelineStackOverride()
    stack.add_pipeline(pipeline)
    return stack
