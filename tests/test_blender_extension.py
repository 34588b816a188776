"""The Motif extension in the real Blender (bpy 5.0.1, Python 3.11), end to end.

The zip is built by scripts/build_blender_extension.py and checked by Blender's own validator, then
installed headless with `extensions.package_install_files` into a throw-away BLENDER_USER_RESOURCES.
Blender-side bodies run in a fresh `python` per scenario (this file run as a script), so bpy's global
state and environment are clean; the engine runs in the pytest process (tests/conftest.py) and its
address is passed in. Timers never fire in module mode, so scenarios call the timer function
(`runtime.drain_events`) themselves.

Assertions about meshes, materials, images and strips apply to whichever roles the pack holds: with
the engine's real decoders they run on its assets; `synthetic` runs them on a complete pack of real
files (Blender-exported GLBs, WAV, PNG, H.264 MP4) from plugins/blender/testing/synthetic_pack.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXT_ID = "motif_blender"
MODULE = f"bl_ext.user_default.{EXT_ID}"
WANTED = ["mesh", "music", "image", "video"]
RESULT = "MOTIF_RESULT "


# =================================================================== pytest side

if __name__ != "__main__":
    import pytest

    sys.path.insert(0, str(ROOT / "scripts"))
    import build_blender_extension as builder

    @pytest.fixture(scope="module")
    def ext_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
        """The Linux x64 zip, built from the current sources (dist/ is left alone)."""
        out = tmp_path_factory.mktemp("dist")
        zips = builder.build(["linux-x64"], out)
        assert [z.name for z in zips] == [f"{EXT_ID}-{builder.manifest()['version']}-linux_x64.zip"]
        return zips[0]

    @pytest.fixture(scope="module")
    def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
        out = tmp_path_factory.mktemp("synthetic") / "pack"
        subprocess.run([sys.executable, str(ROOT / "plugins/blender/testing/synthetic_pack.py"), str(out)],
                       check=True, capture_output=True, timeout=300)
        return out

    @pytest.fixture(scope="module")
    def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
        out = tmp_path_factory.mktemp("broken") / "pack"
        subprocess.run([sys.executable, str(ROOT / "plugins/blender/testing/synthetic_pack.py"), str(out),
                        "--broken"], check=True, capture_output=True, timeout=300)
        return out

    @pytest.fixture(scope="module")
    def decoder_pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
        """The engine's real mesh and music decoders, called directly (see decoder_pack.py)."""
        out = tmp_path_factory.mktemp("decoders") / "pack"
        proc = subprocess.run([sys.executable, str(ROOT / "plugins/blender/testing/decoder_pack.py"), str(out),
                               "mesh,music", "--options", json.dumps({"mesh": {"texture_size": 512}})],
                              capture_output=True, text=True, timeout=600, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return out, json.loads(proc.stdout.strip().splitlines()[-1])

    def blender(scenario: str, tmp_path: Path, user: str = "blender_user", **args: Any) -> dict[str, Any]:
        """Run one Blender-side scenario in a fresh interpreter (a Blender start, with its own user
        folder `user`); return what it reports."""
        env = {**os.environ, "BLENDER_USER_RESOURCES": str(tmp_path / user)}
        proc = subprocess.run([sys.executable, __file__, scenario, json.dumps(args, default=str)], env=env,
                              capture_output=True, text=True, timeout=600, cwd=ROOT)
        for line in proc.stdout.splitlines():
            if line.startswith(RESULT):
                return dict(json.loads(line[len(RESULT):]))
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
        raise AssertionError(f"scenario {scenario} reported nothing (exit {proc.returncode}):\n{tail}")

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    def check_import(pack: dict[str, Any], roles: set[str]) -> list[str]:
        """Role by role, what a Blender artist would check after an import. Returns what was checked."""
        checked = []
        col = pack["collection"]
        assert col["name"].startswith("Motif ") and col["name"].endswith(f"[{pack['pack_id'][:8]}]")
        assert col["props"]["motif_pack_id"] == pack["pack_id"]
        assert col["props"]["motif_prompt"] == pack["prompt"]
        assert int(col["props"]["motif_seed"]) == pack["seed"]
        if "mesh" in roles:
            meshes = [o for o in col["objects"] if o["type"] == "MESH"]
            assert len(meshes) >= pack["role_counts"]["mesh"], "every GLB brings at least one mesh object"
            for o in meshes:
                assert o["materials"], f"{o['name']} has no material"
                assert any(m["images"] for m in o["materials"]), f"{o['name']}: no image-textured material"
                assert all(img["has_data"] for m in o["materials"] for img in m["images"])
                assert o["props"]["motif_pack_id"] == pack["pack_id"]
            per_asset: dict[str, list[float]] = {}  # the ground box of each kit piece (LOD0 parts)
            for o in meshes:
                if "motif_lod" in o["props"]:
                    continue
                b = o["footprint_box"]
                box = per_asset.setdefault(o["props"]["motif_asset"], list(b))
                per_asset[o["props"]["motif_asset"]] = [min(box[0], b[0]), max(box[1], b[1]),
                                                        min(box[2], b[2]), max(box[3], b[3])]
            assert len(per_asset) == pack["role_counts"]["mesh"]
            boxes = list(per_asset.values())
            for i in range(len(boxes)):
                for j in range(i + 1, len(boxes)):
                    a, b = boxes[i], boxes[j]
                    assert not (a[0] < b[1] - 1e-3 and b[0] < a[1] - 1e-3 and a[2] < b[3] - 1e-3
                                and b[2] < a[3] - 1e-3), "kit pieces overlap"
            assert any(o["type"] == "LIGHT" for o in col["objects"]), "a sun from the latent"
            lods = [o for o in meshes if "motif_lod" in o["props"]]
            assert all(o["hidden"] and o["hide_render"] for o in lods), "LOD1+ objects are hidden"
            checked.append("mesh: objects, PBR materials with images, layout without overlaps, sun")
        if pack.get("latent"):
            assert pack["world"]["name"].startswith("Motif World") and pack["world"]["strength"] > 0
            checked.append("world light from the latent")
        if "image" in roles:
            refs = [o for o in col["objects"] if o["type"] == "EMPTY" and o.get("empty_display_type") == "IMAGE"]
            assert len(refs) == 1 and refs[0]["image"]["has_data"] and refs[0]["image"]["packed"]
            assert refs[0]["faces_camera"], "the concept image faces the camera"
            checked.append("image: packed reference empty facing the camera")
        strips = {s["props"].get("motif_role"): s for s in pack["strips"]}
        if "music" in roles:
            s = strips["music"]
            assert s["type"] == "SOUND" and s["duration"] > 0 and Path(s["filepath"]).is_file()
            checked.append("music: sound strip")
        if "video" in roles:
            s = strips["video"]
            assert s["type"] == "MOVIE" and s["duration"] > 0 and Path(s["filepath"]).is_file()
            assert s["channel"] != strips.get("music", {"channel": -1})["channel"]
            checked.append("video: movie strip on its own channel")
        if "stem" in roles:
            stems = [s for s in pack["strips"] if s["props"].get("motif_role") == "stem"]
            assert stems and all(s["mute"] for s in stems)
            checked.append("stems: muted sound strips")
        return checked

    # ------------------------------------------------------------------ tests

    def test_zip_is_accepted_by_blenders_validator(ext_zip: Path) -> None:
        cli = builder.blender_ext_cli()
        out = subprocess.run([sys.executable, str(cli), "validate", str(ext_zip)], capture_output=True, text=True,
                             check=False)
        assert out.returncode == 0 and "Success" in out.stdout, out.stdout + out.stderr
        import zipfile

        names = zipfile.ZipFile(ext_zip).namelist()
        assert "blender_manifest.toml" in names and "__init__.py" in names
        assert "vendor/motif_client/client.py" in names and "vendor/motif_client/motif_pb/engine_pb2.py" in names
        kit = {"runner.py", "tasks.py", "packinfo.py", "engine_process.py", "rules.py", "channel.py"}
        assert {f"vendor/motif_client/{k}" for k in kit} <= set(names), "the host kit is vendored"
        assert not {"jobs.py", "packinfo.py", "engine_process.py"} & set(names), "no copy of the kit by hand"
        wheels = [n for n in names if n.startswith("wheels/")]
        assert any("grpcio-" in w and "x86_64" in w and "cp311" in w for w in wheels)
        assert any(w.startswith("wheels/protobuf-") for w in wheels)
        assert not any("__pycache__" in n for n in names)

    def test_install_enable_and_bundled_wheels_work_without_the_venv(ext_zip: Path, engine: Any,
                                                                     tmp_path: Path) -> None:
        r = blender("install", tmp_path, zip=ext_zip, address=engine.address)
        assert r["install"] == ["FINISHED"]
        assert MODULE in r["addons"]
        assert r["prefs"] == {"address": "127.0.0.1:50051", "token": "", "default_seed": 0,
                              "default_quality": "draft", "start_local_engine": False, "engine_command": "motif"}
        assert {"MOTIF_PT_main", "MOTIF_PT_latent", "MOTIF_PT_history", "MOTIF_PT_feed"} <= set(r["panels"])
        assert {"generate", "cancel", "encode", "test_connection", "random_seed", "reimport", "regenerate_only",
                "import_pack", "import_feed", "watch_feed", "reattach", "forget_job"} <= set(r["operators"])
        assert r["site_packages_has"] == {"grpc": True, "google/protobuf": True, "typing_extensions.py": True}
        # bundled grpcio/protobuf + vendored client, with the venv out of the way (python -S)
        assert r["isolated"]["grpc_from"].startswith(r["site_packages"])
        assert r["isolated"]["engine_version"]
        assert r["disabled_cleanly"]

    def test_generate_against_a_real_engine_imports_the_pack(ext_zip: Path, engine: Any, tmp_path: Path) -> None:
        r = blender("generate", tmp_path, zip=ext_zip, address=engine.address, prompt="rainy harbour at dawn",
                    seed=42)
        assert r["connection_ok"] is True and "Connected: Motif engine" in r["connection_text"]
        assert r["generate_result"] == ["FINISHED"] and r["generate_call_s"] < 0.5, "the click never waits"
        assert r["status_level"] == "INFO" and r["status_text"].startswith("Imported "), r["status_text"]
        pack = r["pack"]
        assert pack["prompt"] == "rainy harbour at dawn" and pack["seed"] == 42
        roles = set(pack["role_counts"])
        checked = check_import(pack, roles)
        print(f"decoders used: {r['decoders_used']}; roles in the pack: {sorted(roles)}; checked: {checked}")
        assert r["history"][0]["pack_id"] == pack["pack_id"] and r["history"][0]["collection"] == \
            pack["collection"]["name"]
        shown = r["progress_seen"]
        assert r["fractions_monotonic"], shown
        assert any(t.startswith("Connecting") for t in shown) and any("Downloading" in t for t in shown), shown
        assert any(t.startswith("Imported mesh/") or t == "Laid out the kit" for t in shown), shown
        assert any(d in t for t in shown for d in r["decoders_used"]), "the engine's stage text is shown"
        # re-import from history: a second collection from the same files, no engine call needed
        assert r["reimport"]["collections_with_pack"] == 2
        # regenerate only one modality: every latent field pinned, the same seed
        regen = r["regenerate"]
        assert regen["seed"] == 42 and regen["decoders"] == [r["decoders_used"][0]]
        assert set(regen["pins"]) >= {"palette", "tempo_bpm", "mode", "embedding"} and "seed" not in regen["pins"]
        assert regen["latent_equal"]
        # Encode, edit a field (which locks it), generate: the edit is a pin and is obeyed
        assert r["encode"]["fields"] >= 20 and r["encode"]["locked_after_edit"] == ["tempo_bpm"]
        assert r["encode"]["generated_tempo"] == 133.0 and r["encode"]["pins"] == ["tempo_bpm"]
        assert "probe" not in r["encode"]["offered"], "a diagnostic decoder is never offered as a modality"
        # every Generate says which host asked: the pack feed and ListJobs show "blender"
        from motif_client import MotifClient

        with MotifClient(engine.address) as c:
            rows = {p["pack_id"]: p for p in c.list_packs()}
        assert rows[pack["pack_id"]]["client"] == "blender"

    def test_subjects_typed_in_the_panel_are_the_kit_the_engine_builds(ext_zip: Path, engine: Any,
                                                                       tmp_path: Path) -> None:
        """The latent panel's subjects text (recipe names, hero first) is a pin when locked: the mesh
        decoder builds those recipes for a prompt that names neither; an unknown name gets the
        engine's sentence in the panel and a report, and no pack."""
        r = blender("subjects", tmp_path, zip=ext_zip, address=engine.address, prompt="a quiet evening", seed=515)
        kind, encoded_text, locked, n_choices = r["encoded"]
        assert kind == "subjects" and not locked and n_choices == 64
        assert "lighthouse" not in encoded_text and "well" not in encoded_text, encoded_text
        assert r["environment"] == ["choice", "open", True], "gRPC's empty environment reads as open"
        assert r["suggested"] == ["lighthouse, well"]
        assert {"subjects", "environment"} <= set(r["locked"])
        assert r["pins"]["subjects"] == ["lighthouse", "well"] and r["pins"]["environment"] == "snow"
        assert ["prop", "text", "Subjects"] in r["drawn"] and ["prop", "text", "Environment"] in r["drawn"]
        g = r["generated"]
        assert g["status"][0] == "INFO" and g["status"][1].startswith("Imported "), g["status"]
        assert [s["name"] for s in g["pins"]["subjects"]] == ["lighthouse", "well"], "pack.json records the pin"
        assert [s["name"] for s in g["latent"][0]] == ["lighthouse", "well"] and g["latent"][1] == "snow"
        recipes = [name for name, _hero in g["recipes"]]
        assert {"lighthouse", "well"} <= set(recipes), recipes
        assert [name for name, hero in g["recipes"] if hero] == ["lighthouse"], g["recipes"]
        assert g["panel_after"] == ["lighthouse, well"]
        u = r["unknown"]
        assert u["status"][0] == "ERROR" and "Unknown subject(s): dragon" in u["status"][1], u["status"]
        assert any(level == "ERROR" and "Unknown subject(s): dragon" in msg for level, msg in u["reports"])
        assert u["new_packs"] == 0

    def test_engine_down_wrong_address_and_refusals_are_clear_and_import_nothing(ext_zip: Path,
                                                                                 tmp_path: Path) -> None:
        port = free_port()
        silent = socket.socket()  # accepts TCP, never answers: a hung or wrong server
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        try:
            r = blender("engine_down", tmp_path, zip=ext_zip, address=f"127.0.0.1:{port}",
                        silent=f"127.0.0.1:{silent.getsockname()[1]}")
        finally:
            silent.close()
        assert r["connection_ok"] is False
        assert f"Cannot reach the Motif engine at 127.0.0.1:{port}" in r["connection_text"]
        assert r["generate"]["status_level"] == "ERROR"
        assert f"Cannot reach the Motif engine at 127.0.0.1:{port}" in r["generate"]["status_text"]
        assert any(level == "ERROR" and "Cannot reach" in msg for level, msg in r["generate"]["reports"])
        assert r["generate"]["new_ids"] == {} and r["generate"]["history"] == 0
        assert "HOST:PORT" in r["bad_address"]
        assert "online access is off" in r["remote_offline"]
        assert "Type a prompt first" in r["empty_prompt"]
        # a server that never answers: the click returns at once, the panel says why a few seconds later
        assert r["silent"]["call_s"] < 0.5 and r["silent"]["status_level"] == "ERROR"
        assert "did not answer in time" in r["silent"]["status_text"] and r["silent"]["new_ids"] == {}
        assert r["occupied"]["engine"] is False and "already listens" in r["occupied"]["text"]

    def test_token_from_preferences(ext_zip: Path, tmp_path: Path) -> None:
        from engine_server.server import Engine

        eng = Engine("127.0.0.1:0", store_root=tmp_path / "store", token="s3cret").start()
        try:
            r = blender("token", tmp_path, zip=ext_zip, address=eng.address)
        finally:
            eng.stop()
        assert r["without"]["ok"] is False and "refused the token" in r["without"]["text"]
        assert r["wrong"]["ok"] is False
        assert r["right"]["ok"] is True and "Connected: Motif engine" in r["right"]["text"]

    def test_unknown_modality_and_cancel_mid_job(ext_zip: Path, engine: Any, tmp_path: Path) -> None:
        r = blender("cancel", tmp_path, zip=ext_zip, address=engine.address)
        assert "has no 'hologram' decoder" in r["unknown"]["status_text"] and r["unknown"]["new_ids"] == {}
        c = r["cancel"]
        assert c["progress_before_cancel"] and c["cancel_result"] == ["FINISHED"]
        assert c["status_level"] == "WARNING" and "Cancelled" in c["status_text"]
        assert c["seconds_to_cancelled"] < 4.0
        assert c["new_ids"] == {} and c["history"] == 0
        job = engine.jobs.get(c["job_id"])
        assert job.finished.wait(5) and job.state == "cancelled"
        assert not any(engine.store.staging_root.iterdir())

    def test_full_pack_import_native_objects_strips_and_rollback(ext_zip: Path, synthetic: Path, broken: Path,
                                                                 tmp_path: Path) -> None:
        r = blender("synthetic", tmp_path, zip=ext_zip, pack=synthetic, broken=broken, blend=tmp_path / "s.blend")
        pack = r["pack"]
        roles = set(pack["role_counts"])
        assert roles == {"mesh", "kit", "image", "music", "stem", "video"}
        checked = check_import(pack, roles)
        assert len(checked) == 6
        assert r["import_seconds"] < 2.0, "goal: a 5-asset pack imports in 2 s or less"
        assert pack["strips_in"] == "Motif Sequencer", "workspace.sequencer_scene is honoured"
        music = next(s for s in pack["strips"] if s["props"]["motif_role"] == "music")
        assert music["duration"] == 48  # 2 s at 24 fps
        # a broken GLB: a clear error and nothing left behind
        assert r["broken"]["status_level"] == "ERROR" and "Nothing was imported" in r["broken"]["status_text"]
        assert r["broken"]["new_ids"] == {} and r["broken"]["strips"] == r["broken"]["strips_before"]
        assert r["broken"]["world_restored"]
        # Cancel during an import removes what was already made
        assert r["cancel_import"]["partial_objects"] > 0 and r["cancel_import"]["new_ids"] == {}
        # saved and reopened: history, custom properties and the packed concept image survive
        reloaded = r["reloaded"]
        assert reloaded["history"] == [[pack["pack_id"], pack["collection"]["name"], "7", "synthetic test pack"]]
        assert reloaded["props"]["motif_pack_id"] == pack["pack_id"] and reloaded["props"]["motif_seed"] == 7
        assert reloaded["props"]["motif_replay"] and reloaded["concept_packed"]

    def test_real_decoder_assets_import_natively(ext_zip: Path, decoder_pack: tuple[Path, dict[str, Any]],
                                                 tmp_path: Path) -> None:
        """The mesh decoder's GLBs (PBR, MSFT_lod) and the music decoder's WAVs through the importer."""
        pack_dir, made = decoder_pack
        if not made["made"]:
            pytest.skip(f"no real decoder could run: {made['skipped']}")
        r = blender("import_pack", tmp_path, zip=ext_zip, pack=pack_dir)
        pack = r["pack"]
        roles = set(pack["role_counts"])
        checked = check_import(pack, roles)
        print(f"real decoders: {made['made']} (skipped: {made['skipped']}); roles: {sorted(roles)}; "
              f"checked: {checked}; import {r['import_seconds']:.2f} s")
        if "mesh" in made["made"]:
            assert pack["role_counts"]["mesh"] >= 5 and "mesh" in roles
            assert r["materials_shared"], "kit pieces share one copy of each material"
            assert r["status_level"] == "INFO" and "midi" in r["status_text"]  # MIDI has no native home
        if "music" in made["made"]:
            music = next(s for s in pack["strips"] if s["props"]["motif_role"] == "music")
            assert music["duration"] > 24 and len([s for s in pack["strips"] if s["type"] == "SOUND"]) >= 2
        assert r["import_seconds"] < 2.0

    def test_panel_draws_every_control(ext_zip: Path, synthetic: Path, tmp_path: Path) -> None:
        """Headless stand-in for a screenshot: the panels' draw functions against a recording layout."""
        r = blender("panel", tmp_path, zip=ext_zip, pack=synthetic)
        idle = r["main_idle"]
        for want in (("prop", "prompt"), ("prop", "seed"), ("op", "motif.random_seed"), ("prop", "quality"),
                     ("prop", "sketch_source"), ("op", "motif.encode"), ("op", "motif.generate")):
            assert list(want) in [w[:2] for w in idle], want
        toggles = [w for w in idle if w[:2] == ["prop", "enabled"]]
        assert [t[2] for t in toggles] == ["Mesh", "Music", "Image", "Video"]
        assert ["progress"] not in [w[:1] for w in idle]
        busy = r["main_busy"]
        assert ["op", "motif.cancel"] in [w[:2] for w in busy]
        assert any(w[0] == "progress" and "Working" in str(w[2]) for w in busy)
        assert r["main_sketch"].count(["template_ID", "sketch_image"]) == 1
        latent = r["latent"]
        assert ["op", "motif.lock_all"] in [w[:2] for w in latent]
        assert sum(1 for w in latent if w[:2] == ["prop", "locked"]) >= 20
        assert sum(1 for w in latent if w[:2] == ["prop", "color"]) == 5
        assert ["prop", "value", "Tempo Bpm"] in [w[:3] for w in latent]
        assert ["prop", "text", "Key"] in [w[:3] for w in latent]
        v2 = [w[:3] for w in r["latent_v2"]]
        assert ["prop", "text", "Subjects"] in v2 and ["prop", "text", "Environment"] in v2
        assert any(w[0] == "label" and "comma-separated" in w[1] for w in r["latent_v2"])
        assert r["subjects_field"] == ["subjects", "cabin, pine"]
        assert sum(1 for w in r["latent_v2"] if w[:2] == ["prop", "locked"]) == \
            sum(1 for w in latent if w[:2] == ["prop", "locked"]) + 2, "subjects and environment have locks"
        history = r["history"]
        for pair in (["template_list", "MOTIF_UL_history"], ["op", "motif.reimport"],
                     ["op", "motif.load_pack_latent"], ["menu", "MOTIF_MT_regenerate"]):
            assert pair in [w[:2] for w in history], pair
        assert r["regenerate_menu"] == ["Mesh", "Music", "Image", "Video"]
        prefs = r["prefs"]
        for name in ("address", "token", "start_local_engine", "engine_command", "default_seed",
                     "default_quality"):
            assert ["prop", name] in [w[:2] for w in prefs], name
        assert ["op", "motif.test_connection"] in [w[:2] for w in prefs]
        assert r["unknown_names"] == [], "every drawn property and operator exists"
        assert ["op", "motif.reattach"] not in [w[:2] for w in idle], "no job waiting: no offer"
        reattach = r["main_reattach"]
        assert ["op", "motif.reattach"] in [w[:2] for w in reattach]
        assert ["op", "motif.forget_job"] in [w[:2] for w in reattach]
        assert any(w[0] == "label" and "misty pier" in w[1] for w in reattach), reattach
        assert any(w[0] == "label" and "appear here" in w[1] for w in r["feed_empty"])
        feed = r["feed"]
        assert [w[3] for w in feed if w[:3] == ["op_prop", "motif.import_feed", "pack_id"]] == ["p1" * 12, "p2" * 12]
        assert any(w[0] == "label" and "from unreal" in w[1] and "unreal" in w[1] for w in feed)
        assert ["op", "motif.watch_feed"] in [w[:2] for w in feed]
        assert [w[:2] for w in r["import_menu"]] == [["op", "motif.import_pack"]], "File › Import › Motif Pack"

    def test_reattach_after_blender_crashes_mid_job_and_reopens_the_file(ext_zip: Path, engine: Any,
                                                                           tmp_path: Path) -> None:
        """The job outlives Blender: the saved file remembers it; a new Blender that opens the file
        offers the re-attach (a report and a panel button, no waiting) and imports the pack."""
        blend = tmp_path / "crash.blend"
        first = blender("job_then_crash", tmp_path, zip=ext_zip, address=engine.address, blend=blend, seed=7007)
        assert first["job_id"] and first["job_seq"] > 0 and first["job_prompt"] == "misty pier at dawn"
        r = blender("reopen_and_reattach", tmp_path, user="blender_user_2", zip=ext_zip, address=engine.address,
                    blend=blend)
        assert r["remembered"] == [first["job_id"], first["job_seq"], "misty pier at dawn"], r["remembered"]
        assert r["engine_state"] in ("running", "done"), "Blender's crash did not cancel the job"
        assert any(level == "INFO" and "misty pier at dawn" in msg and "Re-attach" in msg
                   for level, msg in r["reports"]), r["reports"]
        assert ["op", "motif.reattach"] in [w[:2] for w in r["offer"]]
        assert r["reattach_result"] == ["FINISHED"] and r["reattach_call_s"] < 0.5, "the click never waits"
        assert r["status"][0] == "INFO" and r["status"][1].startswith("Imported "), r["status"]
        m = r["manifest"]
        assert m["request"]["prompt"] == "misty pier at dawn" and m["seed"] == 7007
        assert r["history"][-1]["pack_id"] == m["pack_id"]
        assert r["after"] == ["", -1], "the job is forgotten once its pack is imported"
        assert ["op", "motif.reattach"] not in [w[:2] for w in r["offer_after"]]
        assert engine.jobs.get(first["job_id"]).state == "done"

    def test_file_import_and_import_from_the_feed(ext_zip: Path, engine: Any, synthetic: Path,
                                                  tmp_path: Path) -> None:
        """A pack Blender did not make: from disk (File › Import › Motif Pack) and from the engine's
        feed (made by another client, here the CLI's)."""
        from motif_client import MotifClient

        with MotifClient(engine.address, client_name="cli") as c:
            done = [e for e in c.generate("harbour bells at dusk", seed=4242, decoders=["music"])
                    if e.kind == "done"]
        feed_pack = done[0].manifest
        (tmp_path / "notes.json").write_text('{"not": "a pack"}')
        r = blender("import_and_feed", tmp_path, zip=ext_zip, address=engine.address, pack=synthetic,
                    not_a_pack=tmp_path / "notes.json", feed_pack_id=feed_pack["pack_id"])
        f = r["file_import"]
        assert f["results"] == [["FINISHED"], ["FINISHED"]] and f["collections"] == 2
        assert f["status"][0] == "INFO" and f["status"][1].startswith("Imported "), f["status"]
        assert len(check_import(f["pack"], set(f["pack"]["role_counts"]))) == 6
        assert [h["pack_id"] for h in f["history"]] == [f["pack"]["pack_id"]] * 2
        assert "no pack_id or assets" in r["refused"] and r["refused_new_ids"] == {}
        assert r["feed_problem"] is None
        row = r["feed_row"]
        assert row["client"] == "cli" and row["prompt"] == "harbour bells at dusk" and row["seed"] == 4242
        assert r["feed_result"] == ["FINISHED"] and r["feed_call_s"] < 0.5
        fi = r["feed_import"]
        assert fi["status"][0] == "INFO" and fi["status"][1].startswith("Imported "), fi["status"]
        assert fi["history"][-1]["pack_id"] == feed_pack["pack_id"]
        checked = check_import(fi["pack"], set(fi["pack"]["role_counts"]))
        assert "music: sound strip" in checked and "stems: muted sound strips" in checked, checked

    def test_sketch_is_sent_as_describe_says_and_reaches_the_image_decoder(ext_zip: Path, engine: Any,
                                                                          tmp_path: Path) -> None:
        """Against the real engine: the panel offers the sketch only to a decoder whose Describe options
        take an image, under that option's name, and pack.json records what the sketch contributed."""
        r = blender("sketch", tmp_path, zip=ext_zip, address=engine.address, seed=9090)
        assert "probe" not in r["offered"] and "image" in r["offered"]
        assert r["music_only"]["options"] == {} and "takes a sketch" in r["music_only"]["warning"]
        assert r["options"] == {"image": ["sketch"]} and r["warning"] == ""
        assert r["status"][0] == "INFO" and r["status"][1].startswith("Imported "), r["status"]
        sketch = r["request_sketch"]
        assert sketch and sketch["chromatic"] is True, sketch
        pack = r["pack"]
        assert set(pack["role_counts"]) >= {"image"}
        assert "image: packed reference empty facing the camera" in check_import(pack, {"image"})

    def test_hum_from_a_file_or_a_sound_datablock_reaches_the_music(ext_zip: Path, engine: Any,
                                                                    tmp_path: Path) -> None:
        """The panel's hum (a file path, or a sound datablock) goes to the engine as GenerateRequest.hum."""
        from tests.hum_audio import TUNES, encode, hum

        wav = tmp_path / "idea.wav"
        wav.write_bytes(encode(hum(TUNES[4], 100, seed=2)))
        r = blender("hum", tmp_path, zip=ext_zip, address=engine.address, path=str(wav))
        assert r["none"] is None
        assert r["from_path"] == ["idea.wav", wav.stat().st_size]
        assert r["from_sound"] == ["idea.wav", wav.stat().st_size]
        assert r["status"][0] == "INFO" and r["status"][1].startswith("Imported "), r["status"]
        assert r["request_hum"]["file"] == "idea.wav" and (r["request_hum"]["key"]["key"],
                                                           r["request_hum"]["key"]["mode"]) == ("D", "minor")

    @pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
    def test_start_local_engine_from_preferences_and_it_dies_with_blender(ext_zip: Path, tmp_path: Path) -> None:
        port = free_port()
        r = blender("local_engine", tmp_path, zip=ext_zip, address=f"127.0.0.1:{port}",
                    command=f"{sys.executable} -m engine_server.cli", store=tmp_path / "store")
        assert r["connection_ok"] is True and "Connected: Motif engine" in r["connection_text"], r
        pid = r["engine_pid"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGTERM)
            pytest.fail("the local engine outlived Blender")


# =================================================================== Blender side


def _install(zip_path: str, address: str | None = None) -> tuple[Any, Any, Any]:
    import bpy

    result = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default",
                                                      enable_on_install=True)
    assert result == {"FINISHED"}, result
    runtime = sys.modules[f"{MODULE}.runtime"]
    prefs = bpy.context.preferences.addons[MODULE].preferences
    if address:
        prefs.address = address
    return bpy, runtime, prefs


