"""The Motif plugin for Unreal Engine 5, against a stand-in `unreal` generated from the UE 5.6 stub.

Unreal cannot run here. `plugins/unreal/testing/ue_standin.py` builds an `unreal` module from the
engine-written stub (`unreal-stub==0.3`, read by ue_stubspec.py): exactly its classes, methods,
properties, editor properties and enum values, with argument checking, so a call the real API lacks
raises; ue_world.py models what the editor does with them (assets, actors, menus, dialogs,
transactions) and records every call. The plugin runs as staged by scripts/build_unreal_plugin.py
(with the vendored client), with a real engine on loopback and real packs; its menu entries are
"clicked" by running their Python commands, and the Slate post-tick callback is ticked by the test.

What only a real editor can confirm is listed in docs/UNREAL.md.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import json
import os
import socket
import subprocess
import sys
import time
import wave
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTING = ROOT / "plugins" / "unreal" / "testing"
PLUGIN_SOURCE = ROOT / "plugins" / "unreal" / "Motif"
SHARED_TOOL = ROOT.parent / "shared" / "tools" / "host_api_check.py"
PROMPT = "abandoned cyberpunk marketplace at dusk with rain"
SMALL = {"mesh": {"texture_size": 512, "assets": 5}, "music": {"bars": 2}, "image": {"width": 320, "height": 180}}
for p in (TESTING, ROOT / "scripts"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import build_unreal_plugin as builder  # noqa: E402
import ue_stubspec  # noqa: E402
import ue_world  # noqa: E402

# =================================================================== fixtures


@dataclass
class Editor:
    """One editor session: the world behind `unreal`, and the plugin's modules."""

    world: ue_world.World
    unreal: Any
    python_dir: Path
    runtime: Any

    def click(self, label: str, menu: str = "LevelEditor.MainMenu.Motif") -> None:
        """Run a menu entry's command as the editor does (Python string command)."""
        for entries in self.world.menus[menu]._meta["sections"].values():
            for e in entries:
                if e.get("label") == label and e.get("python"):
                    exec(e["python"], {})
                    return
        raise KeyError(f"no menu entry {label!r} in {menu}")

    def answer(self, **values: Any) -> None:
        """The next details views (dialogs) get these values typed in and OK pressed."""
        def fill(title: str, obj: Any) -> bool:
            for k, v in values.items():
                if k == "pack_folder":
                    obj.get_editor_property("pack_folder").set_editor_property("path", str(v))
                else:
                    obj.set_editor_property(k, v)
            return True
        self.world.on_details_view = fill

    def settings(self, **values: Any) -> None:
        base = {"engine_address": "127.0.0.1:1", "token": "", "destination_root": "/Game/Motif",
                "place_in_level": True, "quality": "draft", "default_seed": 0, "master_material": "", "ca_file": ""}
        self.answer(**{**base, **values})
        self.click("Settings…")

    def run(self, timeout_s: float = 180.0) -> list[float]:
        """Tick the editor until Motif's task ends; the durations of ticks outside the import."""
        w, rt = self.world, self.runtime
        durations: list[float] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            before = len(w.slow_tasks)
            t = time.perf_counter()
            w.tick(0.1)
            took = time.perf_counter() - t
            if len(w.slow_tasks) == before:
                durations.append(took)
            if not rt.SESSION.busy():
                return durations
            time.sleep(0.01)
        raise AssertionError(f"Motif still busy after {timeout_s} s: {rt.SESSION.status.text}")

    def reset(self) -> None:
        w = self.world
        self.runtime.REPORTS.clear()
        w.dialogs.clear()
        w.logs.clear()
        w.fail_files.clear()
        w.cancel_slow_task_after = None
        w.selected.clear()

    def last_report(self) -> tuple[str, str]:
        assert self.runtime.REPORTS, "Motif reported nothing"
        return self.runtime.REPORTS[-1]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return ue_stubspec.load()


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin as the build stages it (vendored client, no wheels: this interpreter has grpcio)."""
    return builder.stage([], tmp_path_factory.mktemp("stage"))


@pytest.fixture(scope="module")
def editor(staged: Path, tmp_path_factory: pytest.TempPathFactory, spec: dict[str, Any]) -> Iterator[Editor]:
    """The editor starting with the plugin enabled: the stand-in, then the plugin's init_unreal.py."""
    world = ue_world.World(tmp_path_factory.mktemp("Saved"))
    module = world.install()
    python_dir = staged / "Content" / "Python"
    sys.path.insert(0, str(python_dir))
    for name in [m for m in sys.modules if m == "motif_unreal" or m.startswith("motif_unreal.")]:
        del sys.modules[name]
    sys.modules.pop("init_unreal", None)
    importlib.import_module("init_unreal")
    runtime = importlib.import_module("motif_unreal.runtime")
    yield Editor(world, module, python_dir, runtime)
    runtime.shutdown()
    sys.path.remove(str(python_dir))
    for name in [m for m in sys.modules if m in ("motif_unreal", "init_unreal") or m.startswith("motif_unreal.")]:
        del sys.modules[name]
    sys.modules.pop("unreal", None)


