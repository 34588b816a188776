"""Live's track and clip colours, and the nearest of them to a pack's palette colour.

Live offers 70 colours (the colour chooser: 5 rows of 14); `color_index` picks one. Setting an RGB
`color` also snaps to the nearest one, by Live's own measure; the bridge picks the index itself,
nearest in OKLab (perceptual distance, the measure the engine uses for palettes), so the choice is
the same on every Live version and with stock AbletonOSC. Plain Python, no numpy: the engine's
numpy OKLab (engine_server/oklab.py) checks these numbers in tests/test_ableton.py.

The RGB values are Live 11/12's chooser as published by several open control-surface projects
(identical tables, in index order); a real Live confirms them (docs/ABLETON.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from motif_client.rules import hex_to_linear, srgb_to_linear

LIVE_COLORS: tuple[int, ...] = (
    0xFF94A6, 0xFFA529, 0xCC9927, 0xF7F47C, 0xBFFB00, 0x1AFF2F, 0x25FFA8, 0x5CFFE8, 0x8BC5FF, 0x5480E4,
    0x92A7FF, 0xD86CE4, 0xE553A0, 0xFFFFFF, 0xFF3636, 0xF66C03, 0x99724B, 0xFFF034, 0x87FF67, 0x3DC300,
    0x00BFAF, 0x19E9FF, 0x10A4EE, 0x007DC0, 0x886CE4, 0xB677C6, 0xFF39D4, 0xD0D0D0, 0xE2675A, 0xFFA374,
    0xD3AD71, 0xEDFFAE, 0xD2E498, 0xBAD074, 0x9BC48D, 0xD4FDE1, 0xCDF1F8, 0xB9C1E3, 0xCDBBE4, 0xAE98E5,
    0xE5DCE1, 0xA9A9A9, 0xC6928B, 0xB78256, 0x99836A, 0xBFBA69, 0xA6BE00, 0x7DB04D, 0x88C2BA, 0x9BB3C4,
    0x85A5C2, 0x8393CC, 0xA595B5, 0xBF9FBE, 0xBC7196, 0x7B7B7B, 0xAF3333, 0xA95131, 0x724F41, 0xDBC300,
    0x85961F, 0x539F31, 0x0A9C8E, 0x236384, 0x1A2F96, 0x2F52A2, 0x624BAD, 0xA34BAD, 0xCC2E6E, 0x3C3C3C,
)


def linear_to_oklab(rgb: Sequence[float]) -> tuple[float, float, float]:
    """Linear sRGB -> OKLab (Björn Ottosson's matrices, as engine_server/oklab.py)."""
    r, g, b = rgb
    lms = (0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b,
           0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b,
           0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b)
    l_, m_, s_ = (max(c, 0.0) ** (1.0 / 3.0) for c in lms)
    return (0.2104542553 * l_ + 0.7936177850 * m_ - 0.0040720468 * s_,
            1.9779984951 * l_ - 2.4285922050 * m_ + 0.4505937099 * s_,
            0.0259040371 * l_ + 0.7827717662 * m_ - 0.8086757660 * s_)


def rgb_int_to_oklab(rgb: int) -> tuple[float, float, float]:
    return linear_to_oklab([srgb_to_linear(((rgb >> shift) & 255) / 255.0) for shift in (16, 8, 0)])


_LIVE_LAB = tuple(rgb_int_to_oklab(c) for c in LIVE_COLORS)


def nearest_index(color: str) -> int:
    """The index of the Live colour nearest (OKLab distance) to '#rrggbb'."""
    lab = linear_to_oklab(hex_to_linear(color))
    return min(range(len(_LIVE_LAB)), key=lambda i: sum((a - b) ** 2 for a, b in zip(lab, _LIVE_LAB[i], strict=True)))


def part_colors(palette: Sequence[dict[str, object]], count: int) -> list[int]:
    """`count` Live colour indices from a latent palette: its colours by weight, heaviest first, in
    turn (a part per colour; parts beyond the palette's size take its colours again)."""
    ordered = sorted(palette, key=lambda s: -float(s.get("weight", 0.0)))  # type: ignore[arg-type]
    if not ordered:
        return [LIVE_COLORS.index(0xA9A9A9)] * count  # a neutral grey when a pack has no palette
    return [nearest_index(str(ordered[i % len(ordered)]["color"])) for i in range(count)]
