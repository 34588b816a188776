"""Known-answer tests for the picture analyser (engine_server.analysis.image) and the colour maths under it:
Sharma, Wu & Dalal's CIEDE2000 pairs, OKLab against colour-science, and synthetic PNGs of known colours."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine_server.analysis import image as ia
from engine_server.oklab import linear_to_oklab, srgb_to_linear

# Sharma, Wu & Dalal (2005), Table 1, as in colour-science's own tests (pair 14 is commented out there
# too: its published value depends on rounding of the hue term).
SHARMA_1 = [
    (50.0, 2.6772, -79.7751), (50.0, 3.1571, -77.2803), (50.0, 2.8361, -74.0200), (50.0, -1.3802, -84.2814),
    (50.0, -1.1848, -84.8006), (50.0, -0.9009, -85.5211), (50.0, 0.0, 0.0), (50.0, -1.0, 2.0),
    (50.0, 2.49, -0.001), (50.0, 2.49, -0.001), (50.0, 2.49, -0.001), (50.0, 2.49, -0.001), (50.0, -0.001, 2.49),
    (50.0, -0.001, 2.49), (50.0, 2.5, 0.0), (50.0, 2.5, 0.0), (50.0, 2.5, 0.0), (50.0, 2.5, 0.0),
    (50.0, 2.5, 0.0), (50.0, 2.5, 0.0), (50.0, 2.5, 0.0), (50.0, 2.5, 0.0), (50.0, 2.5, 0.0),
    (60.2574, -34.0099, 36.2677), (63.0109, -31.0961, -5.8663), (61.2901, 3.7196, -5.3901),
    (35.0831, -44.1164, 3.7933), (22.7233, 20.0904, -46.6940), (36.4612, 47.8580, 18.3852),
    (90.8027, -2.0831, 1.4410), (90.9257, -0.5406, -0.9208), (6.7747, -0.2908, -2.4247), (2.0776, 0.0795, -1.1350),
]
SHARMA_2 = [
    (50.0, 0.0, -82.7485), (50.0, 0.0, -82.7485), (50.0, 0.0, -82.7485), (50.0, 0.0, -82.7485),
    (50.0, 0.0, -82.7485), (50.0, 0.0, -82.7485), (50.0, -1.0, 2.0), (50.0, 0.0, 0.0), (50.0, -2.49, 0.0009),
    (50.0, -2.49, 0.001), (50.0, -2.49, 0.0011), (50.0, -2.49, 0.0012), (50.0, 0.0009, -2.49),
    (50.0, 0.0011, -2.49), (50.0, 0.0, -2.5), (73.0, 25.0, -18.0), (61.0, -5.0, 29.0), (56.0, -27.0, -3.0),
    (58.0, 24.0, 15.0), (50.0, 3.1736, 0.5854), (50.0, 3.2972, 0.0), (50.0, 1.8634, 0.5757), (50.0, 3.2592, 0.335),
    (60.4626, -34.1751, 39.4387), (62.8187, -29.7946, -4.0864), (61.4292, 2.2480, -4.9620),
    (35.0232, -40.0716, 1.5901), (23.0331, 14.9730, -42.5619), (36.2715, 50.5065, 21.2231),
    (91.1528, -1.6435, 0.0447), (88.6381, -0.8985, -0.7239), (5.8714, -0.0985, -2.2286), (0.9033, -0.0636, -0.5514),
]
SHARMA_DE = [
    2.0425, 2.8615, 3.4412, 1.0, 1.0, 1.0, 2.3669, 2.3669, 7.1792, 7.1792, 7.2195, 7.2195, 4.8045, 4.7461,
    4.3065, 27.1492, 22.8977, 31.9030, 19.4535, 1.0, 1.0, 1.0, 1.0, 1.2644, 1.2630, 1.8731, 1.8645, 2.0373,
    1.4146, 1.4441, 1.5381, 0.6377, 0.9082,
]


def test_ciede2000_matches_sharma_pairs() -> None:
    got = ia.delta_e00(np.array(SHARMA_1), np.array(SHARMA_2))
    assert got[0] == pytest.approx(2.0425, abs=1e-4)  # media.md §4, pair 1
    np.testing.assert_allclose(got, SHARMA_DE, atol=1e-4)
    # symmetric, as the formula is
    np.testing.assert_allclose(ia.delta_e00(np.array(SHARMA_2), np.array(SHARMA_1)), SHARMA_DE, atol=1e-4)


def test_numpy_oklab_agrees_with_colour_science() -> None:
    import colour

    rgb = np.random.default_rng(3).random((200, 3))
    ours = linear_to_oklab(srgb_to_linear(rgb))
    xyz = colour.RGB_to_XYZ(rgb, colour.RGB_COLOURSPACES["sRGB"], apply_cctf_decoding=True)
    np.testing.assert_allclose(ours, colour.XYZ_to_Oklab(xyz), atol=2e-4)
    # and OKLab -> CIELAB of white is L 100, a = b = 0
    np.testing.assert_allclose(ia.oklab_to_cielab(np.array([1.0, 0.0, 0.0])), [100.0, 0.0, 0.0], atol=0.05)


def _stripes(colours: list[str], shares: list[float], size: int = 256) -> np.ndarray:
    """Vertical stripes of known colours with known area shares (widths multiples of the thumbnail step)."""
    img = np.zeros((size, size, 3), dtype=np.uint8)
    x = 0
    for i, (c, s) in enumerate(zip(colours, shares, strict=True)):
        w = size - x if i == len(colours) - 1 else round(s * size / 2) * 2
        img[:, x:x + w] = [int(c[j:j + 2], 16) for j in (1, 3, 5)]
        x += w
    return img


def _lab(hex_colour: str) -> np.ndarray:
    import colour

    rgb = np.array([int(hex_colour[j:j + 2], 16) / 255 for j in (1, 3, 5)])
    return np.asarray(colour.XYZ_to_Lab(colour.sRGB_to_XYZ(rgb)))


def test_palette_of_a_png_of_known_colours(tmp_path: Path) -> None:
    colours = ["#1d3557", "#e63946", "#a8dadc", "#f1c453"]
    shares = [0.4, 0.3, 0.2, 0.1]
    path = tmp_path / "known.png"
    Image.fromarray(_stripes(colours, shares)).save(path)
    got = ia.analyse_image(path)
    assert got["size"] == [256, 256]
    pal = got["palette"]
    assert len(pal) == 4  # four colours in, four out: k-means drops empty clusters
    for c, s, p in zip(colours, shares, pal, strict=True):  # largest share first
        assert float(ia.delta_e00(_lab(c), np.array(p["lab"]))) < 0.5, (c, p)
        assert p["share"] == pytest.approx(s, abs=0.01)
        assert p["hex"] == c


def test_tone_of_known_pictures(tmp_path: Path) -> None:
    import colour

    grey = np.full((64, 64, 3), 0x77, dtype=np.uint8)
    expect_l = colour.XYZ_to_Oklab(colour.sRGB_to_XYZ(np.array([0x77 / 255] * 3)))[0]
    g = ia.analyse_pixels([grey])
    assert g["brightness"] == pytest.approx(expect_l, abs=1e-3)
    assert g["contrast"] == pytest.approx(0.0, abs=1e-4)
    assert g["warmth"] == pytest.approx(0.0, abs=1e-3)
    assert g["saturation"] == pytest.approx(0.0, abs=1e-3)

    half = np.zeros((64, 64, 3), dtype=np.uint8)
    half[:, 32:] = 255
    h = ia.analyse_pixels([half])
    assert h["contrast"] == pytest.approx(1.0, abs=1e-3)  # black to white
    assert h["brightness"] == pytest.approx(0.5, abs=1e-3)

    def solid(hex_colour: str) -> dict[str, float]:
        rgb = np.zeros((32, 32, 3), dtype=np.uint8)
        rgb[:] = [int(hex_colour[j:j + 2], 16) for j in (1, 3, 5)]
        return ia.analyse_pixels([rgb])

    assert solid("#ff8c1a")["warmth"] > 0.9  # orange
    assert solid("#c0392b")["warmth"] > 0.8  # brick red
    assert solid("#2e6fd8")["warmth"] < -0.9  # blue
    assert solid("#20b2c0")["warmth"] < -0.3  # teal
    assert abs(solid("#3fae49")["warmth"]) < 0.7  # green sits between
    assert solid("#ff0000")["saturation"] == pytest.approx(1.0)
    # pooled frames count equally, whatever their size
    both = ia.analyse_pixels([np.zeros((16, 16, 3), np.uint8), np.full((128, 128, 3), 255, np.uint8)])
    assert both["brightness"] == pytest.approx(0.5, abs=1e-3)


def test_transparent_png_is_composited_on_grey(tmp_path: Path) -> None:
    rgba = np.zeros((32, 32, 4), dtype=np.uint8)
    rgba[..., 0] = 255  # red, fully transparent
    path = tmp_path / "clear.png"
    Image.fromarray(rgba, "RGBA").save(path)
    assert ia.read_rgb8(path)[0, 0].tolist() == [128, 128, 128]


def test_straight_edges_of_a_grid_and_of_rings() -> None:
    grid = np.full((256, 256, 3), 40, dtype=np.uint8)
    grid[::32, :] = 220
    grid[:, ::32] = 220
    assert ia.straight_edges(grid) > 0.95
    yy, xx = np.mgrid[0:256, 0:256]
    rings = ((np.sin(np.hypot(yy - 128, xx - 128) / 4.0) > 0) * 200 + 30).astype(np.uint8)
    share = ia.straight_edges(np.repeat(rings[..., None], 3, axis=2))
    assert share == pytest.approx(40 / 180, abs=0.05)  # every orientation equally: 4 x 20 deg of 360
    assert ia.straight_edges(np.zeros((32, 32, 3), np.uint8)) == 0.0