@pytest.fixture(scope="module")
def generated(editor: Editor, engine: Any) -> dict[str, Any]:
    """Motif › Generate Pack… against the real engine: mesh, music and image, small settings."""
    editor.reset()
    editor.settings(engine_address=engine.address)
    editor.world.camera = ((1000.0, -500.0, 170.0), 90.0)
    editor.answer(prompt=PROMPT, seed=7, mesh=True, music=True, image=True, video=False,
                  options_json=json.dumps(SMALL))
    first_call = len(editor.world.calls)
    t0 = time.monotonic()
    editor.click("Generate Pack…")
    ticks = editor.run()
    level, message = editor.last_report()
    assert level == "INFO", message
    result = editor.runtime.HOST.last_result
    pack_id = result.folder.rsplit("/", 1)[-1]
    pack_dir = editor.world.saved_dir / "Motif" / "packs" / pack_id
    manifest = json.loads((pack_dir / "pack.json").read_text())
    return {"result": result, "manifest": manifest, "pack_dir": pack_dir, "ticks": ticks, "first_call": first_call,
            "seconds": time.monotonic() - t0, "message": message, "calls": list(editor.world.calls[first_call:])}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# =================================================================== the stand-in is the stub


def test_stand_in_has_exactly_the_stubs_api(editor: Editor, spec: dict[str, Any]) -> None:
    unreal = editor.unreal
    assert len(spec["classes"]) > 8000 and spec["stub"]["version"] == "0.3"
    assert set(dir(unreal)) == set(spec["classes"]) | set(spec["functions"])
    # UObject constructors take (outer, name) only; structs take their properties
    with pytest.raises(TypeError, match="filename"):
        unreal.AssetImportTask(filename="x.glb")
    v = unreal.Vector(x=1.0, y=2.0, z=3.0)
    assert (v.x, v.y, v.z) == (1.0, 2.0, 3.0)
    with pytest.raises(TypeError):
        unreal.Vector(w=1.0)
    # names the stub lacks fail, on the module, on classes and on instances
    with pytest.raises(AttributeError):
        _ = unreal.AssetImportTaskk
    with pytest.raises(AttributeError):
        _ = unreal.EditorAssetLibrary.does_directory_exists
    task = unreal.AssetImportTask()
    with pytest.raises(AttributeError):
        task.filenam = "x"
    # a wrong keyword on a real method fails; enum values are the stub's
    with pytest.raises(TypeError, match="destination_folder"):
        unreal.EditorAssetLibrary.does_directory_exist("/Game", destination_folder="/Game")
    assert unreal.TextureCompressionSettings.TC_MASKS._meta["value"] == 2
    with pytest.raises(AttributeError):
        _ = unreal.TextureCompressionSettings.TC_MASK
    # editor-only properties only through get/set_editor_property; read-only ones refuse a set
    sm = editor.world.new("StaticMesh")
    with pytest.raises(AttributeError):
        _ = sm.lod_group
    sm.set_editor_property("lod_group", "SmallProp")
    assert sm.get_editor_property("lod_group") == "SmallProp"
    with pytest.raises(Exception, match="Failed to find property"):
        sm.set_editor_property("lod_groupp", "x")
    pipeline = unreal.InterchangeGenericAssetsPipeline()
    with pytest.raises(Exception, match="read-only"):
        pipeline.set_editor_property("mesh_pipeline", None)
    assert editor.world.is_a(pipeline.get_editor_property("mesh_pipeline"), "InterchangeGenericMeshPipeline")
    with pytest.raises(AttributeError, match="has no setter"):
        unreal.AmbientSound.audio_component.__set__(editor.world.new("AmbientSound"), None)


def test_editor_start_registers_the_menu_and_loads_nothing_else(editor: Editor) -> None:
    sections = editor.world.menus["LevelEditor.MainMenu.Motif"]._meta["sections"]
    labels = [e["label"] for entries in sections.values() for e in entries]
    for wanted in ("Generate Pack…", "Import Pack…", "Packs", "Settings…", "Test Connection", "Cancel"):
        assert wanted in labels
    assert "LevelEditor.MainMenu.Motif.Packs" in editor.world.menus
    for entries in sections.values():
        for e in entries:
            if e.get("python"):
                compile(e["python"], "<menu>", "exec")
    # init_unreal.py does menu registration only: the start-up script never touches grpc or the client
    init = (editor.python_dir / "init_unreal.py").read_text()
    imported = {n.names[0].name for n in ast.walk(ast.parse(init)) if isinstance(n, ast.Import)}
    assert imported == {"motif_unreal.menus"}
    menus_src = (editor.python_dir / "motif_unreal" / "menus.py").read_text()
    assert not [n for n in ast.walk(ast.parse(menus_src)) if isinstance(n, ast.ImportFrom) and n.level]


def test_settings_are_checked_then_saved(editor: Editor, tmp_path: Path) -> None:
    editor.reset()
    editor.settings(engine_address="127.0.0.1:50051", destination_root="/Game/My Packs")
    assert editor.world.dialogs and "not a content folder" in editor.world.dialogs[-1]["message"]
    assert editor.world.log_lines("error"), "every refusal is also a log_error line"
    editor.settings(engine_address="127.0.0.1:50051", default_seed=42, destination_root="/Game/Kits")
    saved = json.loads((editor.world.saved_dir / "Motif" / "settings.json").read_text())
    assert saved["default_seed"] == 42 and saved["destination_root"] == "/Game/Kits"
    assert saved["address"] == "127.0.0.1:50051" and saved["place_in_level"] is True


# =================================================================== Generate -> import -> place


