"""Import a downloaded pack as native assets, in one go, on the game thread.

`PackImport` is the task session's ImportJob (motif_client.tasks): `begin` plans the import
without touching the project (level_plan reads and splits the GLBs and writes the files to
import), so a broken pack is refused before anything is made. `steps()` then does everything in
its first step, inside one undo transaction and one modal slow task with Cancel: replace an earlier
import of the same pack (its actors and its folder), textures, material instances, meshes (LOD0 by
Interchange, LOD1+ with import_lod), sounds, the concept image, metadata tags, save, placement.
Any failure or Cancel removes the pack's folder and the actors placed so far, and cancels the
transaction: nothing half-imported is left behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import unreal

from . import assets, faults, materials, placement
from .kit import level_plan as lp
from .progress import ImportCancelled, ImportProgress
from .settings import Settings


@dataclass
class ImportResult:
    folder: str
    meshes: dict[str, Any] = field(default_factory=dict)
    textures: dict[str, Any] = field(default_factory=dict)
    materials: dict[str, Any] = field(default_factory=dict)
    sounds: dict[str, Any] = field(default_factory=dict)
    images: dict[str, Any] = field(default_factory=dict)
    actors: list[Any] = field(default_factory=list)
    replaced: bool = False
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{len(self.meshes)} static meshes", f"{len(self.materials)} material instances",
                 f"{len(self.textures) + len(self.images)} textures", f"{len(self.sounds)} sound waves"]
        placed = f"; placed {len(self.actors)} actors in the level" if self.actors else ""
        extra = f"; not imported: {', '.join(self.skipped)}" if self.skipped else ""
        again = " (replacing the earlier import)" if self.replaced else ""
        return f"Imported {', '.join(parts)} into {self.folder}{again}{placed}{extra}."


class PackImport:
    """One pack's import (tasks.ImportJob)."""

    def __init__(self, pack_dir: Path, manifest: Mapping[str, Any], s: Settings, work_dir: Path) -> None:
        self.settings = s
        self.work_dir = Path(work_dir)
        self.manifest = dict(manifest)
        problem = lp.root_problem(s.destination_root)
        if problem:
            raise ValueError(problem)
        try:
            self.plan = lp.plan_pack(Path(pack_dir), manifest, self.work_dir, s.destination_root)
        except (OSError, ValueError) as exc:
            raise ValueError(f"The pack cannot be imported: {exc} Nothing was imported.") from None
        self.result = ImportResult(self.plan.folder, skipped=list(self.plan.skipped))
        self.cancelled = False

    def steps(self) -> Iterator[tuple[float, str]]:
        self.run()
        yield (1.0, self.result.summary())

    def abort(self) -> None:
        """Nothing to undo between steps: the import is one step, undone before it returns."""

    def run(self) -> ImportResult:
        plan, result = self.plan, self.result
        title = f"Motif: importing {plan.title}"
        with unreal.ScopedEditorTransaction(title) as transaction:
            try:
                with ImportProgress(plan.steps + 3, title) as progress:
                    self._import(progress)
            except BaseException as exc:
                self._undo()
                transaction.cancel()
                if isinstance(exc, ImportCancelled):
                    self.cancelled = True
                    raise
                if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: undone, then passed on
                    raise
                if isinstance(exc, (assets.ImportFailed, materials.MaterialError)):
                    raise RuntimeError(f"{exc} Nothing was imported: {plan.folder} was removed.") from None
                raise RuntimeError(f"The import failed ({type(exc).__name__}: {exc}). Nothing was imported: "
                                   f"{plan.folder} was removed.") from exc
        return result

    def _undo(self) -> None:
        faults.remove_actors(self.result.actors)
        self.result.actors = []
        faults.remove_folder(self.plan.folder)

    def _import(self, progress: ImportProgress) -> None:
        plan, result, s = self.plan, self.result, self.settings
        progress.step("Preparing the master material…")
        parent = materials.master(s.destination_root, s.master_material, self.work_dir)
        progress.step("Replacing an earlier import of this pack…")
        old = placement.pack_actors(plan.pack_id)
        faults.remove_actors(old)  # first: the folder's assets are free to delete once no actor uses them
        result.replaced = faults.remove_folder(plan.folder) or bool(old)
        unreal.EditorAssetLibrary.make_directory(plan.folder)
        for tex in plan.textures:
            progress.step(f"Texture {tex.name}")
            result.textures[tex.name] = assets.import_texture(tex, plan.subfolder("Textures"),
                                                              lp.asset_tags(plan.tags, "texture", tex.source))
        for mat in plan.materials:
            progress.step(f"Material {mat.name}")
            result.materials[mat.name] = materials.instance(mat, parent, result.textures, plan.subfolder("Materials"),
                                                            lp.asset_tags(plan.tags, "material", mat.source_name))
        for mesh in plan.meshes:
            progress.step(f"Mesh {mesh.name}")
            result.meshes[mesh.name] = self._mesh(mesh)
        for sound in plan.sounds:
            progress.step(f"Sound {sound.name}")
            folder = plan.subfolder("Audio") if sound.role == "music" else plan.subfolder("Audio/Stems")
            wave = assets.first_of(assets.import_file(sound.file, folder, sound.name), unreal.SoundWave, sound.file)
            wave.set_editor_property("looping", sound.looping)
            assets.tag(wave, lp.asset_tags(plan.tags, sound.role, sound.source))
            result.sounds[sound.name] = wave
        for image in plan.images:
            progress.step(f"Image {image.name}")
            result.images[image.name] = assets.import_texture(image, plan.subfolder("Images"),
                                                              lp.asset_tags(plan.tags, "image", image.source))
        unreal.EditorAssetLibrary.save_directory(plan.folder, True, True)
        progress.step("Placing the kit…")
        if s.place_in_level and result.meshes:
            loop = next((w for n, w in result.sounds.items()
                         if any(p.name == n and p.role == "music" for p in plan.sounds)), None)
            result.actors = placement.place(plan, result.meshes, loop)

    def _mesh(self, mesh: lp.MeshPlan) -> Any:
        plan, result = self.plan, self.result
        folder = plan.subfolder("Meshes")
        lod0 = mesh.lod_files[0]
        sm = assets.first_of(assets.import_file(lod0, folder, mesh.name, assets.mesh_pipeline_stack(mesh.name)),
                             unreal.StaticMesh, lod0)
        sub = unreal.get_editor_subsystem(unreal.StaticMeshEditorSubsystem)
        for level, file in enumerate(mesh.lod_files[1:], start=1):
            if sub.import_lod(sm, level, str(file)) < 0:
                result.warnings.append(f"{mesh.name}: LOD{level} could not be imported")
        if mesh.screen_sizes and sub.get_lod_count(sm) == len(mesh.screen_sizes):
            sub.set_lod_screen_sizes(sm, list(mesh.screen_sizes))
        sub.set_nanite_settings(sm, unreal.MeshNaniteSettings(enabled=False), True)
        if sub.get_simple_collision_count(sm) == 0:
            sub.add_simple_collisions(sm, unreal.ScriptCollisionShapeType.BOX)
        for i, slot in enumerate(mesh.slots):
            mi = result.materials.get(mesh.materials.get(slot, ""))
            if mi is None:
                continue
            index = sm.get_material_index(slot)
            sm.set_material(index if index >= 0 else i, mi)
        assets.tag(sm, lp.asset_tags(plan.tags, "mesh", mesh.source))
        return sm
