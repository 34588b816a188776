"""Sketch prompts: refusal of bad uploads before any work, and what is read from good ones."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine_server.errors import InvalidArgument
from engine_server.oklab import hex_to_srgb, linear_to_oklab, srgb_to_linear
from engine_server.sketch import (
    GRID_COLS,
    MAX_SKETCH_BYTES,
    decode_sketch_option,
    fold_sketch,
    load_sketch,
    sketch_from_options,
)
from tests.latent_factory import make_latent


def png_bytes(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def colour_rough(horizon_from_bottom: float = 0.35, block_x: tuple[int, int] = (40, 110)) -> Image.Image:
    """A colour rough: orange sky, dark teal ground, a purple block standing on the horizon."""
    w, h = 320, 180
    img = Image.new("RGB", (w, h), (240, 140, 60))
    d = ImageDraw.Draw(img)
    hy = round((1 - horizon_from_bottom) * h)
    d.rectangle([0, hy, w, h], fill=(20, 70, 80))
    d.rectangle([block_x[0], hy - 70, block_x[1], hy + 10], fill=(90, 40, 120))
    return img


def pencil_drawing(horizon_from_bottom: float = 0.6) -> Image.Image:
    """White paper, a pencil horizon line and the outline of a tower on the right."""
    w, h = 400, 300
    img = Image.new("L", (w, h), 250)
    d = ImageDraw.Draw(img)
    hy = round((1 - horizon_from_bottom) * h)
    d.line([0, hy, w, hy], fill=40, width=3)
    d.rectangle([280, hy - 150, 340, hy + 40], outline=40, width=3)
    return img


def oklab(hex_colour: str) -> np.ndarray:
    return linear_to_oklab(srgb_to_linear(np.array(hex_to_srgb(hex_colour))))


def test_colour_rough_gives_horizon_masses_and_palette() -> None:
    sk = load_sketch(png_bytes(colour_rough(0.35)))
    assert sk.horizon is not None and abs(sk.horizon - 0.35) < 0.04
    assert sk.chromatic
    # The block stands in the left half: more mass in columns 0-3 than 4-7, nothing at the far right.
    col = np.asarray(sk.masses).sum(0)
    assert col[: GRID_COLS // 2].sum() > 3 * col[GRID_COLS // 2 :].sum()
    assert sk.skyline[2] > 0.6 and sk.skyline[-1] < 0.05
    # The three painted colours are found (each within a small OKLab distance of a palette entry).
    for painted in ("#f08c3c", "#144650", "#5a2878"):
        assert min(np.linalg.norm(oklab(painted) - oklab(c)) for c, _ in sk.palette) < 0.03
    meta = sk.contribution()
    assert set(meta) >= {"horizon", "palette", "masses", "skyline"}


def test_pencil_drawing_gives_composition_but_no_colour() -> None:
    sk = load_sketch(png_bytes(pencil_drawing(0.6), "JPEG"))
    assert sk.horizon is not None and abs(sk.horizon - 0.6) < 0.04
    assert not sk.chromatic
    assert sk.mass_centre[0] > 0.6  # the tower is on the right
    latent = make_latent()
    assert fold_sketch(latent, sk) == latent  # grey pencil says nothing about colour


def test_fold_sketch_moves_palette_towards_the_sketch() -> None:
    latent = make_latent()
    sk = load_sketch(png_bytes(colour_rough()))
    folded = fold_sketch(latent, sk)
    assert 5 <= len(folded.palette) <= 7
    assert abs(sum(s.weight for s in folded.palette) - 1) < 1e-4

    def coverage(palette: list[str], target: list[str]) -> float:
        return float(np.mean([min(np.linalg.norm(oklab(t) - oklab(p)) for p in palette) for t in target]))

    sketch_cols = [c for c, _ in sk.palette[:3]]
    before = coverage([s.color for s in latent.palette], sketch_cols)
    after = coverage([s.color for s in folded.palette], sketch_cols)
    assert after < before * 0.5
    assert fold_sketch(latent, sk) == folded  # deterministic
    assert folded.tempo_bpm == latent.tempo_bpm and folded.geometry_style == latent.geometry_style


def test_option_round_trip_and_data_url() -> None:
    raw = png_bytes(colour_rough())
    b64 = base64.b64encode(raw).decode()
    assert decode_sketch_option(b64) == raw
    assert decode_sketch_option("data:image/png;base64," + b64) == raw
    assert sketch_from_options({}) is None
    assert sketch_from_options({"sketch": b64}) is not None


@pytest.mark.parametrize(
    "payload, words",
    [
        (b"", "empty"),
        (b"GIF89a this is not an image at all" * 10, "could not be read"),
        (b"%PDF-1.4 nope", "could not be read"),
    ],
)
def test_rejects_non_images(payload: bytes, words: str) -> None:
    with pytest.raises(InvalidArgument, match=words):
        load_sketch(payload)


def test_rejects_truncated_png_and_jpeg() -> None:
    for fmt in ("PNG", "JPEG"):
        img = Image.fromarray(np.random.default_rng(1).integers(0, 255, (200, 300, 3), dtype=np.uint8))
        data = png_bytes(img, fmt)
        with pytest.raises(InvalidArgument, match="complete"):
            load_sketch(data[: len(data) // 2])


def test_rejects_too_many_bytes() -> None:
    with pytest.raises(InvalidArgument, match="limit is 8 MB"):
        load_sketch(b"\x89PNG" + b"\0" * MAX_SKETCH_BYTES)
    with pytest.raises(InvalidArgument, match="larger than 8 MB"):
        decode_sketch_option("A" * (MAX_SKETCH_BYTES * 2))


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size (a decompression bomb's first bytes)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_rejects_pixel_limit_and_decompression_bombs() -> None:
    with pytest.raises(InvalidArgument, match="limit is 16 MP"):
        load_sketch(_png_header_only(5000, 4000))  # 20 MP, a few hundred bytes
    with pytest.raises(InvalidArgument, match="decompression bomb|limit is 16 MP"):
        load_sketch(_png_header_only(40000, 40000))  # 1.6 GP: Pillow's own bomb guard fires first


def test_rejects_bad_base64_and_tiny_images() -> None:
    with pytest.raises(InvalidArgument, match="base64"):
        decode_sketch_option("not base64 !!!")
    with pytest.raises(InvalidArgument, match="base64-encoded"):
        decode_sketch_option(123)
    with pytest.raises(InvalidArgument, match="at least"):
        load_sketch(png_bytes(Image.new("RGB", (8, 8))))