def test_generate_imports_every_glb_once_through_interchange(generated: dict[str, Any], editor: Editor) -> None:
    w, result, manifest = editor.world, generated["result"], generated["manifest"]
    pack_id = manifest["pack_id"]
    folder = f"/Game/Motif/{pack_id}"
    assert result.folder == folder
    meshes = [a for a in manifest["assets"] if a["role"] == "mesh"]
    assert len(meshes) == 5
    glb_imports = [c for c in generated["calls"] if c.name == "AssetTools.import_asset_tasks"
                   and str(c.args["import_tasks"][0]._props["filename"]).endswith(".glb")]
    assert len(glb_imports) == len(meshes), "one import per GLB (LOD1+ go through import_lod)"
    for call in glb_imports:
        (task,) = call.args["import_tasks"]
        assert task._props["destination_path"] == f"{folder}/Meshes"
        assert task._props["automated"] is True and task._props["replace_existing"] is True
        (pipe,) = task._props["options"]._meta["pipelines"]
        mesh_pipe = pipe._props["mesh_pipeline"]
        assert mesh_pipe._props["build_nanite"] is False and mesh_pipe._props["collision"] is True
        assert pipe._props["material_pipeline"]._props["import_materials"] is False
    for asset in meshes:
        stem = Path(asset["path"]).stem
        sm = w.assets[f"{folder}/Meshes/SM_{stem}"]
        assert len(sm._meta["lods"]) == 3, "LOD0 + LOD1 + LOD2 from MSFT_lod"
        tris = [lod["triangles"] for lod in sm._meta["lods"]]
        assert tris == sorted(tris, reverse=True) and tris[2] < tris[0]
        assert sm._meta["screen_sizes"] == asset["meta"]["lod"]["screen_coverage"]
        assert sm._props["nanite_settings"]._props["enabled"] is False
        assert sm._meta["collisions"] >= 1
        # units and axes: glTF metres +Y up -> centimetres +Z up, origin at the bottom centre
        (x0, y0, z0), (x1, y1, z1) = sm._meta["bounds"]
        assert abs(z0) < 0.5 and abs(z1 - asset["meta"]["height_m"] * 100) < 1.0
        assert abs(x0 + x1) < 1.0 and abs(y0 + y1) < 1.0
        assert abs((x1 - x0) - asset["meta"]["footprint_m"][0] * 100) < 1.0


def test_split_lods_are_valid_gltf(generated: dict[str, Any], editor: Editor) -> None:
    from engine_server.decoders.mesh import validator

    if not validator.available():
        pytest.skip("the Khronos glTF validator is not installed (make setup)")
    files = sorted((editor.world.saved_dir / "Motif" / "import" / generated["manifest"]["pack_id"] / "meshes")
                   .glob("*.glb"))
    assert len(files) == 15
    reports = validator.validate(files)
    assert [r.errors for r in reports] == [0] * len(files)


def _gltf_image_roles(pack_dir: Path, manifest: dict[str, Any]) -> dict[str, set[str]]:
    """sha256 of each embedded image -> how the kit's glTF materials sample it (read with pygltflib)."""
    import pygltflib

    roles: dict[str, set[str]] = {}
    for asset in manifest["assets"]:
        if asset["role"] != "mesh":
            continue
        model = pygltflib.GLTF2().load(str(pack_dir / asset["path"]))
        blob = model.binary_blob()

        def digest(tex: Any, model: Any = model, blob: bytes = blob) -> str | None:
            if tex is None:
                return None
            view = model.bufferViews[model.images[model.textures[tex.index].source].bufferView]
            return hashlib.sha256(blob[view.byteOffset or 0:(view.byteOffset or 0) + view.byteLength]).hexdigest()

        for m in model.materials:
            pbr = m.pbrMetallicRoughness
            uses = ((pbr.baseColorTexture, "base"), (pbr.metallicRoughnessTexture, "orm"), (m.occlusionTexture, "orm"),
                    (m.normalTexture, "normal"), (m.emissiveTexture, "emissive"))
            for tex, role in uses:
                d = digest(tex)
                if d:
                    roles.setdefault(d, set()).add(role)
    return roles


def test_textures_get_colour_space_and_compression_by_use(generated: dict[str, Any], editor: Editor) -> None:
    unreal, result = editor.unreal, generated["result"]
    roles = _gltf_image_roles(generated["pack_dir"], generated["manifest"])
    tcs = unreal.TextureCompressionSettings
    checked = set()
    for name, tex in result.textures.items():
        digest = hashlib.sha256(Path(tex._meta["source"]).read_bytes()).hexdigest()
        use = roles[digest]
        if "normal" in use:
            assert tex._props["compression_settings"] is tcs.TC_NORMALMAP and tex._props["srgb"] is False, name
            assert tex._props["lod_group"] is unreal.TextureGroup.TEXTUREGROUP_WORLD_NORMAL_MAP
        elif "orm" in use:
            assert tex._props["compression_settings"] is tcs.TC_MASKS and tex._props["srgb"] is False, name
        else:
            assert tex._props["compression_settings"] is tcs.TC_DEFAULT and tex._props["srgb"] is True, name
        checked |= use
    assert checked == {"base", "orm", "normal", "emissive"}
    assert len(result.textures) == len(roles), "each embedded image imported once, by content"
    (image,) = result.images.values()
    assert image._props["srgb"] is True and image._meta["size"] == (320, 180)


