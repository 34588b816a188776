"""The kit to stage: the pack's own mesh assets, or, when the job has no mesh decoder, the same
kit made on the side (the mesh decoder is deterministic in latent and seed, so this is the kit
that a mesh request would deliver).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine_server.decoders.base import Asset, DecodeContext, DecodeRequest
from engine_server.decoders.scene.layout import KitPiece
from engine_server.errors import DecoderFailed


def pieces_from_assets(assets: Sequence[Asset], root: Path) -> list[KitPiece]:
    """KitPieces from the mesh decoder's assets (GLB meta carries archetype and size)."""
    kit_meta: dict[str, Mapping[str, Any]] = {}
    for a in assets:
        if a.role == "kit":
            try:
                data = json.loads((root / a.path).read_text())
                kit_meta = {m["name"]: m for m in data.get("kit", {}).get("assets", [])}
            except (OSError, ValueError, KeyError) as exc:
                raise DecoderFailed(f"The kit manifest {a.path} could not be read: {exc}") from exc
    pieces = []
    for a in assets:
        if a.role != "mesh" or not a.path.endswith(".glb"):
            continue
        meta = dict(a.meta) or dict(kit_meta.get(Path(a.path).stem, {}))
        fp = meta.get("footprint_m", [1.0, 1.0])
        pieces.append(
            KitPiece(
                name=str(meta.get("name", Path(a.path).stem)),
                archetype=str(meta.get("archetype", Path(a.path).stem)),
                path=str(root / a.path),
                footprint=(float(fp[0]), float(fp[1])),
                height=float(meta.get("height_m", 1.0)),
                modular=bool(meta.get("modular", False)),
                hero=bool(meta.get("hero", False)),
            )
        )
    return pieces


def kit_for(request: DecodeRequest, ctx: DecodeContext, workdir: Path) -> tuple[list[KitPiece], str, bool]:
    """(pieces, style, from_pack): the pack's kit when the mesh decoder ran, else one made here."""
    upstream = ctx.upstream.get("mesh")
    if upstream:
        pieces = pieces_from_assets(upstream, ctx.out_dir)
        if pieces:
            return pieces, request.latent.geometry_style, True
    from engine_server.decoders.mesh import MeshDecoder

    side = DecodeContext(workdir / "kit", lambda f, m: ctx.check_cancelled(), lambda: False)
    mesh_req = DecodeRequest(latent=request.latent, seed=request.seed, quality="draft", options={"texture_size": 512})
    assets = MeshDecoder().decode(mesh_req, side)
    pieces = pieces_from_assets(assets, side.out_dir)
    if not pieces:
        raise DecoderFailed("The mesh decoder made no pieces to stage.")
    return pieces, request.latent.geometry_style, False
