"""Every recipe of the subject vocabulary through the real mesh decoder: the Khronos validator (0 errors,
0 warnings), triangle budgets and LODs, origin and grid, winding, deterministic bytes; and the shapes of
every recipe in every style at both ends of density."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine_server.decoders.mesh import validator
from engine_server.decoders.mesh.kit import TRIANGLE_BUDGET, KitItem, build_asset
from engine_server.decoders.mesh.materials import kit_materials
from engine_server.decoders.mesh.recipes import RECIPES
from engine_server.decoders.mesh.styles import STYLES
from engine_server.vocabulary import SUBJECTS
from tests.latent_factory import make_latent
from tests.test_mesh_support import decode_kit, read_glb

GLB_LIMIT = 5 * 1024 * 1024
PER_KIT = 6
STYLE_CYCLE = ("medieval", "scifi", "natural", "architectural", "industrial", "organic")
NAMES = [n for n in SUBJECTS if n not in ("wall", "floor")]


def _batches() -> list[tuple[str, list[str]]]:
    groups = [NAMES[j:j + PER_KIT] for j in range(0, len(NAMES), PER_KIT)]
    if len(groups) > 1 and len(groups[-1]) < 3:  # a kit holds 5 to 10 pieces: fold a short tail in
        tail = groups.pop()
        groups[-1] += tail
    return [(STYLE_CYCLE[i % len(STYLE_CYCLE)], g) for i, g in enumerate(groups)]


@pytest.fixture(scope="module")
def kits(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, list[Any], list[str]]]:
    """Each subject once, pinned six at a time (512 px textures), each batch in another style."""
    out = []
    for i, (style, names) in enumerate(_batches()):
        d = tmp_path_factory.mktemp(f"vocab{i}")
        lat = make_latent(geometry_style=style, subjects=names, wear=0.6, density=0.7,
                          metalness=0.6 if style in ("scifi", "industrial") else 0.2)
        assets, _ = decode_kit(lat, 5, d, texture_size=512, assets=2 + len(names))
        out.append((d, assets, names))
    return out


def test_the_vocabulary_has_a_recipe_per_subject() -> None:
    assert len(SUBJECTS) >= 60
    assert set(SUBJECTS) == set(RECIPES)
    labels = [r.label for r in RECIPES.values()]
    assert len(set(labels)) == len(labels)
    for s in SUBJECTS.values():
        assert s.tags and s.tags == tuple(t.lower() for t in s.tags), s.name
    for name in ("cabin", "hut", "temple", "shrine", "torii", "tower", "lighthouse", "castle_wall", "gate", "tent",
                 "bridge", "well", "windmill", "dock", "boat", "ship_hull", "cart", "pine", "palm", "oak", "birch",
                 "cactus", "bush", "coral", "kelp", "mushroom", "crystal", "rock_arch", "cliff", "statue", "column",
                 "broken_column", "lantern", "brazier", "crate", "barrel", "chest", "fence", "banner", "sign",
                 "bench", "wall_panel", "door", "console", "pipe_run", "antenna"):
        assert name in SUBJECTS, name


def test_every_pinned_subject_is_in_its_kit_with_its_record(kits: Any) -> None:
    for out, _assets, names in kits:
        kit = json.loads((out / "mesh/kit.json").read_text())["kit"]
        recs = {a["recipe"]: a for a in kit["assets"]}
        assert [a["recipe"] for a in kit["assets"]][2:] == names
        for n in names:
            assert recs[n]["picked_by"] == {"source": "pin"}
        assert recs[names[0]].get("hero") is True
        assert sum(1 for a in kit["assets"] if a.get("hero")) == 1


def test_khronos_validator_finds_no_errors_in_any_recipe(kits: Any) -> None:
    if not validator.available():
        pytest.fail("node and node_modules/gltf-validator are needed (npm install)")
    items = [(out / a.path, a) for out, assets, _ in kits for a in assets if a.role == "mesh"]
    assert len(items) == len(NAMES) + 2 * len(kits)
    for (path, a), r in zip(items, validator.validate([p for p, _ in items]), strict=True):
        serious = [m for m in r.messages if m["severity"] in ("error", "warning")]
        assert r.errors == 0 and r.warnings == 0, f"{path.name}: {serious[:5]}"
        assert r.triangles == sum(a.meta["triangles"])


def test_budgets_lods_origin_grid_and_winding(kits: Any) -> None:
    for out, assets, _ in kits:
        for a in assets:
            if a.role != "mesh":
                continue
            path = out / a.path
            tris = a.meta["triangles"]
            assert len(tris) == 3 and tris[0] <= TRIANGLE_BUDGET, path.name
            assert all(b <= x // 2 for x, b in itertools.pairwise(tris)), (path.name, tris)
            assert path.stat().st_size < GLB_LIMIT
            glb = read_glb(path)
            pos = np.concatenate([p["pos"] for p in glb["lods"][0]])
            lo, hi = pos.min(axis=0), pos.max(axis=0)
            assert abs(lo[1]) < 1e-5 and abs(lo[0] + hi[0]) < 1e-4 and abs(lo[2] + hi[2]) < 1e-4, path.name
            if a.meta["modular"]:
                cells = (hi[0] - lo[0]) / a.meta["grid_snap_m"]
                assert abs(cells - round(cells)) < 1e-3 and a.meta["grid_cells"][0] == round(cells), path.name
            for lod in glb["lods"]:
                for p in lod:
                    idx = p["idx"].astype(np.int64)
                    q0, q1, q2 = (p["pos"][idx[:, k]].astype(np.float64) for k in range(3))
                    agree = np.einsum("ij,ij->i", np.cross(q1 - q0, q2 - q0), p["nrm"][idx].sum(axis=1)) > 0
                    assert agree.mean() > 0.999, f"{path.name}: {int((~agree).sum())} triangles face inward"


def test_same_pins_and_seed_give_the_same_bytes(kits: Any, tmp_path: Path) -> None:
    out, assets, names = kits[0]
    lat = make_latent(geometry_style=STYLE_CYCLE[0], subjects=names, wear=0.6, density=0.7, metalness=0.2)
    again, _ = decode_kit(lat, 5, tmp_path, texture_size=512, assets=2 + len(names))

    def digests(root: Path, files: list[Any]) -> dict[str, str]:
        return {f.path: hashlib.sha256((root / f.path).read_bytes()).hexdigest() for f in files}

    assert digests(out, assets) == digests(tmp_path, again)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_recipe_keeps_budget_and_lod_halving_in_every_style(style: str) -> None:
    for density in ((0.0, 1.0) if style in ("medieval", "scifi") else (1.0,)):
        lat = make_latent(geometry_style=style, density=density, wear=0.9)
        mats = kit_materials(lat, STYLES[style])
        for name, recipe in RECIPES.items():
            a = build_asset(KitItem(0, recipe), STYLES[style], lat, 17, mats)
            b = build_asset(KitItem(0, recipe), STYLES[style], lat, 17, mats)
            tris = [lod.n_tris for lod in a]
            assert tris[0] <= TRIANGLE_BUDGET, (style, name, tris)
            assert all(y <= x // 2 for x, y in itertools.pairwise(tris)), (style, name, tris)
            assert all(np.array_equal(p.pos, q.pos) for la, lb in zip(a, b, strict=True)
                       for p, q in zip(la.primitives, lb.primitives, strict=True)), (style, name)