def test_material_instances_per_gltf_material_on_the_master(generated: dict[str, Any], editor: Editor) -> None:
    import pygltflib

    w, result, unreal = editor.world, generated["result"], editor.unreal
    master = w.assets["/Game/Motif/M_MotifMaster"]
    names = {p: set() for p in ("texture", "vector", "scalar")}
    for e in master._meta["expressions"]:
        if "parameter_name" in e._props:
            kind = "texture" if w.is_a(e, "MaterialExpressionTextureSampleParameter2D") else \
                "vector" if w.is_a(e, "MaterialExpressionVectorParameter") else "scalar"
            names[kind].add(e._props["parameter_name"])
    assert names == {"texture": {"BaseColor", "ORM", "Normal", "Emissive"},
                     "vector": {"BaseColorFactor", "EmissiveColor"}, "scalar": {"MetallicFactor", "RoughnessFactor"}}
    assert set(master._meta["outputs"]) == {"MP_BASE_COLOR", "MP_AMBIENT_OCCLUSION", "MP_ROUGHNESS", "MP_METALLIC",
                                            "MP_NORMAL", "MP_EMISSIVE_COLOR"}
    samplers = {e._props["parameter_name"]: e._props["sampler_type"] for e in master._meta["expressions"]
                if "sampler_type" in e._props}
    st = unreal.MaterialSamplerType
    assert samplers == {"BaseColor": st.SAMPLERTYPE_COLOR, "ORM": st.SAMPLERTYPE_MASKS,
                        "Normal": st.SAMPLERTYPE_NORMAL, "Emissive": st.SAMPLERTYPE_COLOR}
    gltf_materials: dict[str, Any] = {}
    for asset in generated["manifest"]["assets"]:
        if asset["role"] == "mesh":
            model = pygltflib.GLTF2().load(str(generated["pack_dir"] / asset["path"]))
            gltf_materials.update({m.name: m for m in model.materials})
    assert sorted(result.materials) == sorted(f"MI_{n}" for n in gltf_materials), "one instance per glTF material"
    for name, mi in result.materials.items():
        assert mi._props["parent"] is master
        params = mi._meta["params"]
        m = gltf_materials[name.removeprefix("MI_")]
        base = params[("texture", "BaseColor")]
        assert base._meta["path"].endswith("_base")
        assert params[("texture", "ORM")]._props["compression_settings"] is unreal.TextureCompressionSettings.TC_MASKS
        assert params[("texture", "Normal")]._props["compression_settings"] is \
            unreal.TextureCompressionSettings.TC_NORMALMAP
        color = params[("vector", "BaseColorFactor")]._props
        assert [color["r"], color["g"], color["b"], color["a"]] == m.pbrMetallicRoughness.baseColorFactor
        assert params[("scalar", "RoughnessFactor")] == m.pbrMetallicRoughness.roughnessFactor
        strength = (m.extensions or {}).get("KHR_materials_emissive_strength", {}).get("emissiveStrength", 1.0)
        emissive = params[("vector", "EmissiveColor")]._props
        assert abs(emissive["r"] - m.emissiveFactor[0] * strength) < 1e-6
        assert (("texture", "Emissive") in params) == (m.emissiveTexture is not None)
    for sm in result.meshes.values():
        for slot in sm._props["static_materials"]:
            mi = slot._props["material_interface"]
            assert mi is result.materials[f"MI_{slot._props['material_slot_name']}"]


def test_sound_waves_loop_and_match_the_wavs(generated: dict[str, Any], editor: Editor) -> None:
    result, manifest = generated["result"], generated["manifest"]
    music = [a for a in manifest["assets"] if a["role"] == "music"]
    stems = [a for a in manifest["assets"] if a["role"] == "stem"]
    assert len(result.sounds) == len(music) + len(stems)
    loop = result.sounds["SW_mix_loop"]
    assert loop._props["looping"] is True and loop._meta["path"].endswith("/Audio/SW_mix_loop")
    with wave.open(str(generated["pack_dir"] / music[0]["path"])) as wav:
        assert loop._props["sample_rate"] == wav.getframerate() == 48000
        assert abs(loop._props["duration"] - music[0]["meta"]["duration_s"]) < 0.01
    assert all(s._props["looping"] is True for s in result.sounds.values())


def test_every_asset_carries_pack_metadata(generated: dict[str, Any], editor: Editor) -> None:
    manifest, w = generated["manifest"], editor.world
    folder = generated["result"].folder
    under = w.assets_under(folder)
    assert len(under) == 5 + 6 + 19 + 6
    for path in under:
        tags = w.assets[path]._meta["tags"]
        assert tags["Motif.PackId"] == manifest["pack_id"]
        assert tags["Motif.Prompt"] == PROMPT and tags["Motif.Seed"] == "7"
        assert json.loads(tags["Motif.Provenance"]) == manifest["provenance"]
        assert tags["Motif.Role"] in ("mesh", "texture", "material", "music", "stem", "image")
    assert set(under) <= w.saved, "the pack's folder is saved"


