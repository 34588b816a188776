"""Shared staging for the image and video decoders: the pack's kit in a small set, lit and graded
from the latent, rendered with Cycles on the CPU. See docs/RENDER.md.

`Shoot.build` does everything both decoders share (look, framing, layout, the Blender stage);
the image decoder renders one frame, the video decoder a few keyframes it reprojects per frame.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine_server.decoders.base import DecodeContext, DecodeRequest
from engine_server.decoders.scene.camera import Framing, choose_framing
from engine_server.decoders.scene.kit import kit_for
from engine_server.decoders.scene.layout import KitPiece, SetLayout, hero_height, plan_layout
from engine_server.decoders.scene.look import Look, make_look
from engine_server.sketch import Sketch

SCENE_VERSION = "scene-1"


def derive_seed(seed: int, *scope: object) -> int:
    """A stable sub-seed (never Python's salted hash)."""
    import hashlib

    h = hashlib.sha256(repr((seed, *scope)).encode()).digest()
    return int.from_bytes(h[:8], "little")


@dataclass
class Shoot:
    look: Look
    framing: Framing
    layout: SetLayout
    pieces: list[KitPiece]
    stage: Any  # stage.Stage (bpy), built lazily so pure-Python callers never import bpy
    kit_from_pack: bool
    workdir: Path
    _tmp: Any

    @classmethod
    def build(cls, request: DecodeRequest, ctx: DecodeContext, aspect: float, sketch: Sketch | None,
              progress_span: tuple[float, float], label: str) -> Shoot:
        """Look, framing, layout and the Blender stage for this request (progress within span)."""
        from engine_server.decoders.scene.stage import Stage

        lo, hi = progress_span
        # scratch space inside the job's staging folder: removed with it whatever happens
        ctx.out_dir.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.TemporaryDirectory(prefix=f".{label}-work-", dir=ctx.out_dir)
        workdir = Path(tmp.name)
        ctx.progress(lo, f"{label}: gathering the kit")
        pieces, style, from_pack = kit_for(request, ctx, workdir)
        latent = request.latent
        look = make_look(latent)
        rng = np.random.default_rng(derive_seed(request.seed, "framing"))
        wall = next((p.height for p in pieces if p.archetype == "wall"), 3.0)
        hero_u = None
        if sketch is not None:
            cw = sketch.column_weights()
            if cw.max() > 1.5 / len(cw):
                hero_u = float((int(np.argmax(cw)) + 0.5) / len(cw))
        hero_h = hero_height(pieces)
        framing = choose_framing(latent, aspect, wall, rng, sketch.horizon if sketch else None, hero_u, hero_h)
        layout = plan_layout(pieces, framing, np.random.default_rng(derive_seed(request.seed, "layout")), sketch,
                             look.environment, look.enclosure)

        def stage_progress(f: float, m: str) -> None:
            ctx.progress(lo + (hi - lo) * (0.2 + 0.8 * f), f"{label}: {m}")

        ctx.progress(lo + (hi - lo) * 0.2, f"{label}: building the set")
        stage = Stage(pieces, layout, look, framing, style, derive_seed(request.seed, "stage") % (2**31), workdir,
                      stage_progress)
        return cls(look, framing, layout, pieces, stage, from_pack, workdir, tmp)

    def close(self) -> None:
        self._tmp.cleanup()

    def meta(self) -> dict[str, Any]:
        """What the picture shows, for asset meta: kit pieces, light, weather."""
        counts: dict[str, int] = {}
        for p in self.layout.placements:
            counts[p.piece] = counts.get(p.piece, 0) + 1
        cam = self.framing.camera
        return {
            "kit": {"pieces": counts, "from_pack": self.kit_from_pack},
            "camera": {"lens_mm": round(cam.lens, 2), "height_m": round(cam.position[2], 3),
                       "pitch_deg": round(cam.pitch, 3), "roll_deg": round(cam.roll, 3),
                       "horizon": round(self.framing.horizon, 3), "hero_u": round(self.framing.hero_u, 3)},
            "light": {"time_of_day": self.look.time_of_day, "weather": self.look.weather,
                      "sun_elevation_deg": self.look.sun_elevation},
            "palette": list(self.look.palette_hex),
            "renderer": "Blender Cycles (CPU) + Motif post (AgX tone curve, OKLab palette grade)",
            "scene_version": SCENE_VERSION,
        }
