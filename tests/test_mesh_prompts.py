"""Kits from 20 varied prompts through the real encoder: every GLB passes the Khronos validator with 0
errors, imports into real Blender with the expected objects, PBR images and dimensions, keeps the
budgets, and the kit's textures stay on the latent palette (mean CIEDE2000, docs/MESH.md)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine_server.decoders.mesh import validator
from engine_server.decoders.mesh.coherence import glb_base_colour_images, kit_distance
from engine_server.decoders.mesh.kit import TRIANGLE_BUDGET
from tests.test_mesh_support import blender_check, decode_kit, glb_files

SEED = 42
PROMPTS = [
    "abandoned cyberpunk marketplace at dusk with rain",
    "sunlit medieval village square",
    "misty pine forest clearing at dawn",
    "brutalist concrete plaza at noon",
    "rusty industrial harbour in a storm",
    "neon-lit space station corridor at night",
    "overgrown alien garden with glowing mushrooms",
    "snowy mountain monastery courtyard",
    "desert bazaar in a dust storm",
    "quiet japanese temple garden in autumn",
    "gothic cathedral ruins under fog",
    "tropical beach boardwalk at sunset",
    "abandoned subway station with flickering lights",
    "elven treehouse village at twilight",
    "victorian london street in heavy fog",
    "futuristic clean white laboratory",
    "cozy hillside village in spring",
    "post-apocalyptic scrapyard under a red sky",
    "underwater coral city with bioluminescence",
    "wild west frontier town at high noon",
]
COHERENCE_LIMIT = 10.0


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Any, Path, list[Any]]]:
    from engine_server.encoder import get_encoder

    enc = get_encoder()
    out = []
    for i, prompt in enumerate(PROMPTS):
        latent = enc.encode(prompt, SEED)
        d = tmp_path_factory.mktemp(f"prompt{i:02d}")
        assets, _ = decode_kit(latent, SEED, d, texture_size=512)
        out.append((prompt, latent, d, assets))
    return out


def _glbs(packs: list[tuple[str, Any, Path, list[Any]]]) -> list[tuple[Path, Any]]:
    return [(d / a.path, a) for _, _, d, assets in packs for a in assets if a.role == "mesh"]


def test_prompts_make_varied_kits(packs: Any) -> None:
    styles = {latent.geometry_style for _, latent, _, _ in packs}
    assert len(styles) >= 3, styles
    for prompt, _, _, assets in packs:
        assert sum(a.role == "mesh" for a in assets) >= 5, prompt
        assert sum(a.role == "kit" for a in assets) == 1


def test_every_glb_passes_the_khronos_validator(packs: Any) -> None:
    if not validator.available():
        pytest.fail("node and node_modules/gltf-validator are needed (npm install)")
    items = _glbs(packs)
    reports = validator.validate([p for p, _ in items])
    bad = [(p.name, r.errors, r.messages[:3]) for (p, _), r in zip(items, reports, strict=True) if r.errors]
    assert not bad, bad
    assert len(reports) >= 100


def test_every_glb_imports_into_blender(packs: Any) -> None:
    items = _glbs(packs)
    reports = blender_check([p for p, _ in items])
    for path, a in items:
        r = reports[str(path)]
        assert r["scene_objects"] == [a.meta["name"]]
        assert r["mesh_objects"] == len(a.meta["triangles"])
        for m in r["materials"]:
            assert all(m[k] for k in ("Base Color", "Roughness", "Metallic", "Normal")), (path.name, m)
        want = [a.meta["footprint_m"][0], a.meta["height_m"], a.meta["footprint_m"][1]]
        assert np.allclose(r["dimensions_gltf"], want, rtol=0.01, atol=1e-3), (path.name, r["dimensions_gltf"], want)


def test_budgets_hold_for_every_prompt(packs: Any) -> None:
    for path, a in _glbs(packs):
        tris = a.meta["triangles"]
        assert tris[0] <= TRIANGLE_BUDGET and all(b <= a_ // 2 for a_, b in itertools.pairwise(tris))
        assert path.stat().st_size < 5 * 1024 * 1024


def test_kits_stay_on_their_palettes(packs: Any) -> None:
    figures = []
    for prompt, latent, d, assets in packs:
        figure = kit_distance(glb_base_colour_images(glb_files(d, assets)), [s.rgb() for s in latent.palette])
        figures.append(figure)
        assert figure < COHERENCE_LIMIT, (prompt, figure)
    print(f"mean CIEDE2000 from texture dominant colours to palette over {len(figures)} prompts: "
          f"{np.mean(figures):.2f} (max {np.max(figures):.2f})")