def test_kit_is_placed_in_centimetres_in_front_of_the_camera(generated: dict[str, Any], editor: Editor) -> None:
    w, result, manifest = editor.world, generated["result"], generated["manifest"]
    actors = [a for a in w.actors if f"Motif.{manifest['pack_id']}" in a.tags]
    meshes = [a for a in actors if w.is_a(a, "StaticMeshActor")]
    sounds = [a for a in actors if w.is_a(a, "AmbientSound")]
    assert len(meshes) == 5 and len(sounds) == 1 and len(actors) == 6
    (_, cy, _), _ = w.camera
    grid_cm = 100 * manifest["assets"][0]["meta"]["grid_snap_m"]
    boxes = []
    for a in meshes:
        x, y, z = a._meta["location"]
        assert z == 0.0 and a._meta["rotation"] == (0.0, 0.0, 0.0)
        assert y > cy + 300, "ahead of a camera looking along +Y (yaw 90)"
        sm = a.static_mesh_component._props["static_mesh"]
        assert sm in result.meshes.values() and a._meta["label"] == sm._meta["name"].removeprefix("SM_")
        assert a._meta["folder"].startswith("Motif/")
        (x0, y0, _), (x1, y1, _) = sm._meta["bounds"]
        boxes.append((x + x0, y + y0, x + x1, y + y1))
    for i, p in enumerate(boxes):  # pieces laid out apart on the grid, in centimetres
        for q in boxes[i + 1:]:
            assert p[2] <= q[0] or q[2] <= p[0] or p[3] <= q[1] or q[3] <= p[1], (p, q)
    xs = sorted({round(b[0] + b[2], 3) for b in boxes})
    assert max(xs) - min(xs) > grid_cm, "spread over several grid cells (centimetres, not metres)"
    (sound,) = sounds
    assert sound.audio_component._props["sound"] is result.sounds["SW_mix_loop"]
    assert sound._meta["location"][2] == 200.0


def test_one_undo_transaction_one_modal_slow_task_and_a_non_blocking_editor(generated: dict[str, Any],
                                                                            editor: Editor) -> None:
    w = editor.world
    calls = generated["calls"]
    end = generated["first_call"] + len(calls)
    (trans,) = [t for t in w.transactions if generated["first_call"] <= t._meta["first_call"] < end]
    assert not trans._meta["cancelled"] and not trans._meta["open"]
    inside = range(trans._meta["first_call"], trans._meta["last_call"])
    for name in ("AssetTools.import_asset_tasks", "EditorActorSubsystem.spawn_actor_from_object",
                 "EditorActorSubsystem.spawn_actor_from_class", "AssetTools.create_asset"):
        idx = [i for i, c in enumerate(w.calls) if c.name == name and i >= generated["first_call"]]
        assert idx and all(i in inside for i in idx), name
    slow = next(t for t in w.slow_tasks if t._meta["frames"] and "Preparing" in t._meta["frames"][0])
    assert slow._meta["dialog"] == {"can_cancel": True} and not slow._meta["open"]
    assert len(slow._meta["frames"]) == 3 + 5 + 6 + 19 + 6
    # while the engine worked the editor ticked freely: every tick returned fast (no network wait)
    ticks = generated["ticks"]
    assert len(ticks) > 10 and max(ticks) < 0.25, f"slowest tick outside the import: {max(ticks):.3f} s"
    # the non-modal notification followed the job and closed
    task = [t for t in w.utility_tasks if t._meta["texts"] and "generating" in t._meta["texts"][0]][-1]
    assert not task._meta["active"] and task._meta["success"] is True
    assert any("%" in t for t in task._meta["texts"][1:])
    assert [c for c in calls if c.name == "register_slate_post_tick_callback"]
    assert not w.off_thread_calls, "Unreal is only called on the game thread (the tick), never by the worker"
    (closing,) = w.calls_to("register_python_shutdown_callback")
    assert closing.args["callable"] is editor.runtime.shutdown, "the editor closing detaches from the job"
    assert "not imported: midi" in generated["message"]


def test_pack_feed_lists_other_hosts_packs_and_imports_one(generated: dict[str, Any], editor: Editor,
                                                           engine: Any) -> None:
    from motif_client import MotifClient

    editor.reset()
    with MotifClient(engine.address, client_name="cli") as c:
        done = list(c.generate("rain on a tin roof", seed=3, decoders=["music"], options={"music": {"bars": 2}}))
    pack_id = done[-1].manifest["pack_id"]
    menu = "LevelEditor.MainMenu.Motif.Packs"
    deadline = time.monotonic() + 20
    labels: list[str] = []
    while time.monotonic() < deadline:
        editor.world.tick(0.5)
        labels = [e["label"] for e in editor.world.menus[menu]._meta["sections"].get("Packs", [])]
        if any(pack_id[:8] in label for label in labels):
            break
        time.sleep(0.05)
    label = next(label for label in labels if pack_id[:8] in label)
    assert "cli" in label and "rain on a tin roof" in label
    editor.click(label, menu)
    editor.run()
    assert editor.last_report()[0] == "INFO", editor.last_report()
    assert f"/Game/Motif/{pack_id}/Audio/SW_mix_loop" in editor.world.assets


def test_importing_the_same_pack_again_replaces_it(generated: dict[str, Any], editor: Editor) -> None:
    w = editor.world
    editor.reset()
    folder = generated["result"].folder
    before_assets = w.assets_under(folder)
    pack_id = generated["manifest"]["pack_id"]
    before_actors = [a for a in w.actors if f"Motif.{pack_id}" in a.tags]
    editor.answer(pack_folder=generated["pack_dir"])
    editor.click("Import Pack…")
    editor.run()
    level, message = editor.last_report()
    assert level == "INFO" and "replacing the earlier import" in message, message
    assert w.assets_under(folder) == before_assets, "the same assets, no duplicates"
    after_actors = [a for a in w.actors if f"Motif.{pack_id}" in a.tags]
    assert len(after_actors) == len(before_actors) and not set(map(id, after_actors)) & set(map(id, before_actors))


