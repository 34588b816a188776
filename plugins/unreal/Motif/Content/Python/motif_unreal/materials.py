"""Motif's master material (made once per destination root) and one material instance per glTF material.

The master takes the glTF metallic-roughness model as parameters (names in level_plan and
docs/UNREAL.md): BaseColor x BaseColorFactor; ORM: R occlusion, G roughness x RoughnessFactor,
B metallic x MetallicFactor; Normal; Emissive x EmissiveColor. A studio can name its own parent
material in Settings instead; it must expose the same parameter names.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import unreal

from . import assets
from .kit import level_plan as lp

MEL = unreal.MaterialEditingLibrary


class MaterialError(Exception):
    """The master material cannot be found or made."""


def master(root: str, custom: str, work_dir: Path) -> Any:
    """The parent of every Motif material instance: the studio's (Settings) or Motif's own."""
    if custom:
        found = unreal.EditorAssetLibrary.load_asset(custom)
        if found is None or not isinstance(found, unreal.MaterialInterface):
            raise MaterialError(f"The master material {custom} in Motif's Settings does not exist or is not a "
                                "material. Fix the path, or clear it to use Motif's own.")
        return found
    path = f"{root.rstrip('/')}/{lp.MASTER_MATERIAL}"
    if unreal.EditorAssetLibrary.does_asset_exist(path):
        return unreal.EditorAssetLibrary.load_asset(path)
    return _make_master(root.rstrip("/"), work_dir)


def _param(material: Any, cls: Any, name: str, x: int, y: int, **props: Any) -> Any:
    e = MEL.create_material_expression(material, cls, x, y)
    e.set_editor_property("parameter_name", name)
    for key, value in props.items():
        e.set_editor_property(key, value)
    return e


def _multiply(material: Any, a: Any, a_out: str, b: Any, b_out: str, x: int, y: int) -> Any:
    m = MEL.create_material_expression(material, unreal.MaterialExpressionMultiply, x, y)
    MEL.connect_material_expressions(a, a_out, m, "A")
    MEL.connect_material_expressions(b, b_out, m, "B")
    return m


def _make_master(root: str, work_dir: Path) -> Any:
    defaults_folder = f"{root}/Defaults"
    tags = {lp.TAG_PREFIX + "Role": "default"}
    made = {role: assets.import_texture(plan, defaults_folder, tags)
            for role, plan in lp.default_textures(work_dir / "defaults").items()}
    tools = unreal.AssetToolsHelpers.get_asset_tools()
    mat = tools.create_asset(lp.MASTER_MATERIAL, root, unreal.Material, unreal.MaterialFactoryNew())
    if mat is None:
        raise MaterialError(f"Unreal could not create {root}/{lp.MASTER_MATERIAL}.")
    tsp = unreal.MaterialExpressionTextureSampleParameter2D
    sampler = unreal.MaterialSamplerType
    base = _param(mat, tsp, lp.PARAM_BASE_COLOR, -900, -400, texture=made["color"],
                  sampler_type=sampler.SAMPLERTYPE_COLOR)
    base_factor = _param(mat, unreal.MaterialExpressionVectorParameter, lp.PARAM_BASE_COLOR_FACTOR, -900, -150,
                         default_value=unreal.LinearColor(1.0, 1.0, 1.0, 1.0))
    orm = _param(mat, tsp, lp.PARAM_ORM, -900, 50, texture=made["orm"], sampler_type=sampler.SAMPLERTYPE_MASKS)
    metallic = _param(mat, unreal.MaterialExpressionScalarParameter, lp.PARAM_METALLIC, -900, 300, default_value=1.0)
    roughness = _param(mat, unreal.MaterialExpressionScalarParameter, lp.PARAM_ROUGHNESS, -900, 400,
                       default_value=1.0)
    normal = _param(mat, tsp, lp.PARAM_NORMAL, -900, 550, texture=made["normal"],
                    sampler_type=sampler.SAMPLERTYPE_NORMAL)
    emissive = _param(mat, tsp, lp.PARAM_EMISSIVE, -900, 800, texture=made["color"],
                      sampler_type=sampler.SAMPLERTYPE_COLOR)
    emissive_color = _param(mat, unreal.MaterialExpressionVectorParameter, lp.PARAM_EMISSIVE_COLOR, -900, 1050,
                            default_value=unreal.LinearColor(0.0, 0.0, 0.0, 1.0))
    prop = unreal.MaterialProperty
    MEL.connect_material_property(_multiply(mat, base, "RGB", base_factor, "", -400, -300), "", prop.MP_BASE_COLOR)
    MEL.connect_material_property(orm, "R", prop.MP_AMBIENT_OCCLUSION)
    MEL.connect_material_property(_multiply(mat, orm, "G", roughness, "", -400, 200), "", prop.MP_ROUGHNESS)
    MEL.connect_material_property(_multiply(mat, orm, "B", metallic, "", -400, 350), "", prop.MP_METALLIC)
    MEL.connect_material_property(normal, "RGB", prop.MP_NORMAL)
    MEL.connect_material_property(_multiply(mat, emissive, "RGB", emissive_color, "", -400, 900), "",
                                  prop.MP_EMISSIVE_COLOR)
    MEL.layout_material_expressions(mat)
    MEL.recompile_material(mat)
    assets.tag(mat, tags)
    unreal.EditorAssetLibrary.save_loaded_asset(mat, False)
    return mat


def instance(plan: lp.MaterialPlan, parent: Any, textures: Mapping[str, Any], folder: str,
             tags: Mapping[str, str]) -> Any:
    """One MaterialInstanceConstant of `parent` with the glTF material's textures and factors."""
    tools = unreal.AssetToolsHelpers.get_asset_tools()
    mi = tools.create_asset(plan.name, folder, unreal.MaterialInstanceConstant,
                            unreal.MaterialInstanceConstantFactoryNew())
    if mi is None:
        raise assets.ImportFailed(f"Unreal could not create the material instance {folder}/{plan.name}.")
    MEL.set_material_instance_parent(mi, parent)
    for param, texture_name in plan.textures.items():
        MEL.set_material_instance_texture_parameter_value(mi, param, textures[texture_name])
    for param, (r, g, b, a) in plan.vectors.items():
        MEL.set_material_instance_vector_parameter_value(mi, param, unreal.LinearColor(r, g, b, a))
    for param, value in plan.scalars.items():
        MEL.set_material_instance_scalar_parameter_value(mi, param, float(value))
    MEL.update_material_instance(mi)
    assets.tag(mi, tags)
    return mi