def _drain(runtime: Any, timeout_s: float = 300.0, until: Any = None) -> list[tuple[float, str]]:
    """Call the timer body as Blender would, until idle (or `until()` holds)."""
    seen: list[tuple[float, str]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runtime.drain_events()
        seen.append((runtime.SESSION.status.fraction, runtime.SESSION.status.text))
        if until is not None and until():
            return seen
        if until is None and not runtime.busy():
            runtime.drain_events()
            return seen
        time.sleep(0.02)
    raise AssertionError(f"timed out; last status {runtime.SESSION.status}")


def _ids() -> dict[str, set[int]]:
    import bpy

    return {a: {d.as_pointer() for d in getattr(bpy.data, a)} for a in
            ("objects", "meshes", "materials", "images", "collections", "worlds", "lights", "sounds")}


def _new_ids(before: dict[str, set[int]]) -> dict[str, int]:
    after = _ids()
    return {a: len(after[a] - before[a]) for a in before if after[a] - before[a]}


def _faces_camera(obj: Any, scene: Any) -> bool:
    cam = scene.camera
    if cam is None:
        return True
    normal = obj.matrix_world.to_3x3() @ _vec((0, 0, 1))
    to_cam = (cam.matrix_world.translation - obj.matrix_world.translation).normalized()
    return float(normal.dot(to_cam)) > 0.99


def _vec(v: Any) -> Any:
    from mathutils import Vector

    return Vector(v)


def _image_info(img: Any) -> dict[str, Any]:
    return {"name": img.name, "packed": img.packed_file is not None,
            "has_data": bool(img.has_data or img.packed_file is not None or img.size[0] > 0)}


def _motif_props(owner: Any) -> dict[str, Any]:
    """The add-on's custom properties on an ID or strip (bpy structs iterate only through keys())."""
    return {k: owner[k] for k in owner.keys() if k.startswith("motif_")}  # noqa: SIM118


def _describe_pack(collection: Any, manifest: dict[str, Any]) -> dict[str, Any]:
    """Everything an artist would look at after an import, as plain data."""
    import bpy

    scene = bpy.context.scene
    objects = []
    for o in collection.objects:
        info: dict[str, Any] = {"name": o.name, "type": o.type, "root": o.parent is None,
                                "props": _motif_props(o)}
        info["hidden"], info["hide_render"] = o.hide_get(), o.hide_render
        if o.type == "MESH":
            mats = []
            for m in o.data.materials:
                if m is None:
                    continue
                imgs = [_image_info(n.image) for n in m.node_tree.nodes if n.type == "TEX_IMAGE" and n.image]
                mats.append({"name": m.name, "images": imgs})
            info["materials"] = mats
            corners = [o.matrix_world @ _vec(c) for c in o.bound_box]
            info["footprint_box"] = [min(c.x for c in corners), max(c.x for c in corners),
                                     min(c.y for c in corners), max(c.y for c in corners)]
        if o.type == "EMPTY":
            info["empty_display_type"] = o.empty_display_type
            if o.data is not None:
                info["image"] = _image_info(o.data)
                info["faces_camera"] = _faces_camera(o, scene)
        objects.append(info)
    seq_scene = None
    strips = []
    for sc in bpy.data.scenes:
        se = sc.sequence_editor
        for s in (se.strips_all if se else []):
            if s.get("motif_pack_id") != manifest["pack_id"]:
                continue
            seq_scene = sc.name
            path = s.sound.filepath if s.type == "SOUND" else getattr(s, "filepath", "")
            strips.append({"name": s.name, "type": s.type, "channel": s.channel, "duration": s.frame_final_duration,
                           "filepath": bpy.path.abspath(path), "mute": s.mute,
                           "props": _motif_props(s)})
    world = scene.world
    bg = next((n for n in world.node_tree.nodes if n.type == "BACKGROUND"), None) if world else None
    roles: dict[str, int] = {}
    for a in manifest["assets"]:
        roles[a["role"]] = roles.get(a["role"], 0) + 1
    return {
        "pack_id": manifest["pack_id"], "prompt": manifest["request"].get("prompt", ""), "seed": manifest["seed"],
        "latent": bool(manifest.get("latent")), "role_counts": roles,
        "collection": {"name": collection.name, "objects": objects,
                       "props": _motif_props(collection)},
        "strips": strips, "strips_in": seq_scene,
        "world": {"name": world.name if world else "", "strength": bg.inputs["Strength"].default_value if bg else 0},
    }


def _collection_of(pack_id: str) -> Any:
    import bpy

    return next(c for c in bpy.data.collections if c.get("motif_pack_id") == pack_id)


def _history(scene: Any) -> list[dict[str, Any]]:
    return [{"pack_id": h.pack_id, "collection": h.collection.name if h.collection else None, "seed": h.seed,
             "decoders": h.decoders} for h in scene.motif.history]


def scenario_install(a: dict[str, Any]) -> dict[str, Any]:
    import bpy

    result = bpy.ops.extensions.package_install_files(filepath=a["zip"], repo="user_default",
                                                      enable_on_install=True)
    prefs = bpy.context.preferences.addons[MODULE].preferences
    site = bpy.utils.user_resource("EXTENSIONS", path=".local")
    site_packages = str(Path(site) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
                        / "site-packages")
    repo_dir = str(Path(bpy.utils.user_resource("EXTENSIONS", path="user_default")))
    code = (
        "import sys, json; sys.path[:0] = [sys.argv[1], sys.argv[2]];"
        "import grpc; from motif_blender.vendor.motif_client import MotifClient;"
        "info = MotifClient(sys.argv[3]).describe();"
        "print(json.dumps({'grpc_from': grpc.__file__, 'engine_version': info['engine_version']}))"
    )
    iso = subprocess.run([sys.executable, "-S", "-c", code, site_packages, repo_dir, a["address"]],
                         capture_output=True, text=True, timeout=60)
    isolated = json.loads(iso.stdout.strip().splitlines()[-1]) if iso.returncode == 0 else {"error": iso.stderr}
    out = {
        "install": sorted(result),
        "addons": list(bpy.context.preferences.addons.keys()),
        "prefs": {k: getattr(prefs, k) for k in ("address", "token", "default_seed", "default_quality",
                                                 "start_local_engine", "engine_command")},
        "panels": [n for n in ("MOTIF_PT_main", "MOTIF_PT_latent", "MOTIF_PT_history", "MOTIF_PT_feed")
                   if hasattr(bpy.types, n)],
        "operators": [n for n in dir(bpy.ops.motif) if not n.startswith("_")],
        "site_packages": site_packages,
        "site_packages_has": {n: (Path(site_packages) / n).exists()
                              for n in ("grpc", "google/protobuf", "typing_extensions.py")},
        "isolated": isolated,
    }
    import addon_utils

    addon_utils.disable(MODULE, default_set=True)
    out["disabled_cleanly"] = MODULE not in bpy.context.preferences.addons and not hasattr(bpy.types.Scene, "motif")
    return out


def scenario_generate(a: dict[str, Any]) -> dict[str, Any]:
    bpy, runtime, _prefs = _install(a["zip"], a["address"])
    scene = bpy.context.scene
    out: dict[str, Any] = {}
    bpy.ops.motif.test_connection()
    _drain(runtime, 60)
    st = runtime.SESSION.status
    out["connection_ok"], out["connection_text"] = st.connection_ok, st.connection_text
    state = scene.motif
    available = [d.name for d in state.decoders]
    use = [n for n in WANTED if n in available] or ["probe"]
    for d in state.decoders:
        d.enabled = d.name in use
    out["decoders_used"] = use
    state.prompt, state.seed = a["prompt"], a["seed"]
    shown: list[tuple[float, str]] = []  # every status the panel could have drawn
    status_set = runtime.SESSION.status.set

    def record(text: str, level: str = "INFO") -> None:
        status_set(text, level)
        shown.append((runtime.SESSION.status.fraction, text))

    runtime.SESSION.status.set = record
    started = time.perf_counter()
    out["generate_result"] = sorted(bpy.ops.motif.generate())
    out["generate_call_s"] = time.perf_counter() - started
    _drain(runtime, 580)
    runtime.SESSION.status.set = status_set
    fractions = [f for f, _ in shown]
    out["fractions_monotonic"] = fractions == sorted(fractions)
    out["progress_seen"] = [t for _, t in shown]
    out["status_level"], out["status_text"] = runtime.SESSION.status.level, runtime.SESSION.status.text
    entry = state.history[0]
    manifest = json.loads(entry.manifest_json)
    out["pack"] = _describe_pack(_collection_of(entry.pack_id), manifest)
    out["history"] = _history(scene)

    bpy.ops.motif.reimport(index=0)
    _drain(runtime, 120)
    out["reimport"] = {"collections_with_pack": sum(1 for c in bpy.data.collections
                                                    if c.get("motif_pack_id") == entry.pack_id)}

    bpy.ops.motif.regenerate_only(index=0, decoder=use[0])
    _drain(runtime, 580)
    regen = json.loads(state.history[-1].manifest_json)
    out["regenerate"] = {"seed": regen["seed"], "decoders": regen["request"]["decoders"],
                         "pins": sorted(regen["request"]["pins"]),
                         "latent_equal": regen["latent"] == manifest["latent"],
                         "status": runtime.SESSION.status.text}

    # Encode -> edit a field (locks it) -> generate what the panel asks for, on the diagnostic probe
    # (which reads the latent back cheaply; the panel never offers it as a modality)
    bpy.ops.motif.encode()
    _drain(runtime, 60)
    enc: dict[str, Any] = {"fields": len(state.fields), "offered": [d.name for d in state.decoders]}
    tempo = next(f for f in state.fields if f.name == "tempo_bpm")
    tempo.value = 133.0
    enc["locked_after_edit"] = [f.name for f in state.fields if f.locked]
    enc["pins"] = sorted(sys.modules[f"{MODULE}.props"].current_pins(state))
    spec, _warning = sys.modules[f"{MODULE}.operators"].generate_spec(bpy.context, state)
    runtime.start("generate", _prefs, scene, spec=dataclasses.replace(spec, decoders=["probe"]))
    _drain(runtime, 120)
    last = json.loads(state.history[-1].manifest_json)
    enc["generated_tempo"] = last["latent"]["tempo_bpm"]
    out["encode"] = enc
    return out


def _connected(a: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """The extension installed, the engine's Describe answered: (bpy, runtime, prefs, the panel state)."""
    bpy, runtime, prefs = _install(a["zip"], a["address"])
    bpy.ops.motif.test_connection()
    _drain(runtime, 60)
    return bpy, runtime, prefs, bpy.context.scene.motif


def scenario_subjects(a: dict[str, Any]) -> dict[str, Any]:
    """Encode, type the subjects (and an environment) in the latent panel, Generate the mesh; then an
    unknown name."""
    bpy, runtime, _prefs, state = _connected(a)
    props = sys.modules[f"{MODULE}.props"]
    state.prompt, state.seed = a["prompt"], a["seed"]
    for d in state.decoders:
        d.enabled = d.name == "mesh"
    bpy.ops.motif.encode()
    _drain(runtime, 60)
    fields = {f.name: f for f in state.fields}
    subjects, environment = fields["subjects"], fields["environment"]
    out: dict[str, Any] = {
        "encoded": [subjects.kind, subjects.text, subjects.locked, len(subjects.choices.split("\n"))],
        "environment": [environment.kind, environment.text, "snow" in environment.choices.split("\n")],
        "suggested": props._field_search(subjects, bpy.context, "lighthouse, we")[:1],
    }
    subjects.text = "lighthouse, well"  # typing in the field locks it, as for every field
    environment.text = "snow"
    out["locked"] = sorted(f.name for f in state.fields if f.locked)
    out["pins"] = props.current_pins(state)
    out["drawn"] = [w[:3] for w in _plain(_draw(sys.modules[f"{MODULE}.panel"].MOTIF_PT_latent, bpy.context))
                    if w[:2] == ["prop", "text"]]
    bpy.ops.motif.generate()
    _drain(runtime, 580)
    st = runtime.SESSION.status
    entry = state.history[-1]
    manifest = json.loads(entry.manifest_json)
    kit_path = next(x["path"] for x in manifest["assets"] if x["role"] == "kit")
    kit = json.loads((Path(entry.pack_dir) / kit_path).read_text())["kit"]
    out["generated"] = {"status": [st.level, st.text], "pins": manifest["request"]["pins"],
                        "latent": [manifest["latent"].get("subjects"), manifest["latent"].get("environment")],
                        "recipes": [[x.get("recipe"), bool(x.get("hero"))] for x in kit["assets"]],
                        "panel_after": [f.text for f in state.fields if f.name == "subjects"]}

    subjects = next(f for f in state.fields if f.name == "subjects")
    subjects.text = "lighthouse, dragon"
    runtime.REPORTS.clear()
    packs = len(state.history)
    bpy.ops.motif.generate()
    _drain(runtime, 60)
    out["unknown"] = {"status": [st.level, st.text], "reports": list(runtime.REPORTS),
                      "new_packs": len(state.history) - packs}
    return out


def scenario_engine_down(a: dict[str, Any]) -> dict[str, Any]:
    bpy, runtime, prefs = _install(a["zip"], a["address"])
    scene = bpy.context.scene
    out: dict[str, Any] = {}
    bpy.ops.motif.test_connection()
    _drain(runtime, 60)
    st = runtime.SESSION.status
    out["connection_ok"], out["connection_text"] = st.connection_ok, st.connection_text
    before = _ids()
    runtime.REPORTS.clear()
    scene.motif.prompt = "nobody is listening"
    bpy.ops.motif.generate()
    _drain(runtime, 60)
    out["generate"] = {"status_level": runtime.SESSION.status.level, "status_text": runtime.SESSION.status.text,
                       "reports": list(runtime.REPORTS), "new_ids": _new_ids(before),
                       "history": len(scene.motif.history)}

    def refused(address: str, prompt: str = "x") -> str:
        prefs.address = address
        scene.motif.prompt = prompt
        try:
            bpy.ops.motif.generate()
        except RuntimeError as exc:  # bpy.ops raises with the operator's ERROR report
            return str(exc)
        return "not refused: " + runtime.SESSION.status.text

    prefs.address = a["silent"]
    scene.motif.prompt = "is anyone there"
    before = _ids()
    started = time.perf_counter()
    bpy.ops.motif.generate()
    call_s = time.perf_counter() - started
    _drain(runtime, 60)
    out["silent"] = {"call_s": call_s, "status_level": st.level, "status_text": st.text,
                     "new_ids": _new_ids(before)}

    prefs.start_local_engine = True  # something already listens there: use it, start nothing
    out["occupied"] = {"engine": runtime.SESSION.local_engine is not None, "text": st.connection_text}
    prefs.start_local_engine = False

    out["bad_address"] = refused("nonsense")
    out["remote_offline"] = refused("10.1.2.3:50051")
    out["empty_prompt"] = refused(a["address"], prompt="   ")
    return out


def scenario_token(a: dict[str, Any]) -> dict[str, Any]:
    bpy, runtime, prefs = _install(a["zip"], a["address"])
    out = {}
    for case, token in (("without", ""), ("wrong", "nope"), ("right", "s3cret")):
        prefs.token = token
        bpy.ops.motif.test_connection()
        _drain(runtime, 60)
        out[case] = {"ok": runtime.SESSION.status.connection_ok, "text": runtime.SESSION.status.connection_text}
    return out


def scenario_cancel(a: dict[str, Any]) -> dict[str, Any]:
    bpy, runtime, prefs = _install(a["zip"], a["address"])
    jobs = sys.modules[f"{MODULE}.kit"].runner
    scene = bpy.context.scene
    out: dict[str, Any] = {}
    before = _ids()
    runtime.start("generate", prefs, scene, spec=jobs.GenerateSpec(prompt="x", decoders=["hologram"]))
    _drain(runtime, 60)
    out["unknown"] = {"status_text": runtime.SESSION.status.text, "new_ids": _new_ids(before)}

    spec = jobs.GenerateSpec(prompt="a long job", seed=5, decoders=["probe"],
                             options={"probe": {"sleep_s": 20, "steps": 200}})
    runtime.start("generate", prefs, scene, spec=spec)
    _drain(runtime, 60, until=lambda: "probe step" in runtime.SESSION.status.text)
    c: dict[str, Any] = {"progress_before_cancel": runtime.SESSION.status.text, "job_id": runtime.SESSION.runner.job_id}
    started = time.monotonic()
    c["cancel_result"] = sorted(bpy.ops.motif.cancel())
    _drain(runtime, 30)
    c["seconds_to_cancelled"] = time.monotonic() - started
    c.update({"status_level": runtime.SESSION.status.level, "status_text": runtime.SESSION.status.text,
              "new_ids": _new_ids(before), "history": len(scene.motif.history)})
    out["cancel"] = c
    return out


def scenario_synthetic(a: dict[str, Any]) -> dict[str, Any]:
    bpy, runtime, _prefs = _install(a["zip"])
    scene = bpy.context.scene
    out: dict[str, Any] = {}
    # the sequencer edits another scene (Blender 5.0's workspace.sequencer_scene)
    seq = bpy.data.scenes.new("Motif Sequencer")
    bpy.context.workspace.sequencer_scene = seq
    pack = Path(a["pack"])
    manifest = json.loads((pack / "pack.json").read_text())
    started = time.perf_counter()
    runtime.import_local(scene, pack, manifest)
    _drain(runtime, 120)
    out["import_seconds"] = time.perf_counter() - started
    out["pack"] = _describe_pack(_collection_of(manifest["pack_id"]), manifest)
    out["status"] = runtime.SESSION.status.text

    broken = Path(a["broken"])
    bmanifest = json.loads((broken / "pack.json").read_text())
    world_before = scene.world
    before = _ids()
    strips_before = len(seq.sequence_editor.strips_all)
    runtime.import_local(scene, broken, bmanifest)
    _drain(runtime, 120)
    out["broken"] = {"status_level": runtime.SESSION.status.level, "status_text": runtime.SESSION.status.text,
                     "new_ids": _new_ids(before), "strips": len(seq.sequence_editor.strips_all),
                     "strips_before": strips_before, "world_restored": scene.world == world_before}

    runtime.SESSION.import_slice_s = 0.0  # one step per tick, so Cancel lands mid-import
    before = _ids()
    runtime.import_local(scene, pack, manifest)
    runtime.drain_events()
    runtime.drain_events()
    importing = runtime.SESSION.importing
    partial = len(importing.result.objects) if importing else 0
    bpy.ops.motif.cancel()
    _drain(runtime, 30)
    out["cancel_import"] = {"partial_objects": partial, "new_ids": _new_ids(before),
                            "status": runtime.SESSION.status.text}

    # the pack can be found and replayed after the file is saved and opened again
    blend = Path(a["blend"])
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    scene = bpy.context.scene
    col = _collection_of(manifest["pack_id"])
    out["reloaded"] = {
        "history": [(h.pack_id, h.collection.name if h.collection else None, h.seed, h.prompt)
                    for h in scene.motif.history],
        "collection": col.name, "props": _motif_props(col),
        "concept_packed": all(o.data.packed_file is not None for o in col.objects
                              if o.type == "EMPTY" and o.data is not None),
    }
    return out


def scenario_import_pack(a: dict[str, Any]) -> dict[str, Any]:
    """Import a pack folder through the add-on (as Re-import does), driven by the timer."""
    bpy, runtime, _prefs = _install(a["zip"])
    pack = Path(a["pack"])
    manifest = json.loads((pack / "pack.json").read_text())
    started = time.perf_counter()
    runtime.import_local(bpy.context.scene, pack, manifest)
    _drain(runtime, 300)
    st = runtime.SESSION.status
    out: dict[str, Any] = {"import_seconds": time.perf_counter() - started, "status_level": st.level,
                           "status_text": st.text}
    col = _collection_of(manifest["pack_id"])
    out["pack"] = _describe_pack(col, manifest)
    names = [m.name for o in col.objects if o.type == "MESH" for m in o.data.materials if m]
    out["materials_shared"] = not any(n.rpartition(".")[2].isdigit() for n in names)
    return out


class _Recorder:
    """A stand-in for bpy's UILayout that records what a draw function asks for."""

    log: list[list[Any]]

    def __init__(self, log: list[list[Any]]) -> None:
        object.__setattr__(self, "log", log)

    def __setattr__(self, name: str, value: Any) -> None:  # enabled, active, scale_y, alignment …
        self.log.append(["set", name, value])

    def _child(self, *args: Any, **kw: Any) -> _Recorder:
        return _Recorder(self.log)

    row = column = box = split = grid_flow = column_flow = _child

    def prop(self, data: Any, name: str, text: str | None = None, **kw: Any) -> None:
        self.log.append(["prop", name, text, kw.get("icon"), data])

    def operator(self, idname: str, text: str | None = None, **kw: Any) -> Any:
        self.log.append(["op", idname, text, kw.get("icon")])
        rec = self

        class OpProps:
            def __setattr__(self, k: str, v: Any) -> None:
                rec.log.append(["op_prop", idname, k, v])

        return OpProps()

    def label(self, text: str = "", icon: str | None = None, **kw: Any) -> None:
        self.log.append(["label", text, icon])

    def progress(self, factor: float = 0.0, type: str = "BAR", text: str = "", **kw: Any) -> None:
        self.log.append(["progress", factor, text])

    def template_ID(self, data: Any, name: str, **kw: Any) -> None:
        self.log.append(["template_ID", name, data])

    def template_list(self, list_type: str, list_id: str, data: Any, prop: str, active_data: Any,
                      active_prop: str, **kw: Any) -> None:
        self.log.append(["template_list", list_type, data, prop, active_prop])

    def menu(self, idname: str, text: str | None = None, **kw: Any) -> None:
        self.log.append(["menu", idname, text])

    def separator(self, **kw: Any) -> None:
        self.log.append(["separator"])


def _draw(panel_cls: Any, context: Any, self_obj: Any = None) -> list[list[Any]]:
    log: list[list[Any]] = []
    holder = self_obj or type("PanelSelf", (), {})()
    holder.layout = _Recorder(log)
    panel_cls.draw(holder, context)
    return log


def _unknown_names(logs: list[list[list[Any]]]) -> list[str]:
    import bpy

    bad = []
    for log in logs:
        for w in log:
            if w[0] == "prop":
                data = w[4]
                rna = getattr(data, "bl_rna", None) or getattr(getattr(data, "_real", None), "bl_rna", None)
                if rna is None or w[1] not in rna.properties:
                    bad.append(f"prop {w[1]}")
            elif w[0] == "op":
                cat, _, name = w[1].partition(".")
                if not hasattr(getattr(bpy.ops, cat), name):
                    bad.append(f"op {w[1]}")
            elif w[0] == "menu" and not hasattr(bpy.types, w[1]):
                bad.append(f"menu {w[1]}")
    return bad


def _plain(log: list[list[Any]]) -> list[list[Any]]:
    return [[x for x in w if isinstance(x, (str, int, float, bool)) or x is None] for w in log]


def scenario_panel(a: dict[str, Any]) -> dict[str, Any]:
    bpy, runtime, prefs = _install(a["zip"])
    mod = sys.modules[MODULE]
    panel, props = sys.modules[f"{MODULE}.panel"], sys.modules[f"{MODULE}.props"]
    ctx = bpy.context
    props.ensure_initialized(ctx.scene, prefs)
    out: dict[str, Any] = {}
    logs = []
    idle = _draw(panel.MOTIF_PT_main, ctx)
    session = runtime.SESSION
    session.importing = object()  # busy: as while a job runs
    session.status.fraction, session.status.text = 0.4, "Working: mesh 40%"
    busy = _draw(panel.MOTIF_PT_main, ctx)
    session.importing = None
    ctx.scene.motif.sketch_source = "IMAGE"
    sketch = _draw(panel.MOTIF_PT_main, ctx)
    ctx.scene.motif.sketch_source = "NONE"
    # a job this file was waiting for: the main panel offers to re-attach
    props.remember_job(ctx.scene.motif, {"job_id": "abc123def456", "seq": 4}, "misty pier")
    reattach = _draw(panel.MOTIF_PT_main, ctx)
    props.remember_job(ctx.scene.motif, None)
    # the engine's feed: one Import button per pack, whoever made it
    empty_feed = _draw(panel.MOTIF_PT_feed, ctx)
    session.status.feed = [{"pack_id": "p1" * 12, "prompt": "from unreal", "client": "unreal"},
                           {"pack_id": "p2" * 12, "prompt": "from the cli", "client": "cli"}]
    feed = _draw(panel.MOTIF_PT_feed, ctx)
    session.status.feed = []
    empty_latent = _draw(panel.MOTIF_PT_latent, ctx)
    pack = Path(a["pack"])
    manifest = json.loads((pack / "pack.json").read_text())
    runtime.import_local(ctx.scene, pack, manifest)
    _drain(runtime, 120)
    latent = _draw(panel.MOTIF_PT_latent, ctx)
    history = _draw(panel.MOTIF_PT_history, ctx)
    # a v2 latent (subjects and environment), shown before any Describe
    props.fill_latent(ctx.scene.motif, {**manifest["latent"], "environment": "snow",
                                        "subjects": [{"name": "cabin", "words": "log cabin"}, {"name": "pine",
                                                                                              "words": "pines"}]},
                      None)
    latent_v2 = _draw(panel.MOTIF_PT_latent, ctx)
    subjects = next(f for f in ctx.scene.motif.fields if f.name == "subjects")
    out["subjects_field"] = [subjects.kind, subjects.text]
    props.fill_latent(ctx.scene.motif, manifest["latent"], None)
    menu_log: list[list[Any]] = []
    menu_self = type("MenuSelf", (), {})()
    menu_self.layout = _Recorder(menu_log)
    sys.modules[f"{MODULE}.operators"].MOTIF_MT_regenerate.draw(menu_self, ctx)

    class PrefsSelf:
        def __init__(self, real: Any) -> None:
            object.__setattr__(self, "_real", real)

        def __getattr__(self, k: str) -> Any:
            return getattr(self._real, k)

    prefs_self = PrefsSelf(prefs)
    prefs_log: list[list[Any]] = []
    object.__setattr__(prefs_self, "layout", _Recorder(prefs_log))
    type(prefs).draw(prefs_self, ctx)
    import_menu: list[list[Any]] = []
    menu_self = type("MenuSelf", (), {})()
    menu_self.layout = _Recorder(import_menu)
    for fn in bpy.types.TOPBAR_MT_file_import._dyn_ui_initialize():
        if getattr(fn, "__module__", "").startswith(MODULE):
            fn(menu_self, ctx)
    logs = [idle, busy, sketch, reattach, empty_feed, feed, empty_latent, latent, latent_v2, history, menu_log,
            prefs_log, import_menu]
    out.update({
        "main_idle": _plain(idle), "main_busy": _plain(busy), "main_sketch": [w[:2] for w in sketch],
        "main_reattach": _plain(reattach), "feed_empty": _plain(empty_feed), "feed": _plain(feed),
        "import_menu": _plain(import_menu),
        "latent_empty": _plain(empty_latent), "latent": _plain(latent), "latent_v2": _plain(latent_v2),
        "history": _plain(history),
        "regenerate_menu": [w[2] for w in menu_log if w[0] == "op"], "prefs": _plain(prefs_log),
        "unknown_names": _unknown_names(logs), "module": mod.__name__,
    })
    return out


def scenario_local_engine(a: dict[str, Any]) -> dict[str, Any]:
    bpy, runtime, prefs = _install(a["zip"], a["address"])
    prefs.engine_command = a["command"]
    prefs.store_dir = a["store"]
    prefs.start_local_engine = True  # starts it (update callback)
    engine = runtime.SESSION.local_engine
    bpy.ops.motif.test_connection()
    _drain(runtime, 120)
    st = runtime.SESSION.status
    out = {"connection_ok": st.connection_ok, "connection_text": st.connection_text,
           "engine_pid": engine.pid if engine else None,
           "log": engine.log_tail(5) if engine else ""}
    print(RESULT + json.dumps(out), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # Blender crashes: no atexit, no unregister
    return out


def scenario_job_then_crash(a: dict[str, Any]) -> dict[str, Any]:
    """Start a job, save the file while it runs, then crash (SIGKILL: no handlers, no atexit)."""
    bpy, runtime, prefs = _install(a["zip"], a["address"])
    scene = bpy.context.scene
    runner = sys.modules[f"{MODULE}.kit"].runner
    spec = runner.GenerateSpec(prompt="misty pier at dawn", seed=a["seed"], decoders=["probe"],
                               options={"probe": {"sleep_s": 10, "steps": 50}})
    runtime.start("generate", prefs, scene, spec=spec)
    _drain(runtime, 60, until=lambda: "probe step" in runtime.SESSION.status.text and scene.motif.job_seq > 0)
    state = scene.motif
    out = {"job_id": state.job_id, "job_seq": state.job_seq, "job_prompt": state.job_prompt}
    bpy.ops.wm.save_as_mainfile(filepath=a["blend"])
    print(RESULT + json.dumps(out), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    return out


def scenario_reopen_and_reattach(a: dict[str, Any]) -> dict[str, Any]:
    """Blender starts again and opens the file: it offers the re-attach; pressing it imports the pack."""
    bpy, runtime, _prefs = _install(a["zip"], a["address"])
    runtime.REPORTS.clear()
    bpy.ops.wm.open_mainfile(filepath=a["blend"])
    scene = bpy.context.scene
    state = scene.motif
    out: dict[str, Any] = {"remembered": [state.job_id, state.job_seq, state.job_prompt],
                           "reports": list(runtime.REPORTS)}
    with sys.modules[f"{MODULE}.kit"].MotifClient(a["address"]) as c:
        out["engine_state"] = next(j["state"] for j in c.list_jobs() if j["job_id"] == state.job_id)
    out["offer"] = _plain(_draw(sys.modules[f"{MODULE}.panel"].MOTIF_PT_main, bpy.context))
    started = time.perf_counter()
    out["reattach_result"] = sorted(bpy.ops.motif.reattach())
    out["reattach_call_s"] = time.perf_counter() - started
    shown = _drain(runtime, 120)
    out["progress_seen"] = [t for _, t in shown]
    out["status"] = [runtime.SESSION.status.level, runtime.SESSION.status.text]
    out["history"] = _history(scene)
    out["manifest"] = json.loads(state.history[-1].manifest_json) if len(state.history) else {}
    out["after"] = [state.job_id, state.job_seq]
    out["offer_after"] = _plain(_draw(sys.modules[f"{MODULE}.panel"].MOTIF_PT_main, bpy.context))
    return out


def scenario_import_and_feed(a: dict[str, Any]) -> dict[str, Any]:
    """File › Import › Motif Pack (a pack.json, then its folder), and Import from the engine's feed."""
    bpy, runtime, prefs = _install(a["zip"], a["address"])
    scene = bpy.context.scene
    status = runtime.SESSION.status
    out: dict[str, Any] = {}
    pack = Path(a["pack"])
    manifest = json.loads((pack / "pack.json").read_text())
    results = [sorted(bpy.ops.motif.import_pack(filepath=str(pack / "pack.json")))]
    _drain(runtime, 120)
    results.append(sorted(bpy.ops.motif.import_pack(filepath=str(pack) + os.sep)))
    _drain(runtime, 120)
    out["file_import"] = {
        "results": results, "status": [status.level, status.text], "history": _history(scene),
        "collections": sum(1 for c in bpy.data.collections if c.get("motif_pack_id") == manifest["pack_id"]),
        "pack": _describe_pack(_collection_of(manifest["pack_id"]), manifest)}
    before = _ids()
    try:
        bpy.ops.motif.import_pack(filepath=a["not_a_pack"])
        out["refused"] = "not refused"
    except RuntimeError as exc:
        out["refused"] = str(exc)
    out["refused_new_ids"] = _new_ids(before)

    out["feed_problem"] = runtime.watch_feed(prefs)
    _drain(runtime, 30, until=lambda: any(p["pack_id"] == a["feed_pack_id"] for p in status.feed))
    out["feed_row"] = next(p for p in status.feed if p["pack_id"] == a["feed_pack_id"])
    started = time.perf_counter()
    out["feed_result"] = sorted(bpy.ops.motif.import_feed(pack_id=a["feed_pack_id"]))
    out["feed_call_s"] = time.perf_counter() - started
    _drain(runtime, 120)
    entry = scene.motif.history[-1]
    out["feed_import"] = {"status": [status.level, status.text], "history": _history(scene),
                          "pack": _describe_pack(_collection_of(a["feed_pack_id"]), json.loads(entry.manifest_json))}
    return out


def scenario_sketch(a: dict[str, Any]) -> dict[str, Any]:
    """The panel's sketch, sent as Describe says, reaches the engine's image decoder."""
    bpy, runtime, prefs, state = _connected(a)
    scene = bpy.context.scene
    ops = sys.modules[f"{MODULE}.operators"]
    out: dict[str, Any] = {"offered": [d.name for d in state.decoders]}
    w, h = 64, 48
    img = bpy.data.images.new("sketch", w, h)
    red, blue = [0.85, 0.1, 0.08, 1.0], [0.05, 0.15, 0.8, 1.0]
    img.pixels = [c for y in range(h) for _x in range(w) for c in (blue if y < h // 2 else red)]
    state.sketch_source, state.sketch_image = "IMAGE", img
    for d in state.decoders:
        d.enabled = d.name == "music"
    spec, warning = ops.generate_spec(bpy.context, state)
    out["music_only"] = {"options": dict(spec.options), "warning": warning}
    for d in state.decoders:
        d.enabled = d.name == "image"
    state.prompt, state.seed = "harbour at dusk", a["seed"]
    spec, warning = ops.generate_spec(bpy.context, state)
    out["options"] = {k: sorted(v) for k, v in spec.options.items()}
    out["warning"] = warning
    # the smallest picture the image decoder allows: the sketch is what is under test, not the render
    options = {"image": {**spec.options["image"], "width": 64, "height": 64}}
    runtime.start("generate", prefs, scene, spec=dataclasses.replace(spec, options=options))
    _drain(runtime, 300)
    out["status"] = [runtime.SESSION.status.level, runtime.SESSION.status.text]
    manifest = json.loads(state.history[-1].manifest_json) if len(state.history) else {}
    out["request_sketch"] = manifest.get("request", {}).get("sketch")
    out["pack"] = _describe_pack(_collection_of(manifest["pack_id"]), manifest) if manifest else {}
    return out


def scenario_hum(a: dict[str, Any]) -> dict[str, Any]:
    """The panel's hum: nothing, a file path, then a sound datablock; a music pack is made from it."""
    bpy, runtime, prefs, state = _connected(a)
    scene = bpy.context.scene
    ops = sys.modules[f"{MODULE}.operators"]
    for d in state.decoders:
        d.enabled = d.name == "music"
    out: dict[str, Any] = {"none": ops.hum_input(state)}
    state.hum_path = a["path"]
    name, data = ops.hum_input(state)
    out["from_path"] = [name, len(data)]
    state.hum_path = ""
    state.hum_sound = bpy.data.sounds.load(a["path"])
    name, data = ops.hum_input(state)
    out["from_sound"] = [name, len(data)]
    state.prompt = "a quiet song at night"
    spec, _ = ops.generate_spec(bpy.context, state)
    runtime.start("generate", prefs, scene, spec=dataclasses.replace(spec, options={"music": {"bars": 4}}))
    _drain(runtime, 300)
    out["status"] = [runtime.SESSION.status.level, runtime.SESSION.status.text]
    manifest = json.loads(state.history[-1].manifest_json) if len(state.history) else {}
    out["request_hum"] = manifest.get("request", {}).get("hum")
    return out


if __name__ == "__main__":
    name, args = sys.argv[1], json.loads(sys.argv[2])
    result = globals()[f"scenario_{name}"](args)
    print(RESULT + json.dumps(result, default=str), flush=True)
    sys.stdout.flush()
    os._exit(0)  # skip bpy's slow teardown; everything is reported