# =================================================================== faults


def _expect_error(editor: Editor, *words: str) -> str:
    level, message = editor.last_report()
    assert level in ("ERROR", "WARNING"), message
    assert editor.world.dialogs, f"no dialog for: {message}"
    shown = editor.world.dialogs[-1]
    assert shown["category"] is editor.unreal.AppMsgCategory.ERROR
    assert any(message in line for line in editor.world.log_lines("error")), "and a log_error line"
    for word in words:
        assert word in shown["message"], shown["message"]
    return str(shown["message"])


def test_engine_down_is_a_clear_dialog_and_imports_nothing(editor: Editor) -> None:
    editor.reset()
    before = set(editor.world.assets)
    editor.settings(engine_address=f"127.0.0.1:{_free_port()}")
    editor.answer(prompt=PROMPT, seed=1, mesh=True, music=False, image=False, video=False, options_json="")
    editor.click("Generate Pack…")
    editor.run(30)
    _expect_error(editor, "Cannot reach the Motif engine")
    assert set(editor.world.assets) == before


def test_wrong_token_is_a_clear_dialog(editor: Editor, tmp_path: Path) -> None:
    from engine_server.server import Engine

    eng = Engine("127.0.0.1:0", store_root=tmp_path / "store", token="s3cret").start()
    try:
        editor.reset()
        editor.settings(engine_address=eng.address, token="wrong")
        editor.click("Test Connection")
        editor.run(30)
        _expect_error(editor, "refused the token")
        editor.reset()
        editor.settings(engine_address=eng.address, token="s3cret")
        editor.click("Test Connection")
        editor.run(30)
        assert editor.last_report()[0] == "INFO" and "Connected" in editor.last_report()[1]
    finally:
        eng.stop()


def test_unknown_pack_is_a_clear_dialog(editor: Editor, engine: Any) -> None:
    editor.reset()
    editor.settings(engine_address=engine.address)
    editor.answer(pack_id="0" * 24)
    editor.click("Import Pack…")
    editor.run(30)
    _expect_error(editor, "0" * 24)


def _start_long_job(editor: Editor, engine: Any) -> str:
    editor.reset()
    editor.settings(engine_address=engine.address)
    editor.answer(prompt="a vast overgrown temple at noon", seed=11, mesh=True, music=False, image=False,
                  video=False, options_json=json.dumps({"mesh": {"texture_size": 2048, "assets": 10}}))
    editor.click("Generate Pack…")
    deadline = time.monotonic() + 30
    while editor.runtime.SESSION.runner.job_id is None and time.monotonic() < deadline:
        editor.world.tick(0.1)
        time.sleep(0.02)
    job_id = editor.runtime.SESSION.runner.job_id
    assert job_id
    return str(job_id)


def test_job_cancelled_elsewhere_is_a_clear_dialog(editor: Editor, engine: Any) -> None:
    from motif_client import MotifClient

    before = set(editor.world.assets)
    job_id = _start_long_job(editor, engine)
    with MotifClient(engine.address) as c:
        c.cancel(job_id)
    editor.run(60)
    _expect_error(editor, "Cancel")
    assert set(editor.world.assets) == before


def test_cancel_from_the_notification_stops_the_job_quietly(editor: Editor, engine: Any) -> None:
    from motif_client import MotifClient

    before = set(editor.world.assets)
    job_id = _start_long_job(editor, engine)
    task = editor.world.utility_tasks[-1]
    task._meta["cancel"] = True  # the designer presses Cancel on the notification
    editor.run(60)
    level, message = editor.last_report()
    assert level == "WARNING" and "Cancelled" in message
    assert not editor.world.dialogs, "the designer's own Cancel needs no dialog"
    assert set(editor.world.assets) == before
    with MotifClient(engine.address) as c:
        (job,) = [j for j in c.list_jobs() if j["job_id"] == job_id]
    assert job["state"] == "cancelled"


def test_import_failing_halfway_leaves_nothing_behind(generated: dict[str, Any], editor: Editor) -> None:
    w = editor.world
    pack_id = generated["manifest"]["pack_id"]
    folder = generated["result"].folder
    editor.reset()
    w.fail_files.add("SM_market_stall.glb")  # Interchange fails on the third mesh, after textures and materials
    editor.answer(pack_folder=generated["pack_dir"])
    editor.click("Import Pack…")
    editor.run()
    _expect_error(editor, "SM_market_stall", "Nothing was imported", folder)
    assert not w.folder_exists(folder) and not w.assets_under(folder)
    assert not [a for a in w.actors if f"Motif.{pack_id}" in a.tags], "the earlier import's actors went too"
    assert w.transactions[-1]._meta["cancelled"] is True
    made = [c for c in w.calls[w.transactions[-1]._meta["first_call"]:] if c.name == "AssetTools.import_asset_tasks"]
    assert len(made) > 19, "it did fail halfway: textures were imported first"


def test_cancel_in_the_import_dialog_removes_the_partial_import(generated: dict[str, Any], editor: Editor) -> None:
    w = editor.world
    folder = generated["result"].folder
    editor.reset()
    w.cancel_slow_task_after = 12
    editor.answer(pack_folder=generated["pack_dir"])
    editor.click("Import Pack…")
    editor.run()
    level, message = editor.last_report()
    assert level == "ERROR" and "cancelled" in message and not w.dialogs
    assert not w.assets_under(folder) and w.transactions[-1]._meta["cancelled"] is True
    assert any("cancelled" in line for line in w.log_lines("warning"))


