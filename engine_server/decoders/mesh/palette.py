"""Which palette colour paints which material role.

Assignment depends on the palette alone (never on the seed), so re-rolling the seed re-shapes the kit
but keeps its colours, and editing the palette re-colours the kit but keeps its shapes. Colour maths
is plain numpy (sRGB <-> CIELAB, D65) so decoding never pays colour-science's import time; the
coherence measure in coherence.py uses colour-science's CIEDE2000.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine_server.latent import Latent
from engine_server.oklab import srgb_to_linear  # the engine's one sRGB curve

RGB = tuple[float, float, float]
_XYZ_FROM_LINEAR = np.array([[0.4124564, 0.3575761, 0.1804375],
                             [0.2126729, 0.7151522, 0.0721750],
                             [0.0193339, 0.1191920, 0.9503041]])
_D65 = np.array([0.95047, 1.0, 1.08883])


def srgb_to_lab(c: np.ndarray) -> np.ndarray:
    xyz = srgb_to_linear(np.asarray(c, dtype=np.float64)) @ _XYZ_FROM_LINEAR.T / _D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


@dataclass(frozen=True)
class Swatch:
    rgb: RGB  # sRGB 0..1
    lab: tuple[float, float, float]
    weight: float

    @property
    def chroma(self) -> float:
        return math.hypot(self.lab[1], self.lab[2])

    @property
    def hue(self) -> float:
        return math.degrees(math.atan2(self.lab[2], self.lab[1])) % 360.0


def swatches(latent: Latent) -> list[Swatch]:
    rgb = np.array([s.rgb() for s in latent.palette])
    lab = srgb_to_lab(rgb)
    return [Swatch(tuple(map(float, c)), tuple(map(float, lab_c)), float(s.weight))  # type: ignore[arg-type]
            for c, lab_c, s in zip(rgb, lab, latent.palette, strict=True)]


def _hue_near(h: float, target: float, width: float = 60.0) -> float:
    d = abs((h - target + 180.0) % 360.0 - 180.0)
    return max(0.0, 1.0 - d / width)


def _score(role: str, kind: str, s: Swatch, area: Mapping[str, float] | None = None) -> float:
    """How well a palette colour suits a material: by what the surface is (kind), plus the role's size."""
    L, C = s.lab[0], s.chroma
    mid = 1.0 - abs(L - 50.0) / 50.0
    if kind in ("wood", "bark"):
        target_l = 35.0 if kind == "bark" else 45.0
        v = _hue_near(s.hue, 60.0, 55.0) + 0.6 * (1 - abs(L - target_l) / 50.0) - abs(C - 25.0) / 60.0
    elif kind == "foliage":
        v = 1.5 * _hue_near(s.hue, 130.0, 75.0) + 0.5 * (1 - abs(L - 45.0) / 50.0) + C / 150.0 - max(0.0, L - 75) / 15
    elif kind in ("fabric",) or role == "accent":
        v = C / 45.0 + 0.3 * mid
    elif kind == "emissive":
        v = C / 45.0 + L / 70.0
    elif kind == "bare_metal":  # iron and steel: dark to mid grey, never the palette's white
        v = 1.0 - C / 40.0 - abs(L - 40.0) / 35.0
    elif kind == "painted_metal" and role == "metal":  # hardware painted in a dark colour
        v = 0.8 - abs(L - 35.0) / 40.0 - C / 120.0
    elif kind == "ground":
        v = 0.6 * (1 - abs(L - 35.0) / 50.0) - C / 120.0 + 0.3 * _hue_near(s.hue, 70.0, 80.0)
    else:  # concrete, plaster, stone, rock, ceramic, painted or plastic structure
        v = 0.6 * mid - C / 110.0
    if area is not None:  # v2 kits: the roles that cover most of the kit wear the heaviest colours
        return v + 3.0 * s.weight * area.get(role, 0.0) / max(max(area.values(), default=0.0), 1e-9)
    if role == "structure":
        v += 3.0 * s.weight
    elif role in ("trim", "stone", "rock", "ground"):
        v += 1.2 * s.weight
    return v


ROLES = ("structure", "trim", "wood", "metal", "cloth", "cloth2", "accent", "glow", "stone", "rock", "foliage",
         "bark", "ground")


def assign_roles(sw: Sequence[Swatch], kinds: dict[str, str],
                 area: Mapping[str, float] | None = None) -> dict[str, int]:
    """Palette index per role (in ROLES order): greedy by suitability with a penalty for re-use, so a
    5-colour palette spreads over the kit instead of painting everything in its heaviest colour.

    With `area` (surface per role, v2 kits whose subjects decide which roles are big) the roles go
    largest first and the heaviest palette colours follow the area, so the kit reads in the palette's
    proportions as the picture is graded to them."""
    used = [0] * len(sw)
    out: dict[str, int] = {}
    order = ROLES if area is None else sorted(ROLES, key=lambda r: (-area.get(r, 0.0), ROLES.index(r)))
    for role in order:
        kind = kinds.get(role, "fabric" if role == "cloth2" else "concrete")
        scores = [_score(role, kind, s, area) - 0.3 * used[i] for i, s in enumerate(sw)]
        if role == "cloth2" and "cloth" in out:
            scores[out["cloth"]] -= 10.0
        if role in ("trim", "accent") and "structure" in out:
            scores[out["structure"]] -= 0.6
        best = max(range(len(sw)), key=lambda i: (scores[i], -i))
        out[role] = best
        used[best] += 1
    return out


def extremes(sw: Sequence[Swatch]) -> dict[str, int]:
    """Palette colours the wear layers mix in: dirt (darkest), bare metal / dust (lightest neutral),
    rust (warmest)."""
    idx = range(len(sw))
    return {
        "dirt": min(idx, key=lambda i: (sw[i].lab[0], i)),
        "light": max(idx, key=lambda i: (sw[i].lab[0] - sw[i].chroma * 0.5, -i)),
        "rust": max(idx, key=lambda i: (_hue_near(sw[i].hue, 50.0, 70.0) * sw[i].chroma, -i)),
    }