def test_a_broken_pack_is_refused_before_anything_is_made(generated: dict[str, Any], editor: Editor,
                                                          tmp_path: Path) -> None:
    import shutil

    w = editor.world
    broken = tmp_path / "pack"
    shutil.copytree(generated["pack_dir"], broken)
    glb = broken / "mesh" / "crate.glb"
    glb.write_bytes(b"\0" * glb.stat().st_size)  # same size: read_pack accepts it, the GLB reader does not
    editor.reset()
    calls_before, transactions_before = len(w.calls), len(w.transactions)
    editor.answer(pack_folder=broken)
    editor.click("Import Pack…")
    editor.run()
    _expect_error(editor, "crate.glb", "Nothing was imported")
    assert len(w.transactions) == transactions_before
    assert not [c for c in w.calls[calls_before:] if c.name == "AssetTools.import_asset_tasks"]


# =================================================================== names the plugin uses


def plugin_sources(root: Path = PLUGIN_SOURCE / "Content" / "Python") -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.py")) if "vendor" not in p.parts}


def unreal_name_problems(source: str, spec: dict[str, Any], label: str = "<src>") -> list[str]:
    """Every unreal.<name> and unreal.<Class>.<member> must be in the stub; UObject constructors take no
    property keywords; get/set_editor_property names must be editor properties the stub (or the
    plugin's own uclasses) declares. Returns the problems found."""
    tree = ast.parse(source)
    classes, functions = spec["classes"], spec["functions"]
    own_props = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets
                 if isinstance(t, ast.Name) and isinstance(n.value, ast.Call)
                 and isinstance(n.value.func, ast.Attribute) and n.value.func.attr == "uproperty"}
    all_eprops = {name for c in classes.values() for name in c["eprops"]} | own_props | _PLUGIN_UPROPS
    problems = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "unreal"
                and node.attr not in classes and node.attr not in functions):
            problems.append(f"{label}:{node.lineno}: unreal.{node.attr} is not in the stub")
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
                and isinstance(node.value.value, ast.Name) and node.value.value.id == "unreal"
                and node.value.attr in classes and ue_stubspec.find_member(spec, node.value.attr, node.attr) is None):
            problems.append(f"{label}:{node.lineno}: unreal.{node.value.attr}.{node.attr} is not in the stub")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            f = node.func
            if (isinstance(f.value, ast.Name) and f.value.id == "unreal" and f.attr in classes and node.keywords
                    and "_ObjectBase" in ue_stubspec.mro(spec, f.attr)):
                problems.append(f"{label}:{node.lineno}: unreal.{f.attr}(...) is a UObject: its constructor takes "
                                "no property keywords")
            if f.attr in ("get_editor_property", "set_editor_property") and node.args and \
                    isinstance(node.args[0], ast.Constant) and node.args[0].value not in all_eprops:
                problems.append(f"{label}:{node.lineno}: no class has an editor property {node.args[0].value!r}")
    return problems


_PLUGIN_UPROPS: set[str] = set()


def test_every_unreal_name_the_plugin_uses_is_in_the_stub(spec: dict[str, Any]) -> None:
    sources = plugin_sources()
    for src in sources.values():
        _PLUGIN_UPROPS.update(t.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Assign) for t in n.targets
                              if isinstance(t, ast.Name) and isinstance(n.value, ast.Call)
                              and isinstance(n.value.func, ast.Attribute) and n.value.func.attr == "uproperty")
    used = 0
    for path, src in sources.items():
        assert unreal_name_problems(src, spec, path.name) == []
        used += src.count("unreal.")
    assert used > 100
    # the check can fail: typos and a UObject built with keywords are caught
    bad = ("import unreal\n"
           "t = unreal.AssetImportTaskk()\n"
           "unreal.EditorAssetLibrary.does_directory_exists('/Game')\n"
           "u = unreal.AssetImportTask(filename='x.glb')\n"
           "u.set_editor_property('destination_pathh', '/Game')\n"
           "v = unreal.Vector(x=1.0)\n")
    found = unreal_name_problems(bad, spec)
    assert len(found) == 4, found
    assert all(word in " ".join(found) for word in ("AssetImportTaskk", "does_directory_exists", "constructor",
                                                    "destination_pathh"))


def test_shared_host_api_checker_finds_nothing(spec: dict[str, Any], staged: Path) -> None:
    """../shared/tools/host_api_check.py, a second opinion, on plugins/unreal (with the vendored kit the
    `staged` build put there), pointed at the stub in .venv (no download)."""
    if not SHARED_TOOL.is_file():
        pytest.skip("../shared/tools/host_api_check.py is not beside this checkout")
    stub_root = Path(ue_stubspec.stub_path()).parent.parent
    proc = subprocess.run([sys.executable, str(SHARED_TOOL), "unreal", str(PLUGIN_SOURCE.parent), "--stub-root",
                           str(stub_root)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HOST_API_CACHE": str(ROOT / "build" / "host_api_cache")})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " 0 errors, 0 warnings" in proc.stdout + proc.stderr, proc.stdout[-4000:] + proc.stderr[-2000:]


# =================================================================== the built zip


def test_descriptor_is_a_valid_uplugin() -> None:
    d = json.loads((PLUGIN_SOURCE / "Motif.uplugin").read_text())
    assert d["FileVersion"] == 3 and d["CanContainContent"] is True
    assert d["FriendlyName"] == "Motif" and d["Category"] and d["VersionName"]
    import tomllib

    assert d["VersionName"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert {"PythonScriptPlugin", "EditorScriptingUtilities", "Interchange"} <= {p["Name"] for p in d["Plugins"]
                                                                                 if p["Enabled"]}


def test_built_zip_works_in_a_clean_python(engine: Any, tmp_path: Path) -> None:
    """The Linux zip unpacked into a fresh folder: a Python 3.11 with no site-packages and only the
    plugin's Content/Python on its path imports the vendored client and the bundled wheels (the
    plugin adds its own Linux/Lib/site-packages) and reaches the engine. Stands in for UE's Python."""
    target = builder.build(["Linux"], tmp_path / "dist", tmp_path / "stage")
    assert target.name == f"Motif-{builder.version()}-UE5.zip"
    with zipfile.ZipFile(target) as zf:
        names = zf.namelist()
        assert "Motif/Motif.uplugin" in names and "Motif/Content/Python/init_unreal.py" in names
        assert any(n.startswith("Motif/Content/Python/Linux/Lib/site-packages/grpc/") for n in names)
        assert "Motif/Content/Python/motif_unreal/vendor/motif_client/client.py" in names
        zf.extractall(tmp_path / "Plugins")
    python_dir = tmp_path / "Plugins" / "Motif" / "Content" / "Python"
    script = (
        "import sys, json\n"
        f"sys.path[:] = [p for p in sys.path if 'site-packages' not in p] + [{str(python_dir)!r}]\n"
        "from motif_unreal import kit\n"
        "import grpc, google.protobuf\n"
        f"c = kit.MotifClient({engine.address!r}, client_name='unreal')\n"
        "info = c.describe()\n"
        "print(json.dumps({'grpc': grpc.__file__, 'protobuf': google.protobuf.__file__, 'client': kit.__file__,\n"
        "                  'version': info['engine_version'], 'decoders': [d['name'] for d in info['decoders']],\n"
        "                  'path': sys.path}))\n"
    )
    base = getattr(sys, "_base_executable", sys.executable)
    proc = subprocess.run([base, "-I", "-S", "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    site = str(python_dir / "Linux" / "Lib" / "site-packages")
    assert out["grpc"].startswith(site) and out["protobuf"].startswith(site)
    assert "mesh" in out["decoders"] and out["version"]
    assert not [p for p in out["path"] if ".venv" in p or "/work/main/motif_client" in p]


# =================================================================== the host-free plan (motif_client)


def test_glb_split_and_reading_without_a_host(generated: dict[str, Any], tmp_path: Path) -> None:
    from motif_client import glb

    src = generated["pack_dir"] / "mesh" / "crate.glb"
    model = glb.read(src)
    assert glb.lod_count(model.doc) == 3 and glb.screen_coverage(model.doc) == [0.25, 0.08, 0.02]
    parts = glb.split_lods(model)
    assert [glb.lod_count(p.doc) for p in parts] == [1, 1, 1]
    assert [p.doc["nodes"][0]["name"] for p in parts] == ["crate", "crate_lod1", "crate_lod2"]
    assert all("MSFT_lod" not in p.doc.get("extensionsUsed", []) for p in parts)
    again = glb.parse(glb.dump(parts[1]))
    assert again.doc == parts[1].doc and again.binary[: len(model.binary)] == model.binary
    single = glb.split_lods(parts[0])
    assert len(single) == 1 and single[0].doc["nodes"] == parts[0].doc["nodes"]
    assert glb.material_slots(parts[0].doc) == [m["name"] for m in model.doc["materials"]
                                                if m["name"] in glb.material_slots(model.doc)]
    with pytest.raises(ValueError, match="not a binary glTF"):
        glb.parse(b"\0" * 64, "x.glb")
    with pytest.raises(ValueError, match="cut short"):
        glb.parse(src.read_bytes()[:1000], "x.glb")


def test_engine_axes_units_and_placement_rules() -> None:
    import io

    from PIL import Image

    from motif_client import level_plan as lp
    from motif_client import packinfo

    for p in ((1.0, 2.0, 3.0), (-0.5, 0.0, 4.25)):
        assert lp.gltf_to_engine(p) == lp.zup_to_engine(packinfo.gltf_to_z_up(p))  # type: ignore[arg-type]
    assert lp.gltf_to_engine((1.0, 2.0, 3.0)) == (100.0, 300.0, 200.0), "metres +Y up -> cm +Z up"
    assert lp.anchor_in_front((0.0, 0.0, 170.0), 0.0, 1000.0, 200.0) == (1000.0, 0.0, 0.0)
    assert lp.anchor_in_front((50.0, 50.0, 170.0), 90.0, 1000.0, 200.0) == (0.0, 1000.0, 0.0)
    assert lp.root_problem("/Game/Motif") is None and lp.root_problem("/Game/My Packs")
    assert lp.root_problem("/Engine/Motif") and lp.asset_name("SM_", "wall module.v2") == "SM_wall_module_v2"
    with Image.open(io.BytesIO(lp.tiny_png((128, 128, 255)))) as im:
        assert im.size == (4, 4) and im.getpixel((2, 2)) == (128, 128, 255)
