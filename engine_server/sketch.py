"""Sketch prompts: a drawing or a colour rough that steers composition and palette.

`load_sketch` checks an uploaded image before any work (size in bytes and pixels, format,
truncation, decompression bombs) and reads what a layout artist reads from a thumbnail:

- **horizon**: where land meets sky, as a fraction of the picture height from the bottom;
- **masses**: a coarse occupancy grid (rows x cols, top row first) of where the drawn shapes are,
  plus a per-column *skyline* (how high the masses reach);
- **palette**: dominant colours (k-means in OKLab), with `chromatic` telling a colour rough from a
  pencil drawing (a grey drawing says nothing about colour).

The image and video decoders use horizon and masses to frame the camera and place the kit; the
palette reaches every decoder through the latent (`fold_sketch`, called once by the pipeline), and
every asset's meta records what the sketch contributed (`Sketch.contribution`).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine_server.analysis.palette import kmeans_oklab
from engine_server.errors import InvalidArgument, clip
from engine_server.latent import Latent
from engine_server.oklab import oklab_to_hex, srgb8_to_oklab

MAX_SKETCH_BYTES = 8 * 1024 * 1024
MAX_SKETCH_PIXELS = 16_000_000
MIN_SKETCH_SIDE = 16
FORMATS = ("PNG", "JPEG")
GRID_ROWS, GRID_COLS = 6, 8
PALETTE_SIZE = 5
CHROMA_MIN = 0.04  # OKLab chroma below which a sketch colour counts as grey
ANALYSIS_WIDTH = 128
SKETCH_DOC = (
    f"a drawing or colour rough that steers framing and palette: a PNG or JPEG file's bytes as base64 text "
    f"(a data:image/...;base64, prefix is allowed), at most {MAX_SKETCH_BYTES // (1024 * 1024)} MB and "
    f"{MAX_SKETCH_PIXELS // 1_000_000} MP"
)


@dataclass(frozen=True)
class Sketch:
    """What a sketch says about the picture. All fractions are of the picture size."""

    width: int
    height: int
    horizon: float | None  # from the bottom; None when the sketch shows none
    horizon_strength: float  # 0..1, how clearly the horizon was drawn
    masses: tuple[tuple[float, ...], ...]  # GRID_ROWS x GRID_COLS occupancy 0..1, top row first
    skyline: tuple[float, ...]  # per column: how high masses reach (0 = nothing, 1 = top edge)
    palette: tuple[tuple[str, float], ...]  # (#rrggbb, share), largest first
    chromatic: bool  # False for pencil/ink drawings: the palette is then not a colour request

    @property
    def mass_centre(self) -> tuple[float, float]:
        """Occupancy-weighted centre (x from left, y from bottom), 0..1."""
        g = np.asarray(self.masses, dtype=np.float64)
        total = g.sum()
        if total <= 1e-9:
            return (0.5, 0.5)
        xs = (np.arange(GRID_COLS) + 0.5) / GRID_COLS
        ys = 1.0 - (np.arange(GRID_ROWS) + 0.5) / GRID_ROWS
        return (float((g.sum(0) * xs).sum() / total), float((g.sum(1) * ys).sum() / total))

    def column_weights(self) -> np.ndarray:
        """How much mass stands in each column (sums to 1; uniform when the sketch is empty)."""
        col = np.asarray(self.masses, dtype=np.float64).sum(0)
        return col / col.sum() if col.sum() > 1e-9 else np.full(GRID_COLS, 1.0 / GRID_COLS)

    def contribution(self) -> dict[str, Any]:
        """What the sketch contributed, for asset meta (`{"sketch": ...}`)."""
        return {
            "size": [self.width, self.height],
            "horizon": None if self.horizon is None else round(self.horizon, 3),
            "horizon_strength": round(self.horizon_strength, 3),
            "masses": [[round(v, 3) for v in row] for row in self.masses],
            "skyline": [round(v, 3) for v in self.skyline],
            "mass_centre": [round(v, 3) for v in self.mass_centre],
            "palette": [{"color": c, "weight": round(w, 4)} for c, w in self.palette],
            "chromatic": self.chromatic,
        }


def decode_sketch_option(value: Any) -> bytes:
    """The `sketch` decoder option: base64 text (a `data:image/...;base64,` prefix is allowed)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument("The sketch option must be a base64-encoded PNG or JPEG image (a string).")
    text = value.strip()
    if text.startswith("data:"):
        text = text.partition(",")[2]
    if len(text) > (MAX_SKETCH_BYTES * 4) // 3 + 8:
        raise InvalidArgument(
            f"The sketch is larger than {MAX_SKETCH_BYTES // (1024 * 1024)} MB; send a smaller PNG or JPEG."
        )
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidArgument("The sketch option is not valid base64; encode the PNG or JPEG file's bytes.") from exc


def load_sketch(data: bytes, source: str = "The sketch") -> Sketch:
    """Check and read a sketch image. Raises InvalidArgument, before any decoding work, if unusable.

    `source` names the sketch in sentences: the CLI passes its file ("The sketch 'notes.txt'").
    """
    from PIL import Image

    if not isinstance(data, bytes | bytearray) or not data:
        raise InvalidArgument(f"{source} is empty; send a PNG or JPEG image.")
    if len(data) > MAX_SKETCH_BYTES:
        raise InvalidArgument(
            f"{source} is {len(data) / 1e6:.1f} MB; the limit is {MAX_SKETCH_BYTES // (1024 * 1024)} MB. "
            "Send a smaller PNG or JPEG (a 2000-pixel-wide image is plenty)."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(bytes(data)), formats=list(FORMATS))
            w, h = img.size  # read from the header: nothing is decompressed yet
            if w * h > MAX_SKETCH_PIXELS:
                raise InvalidArgument(
                    f"{source} is {w} x {h} pixels ({w * h / 1e6:.1f} MP); the limit is "
                    f"{MAX_SKETCH_PIXELS / 1e6:.0f} MP. Scale it down and try again."
                )
            if min(w, h) < MIN_SKETCH_SIDE:
                raise InvalidArgument(f"{source} is only {w} x {h} pixels; send at least {MIN_SKETCH_SIDE} a side.")
            img.draft("RGB", (ANALYSIS_WIDTH * 2, ANALYSIS_WIDTH * 2))  # JPEG: decode at reduced scale
            img.load()
    except InvalidArgument:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidArgument(
            f"{source} looks like a decompression bomb (far more pixels than bytes); refused."
        ) from exc
    except Image.UnidentifiedImageError as exc:  # its message is the repr of our BytesIO: say what it means
        raise InvalidArgument(
            f"{source} could not be read as a PNG or JPEG image: it is another kind of file. "
            "Save the drawing as PNG or JPEG."
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        why = clip(_OBJECT_REPR.sub("the data", str(exc)))
        raise InvalidArgument(
            f"{source} could not be read as a PNG or JPEG image ({why}). Is the file complete?"
        ) from exc
    return analyse(img, (w, h))


_OBJECT_REPR = re.compile(r"<[^<>]* object at 0x[0-9a-fA-F]+>")


def analyse(img: Any, size: tuple[int, int]) -> Sketch:
    """Horizon, masses and palette of a loaded PIL image (alpha composited on white)."""
    from PIL import Image

    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    img = img.convert("RGB")
    w, h = size
    aw = ANALYSIS_WIDTH
    ah = max(8, round(aw * h / w))
    small = np.asarray(img.resize((aw, ah), Image.Resampling.BOX), dtype=np.float32)
    lab = srgb8_to_oklab(small)

    horizon, strength = _horizon(lab)
    masses, skyline = _masses(lab, horizon)
    centres, share = kmeans_oklab(lab.reshape(-1, 3), PALETTE_SIZE)
    chroma = np.hypot(centres[:, 1], centres[:, 2])
    chromatic = bool((chroma * share).sum() / share.sum() >= CHROMA_MIN * 0.5 and chroma.max() >= CHROMA_MIN)
    palette = tuple((oklab_to_hex(c), float(s)) for c, s in zip(centres, share, strict=True))
    return Sketch(w, h, horizon, strength, masses, skyline, palette, chromatic)


def _horizon(lab: np.ndarray) -> tuple[float | None, float]:
    """Row where the picture changes most from 'sky' to 'ground', or a long drawn horizontal line.

    Score per row = colour step between the bands above and below (OKLab distance of their means)
    plus the share of the row that is a horizontal edge. Rows in the outer 8 % are not candidates.
    """
    h = lab.shape[0]
    rows = lab.mean(axis=1)  # (h, 3)
    csum = np.cumsum(rows, axis=0)
    total = csum[-1]
    ys = np.arange(1, h)
    above = csum[ys - 1] / ys[:, None]
    below = (total - csum[ys - 1]) / (h - ys)[:, None]
    step = np.linalg.norm(above - below, axis=1)  # boundary between row y-1 and y
    grad = np.abs(np.diff(lab[..., 0], axis=0))  # (h-1, w): vertical lightness change
    edge_share = (grad > 0.08).mean(axis=1)
    # A drawn line is one or two rows of ink: both edges of it count.
    line = np.maximum(edge_share, np.concatenate([edge_share[1:], [0.0]]))
    score = step / 0.15 + line
    lo, hi = int(0.08 * h), int(np.ceil(0.92 * h))
    cand = np.arange(1, h)
    ok = (cand >= lo) & (cand <= hi)
    score = np.where(ok, score, -1.0)
    best = int(np.argmax(score))
    strength = float(np.clip(score[best] / 1.2, 0.0, 1.0))
    if score[best] < 0.35:
        return None, strength
    y = cand[best]
    return float(1.0 - y / h), strength


def _masses(lab: np.ndarray, horizon: float | None) -> tuple[tuple[tuple[float, ...], ...], tuple[float, ...]]:
    """Occupancy of drawn shapes: pixels that differ from the sky and ground background colours."""
    h, w, _ = lab.shape
    hy = round((1.0 - (horizon if horizon is not None else 0.4)) * h)
    hy = min(max(hy, 1), h - 1)
    sky = np.median(lab[: max(1, hy // 3)].reshape(-1, 3), axis=0)
    ground = np.median(lab[hy + (h - hy) * 2 // 3 :].reshape(-1, 3), axis=0) if hy < h - 2 else sky
    d = np.minimum(np.linalg.norm(lab - sky, axis=2), np.linalg.norm(lab - ground, axis=2))
    ink = np.clip((d - 0.05) / 0.15, 0.0, 1.0)
    # Grid occupancy: mean ink per cell, then a soft normalisation so a thin outline still registers.
    gy = np.linspace(0, h, GRID_ROWS + 1).astype(int)
    gx = np.linspace(0, w, GRID_COLS + 1).astype(int)
    cells = np.array(
        [[ink[gy[r] : gy[r + 1], gx[c] : gx[c + 1]].mean() for c in range(GRID_COLS)] for r in range(GRID_ROWS)]
    )
    occ = np.clip(cells / 0.25, 0.0, 1.0) if cells.max() > 0.02 else np.zeros_like(cells)
    # Skyline: per column, the highest row whose ink share is substantial.
    col_ink = np.stack([(ink[:, gx[c] : gx[c + 1]] > 0.5).mean(axis=1) for c in range(GRID_COLS)], 1)  # (h, cols)
    # A mass is at least three rows tall: a one-row seam (the horizon itself) is not a skyline.
    solid = np.minimum(np.minimum(col_ink[:-2], col_ink[1:-1]), col_ink[2:])
    solid = np.concatenate([solid[:1], solid, solid[-1:]])
    skyline = []
    for c in range(GRID_COLS):
        rows = np.nonzero(solid[:, c] > 0.15)[0]
        skyline.append(float(1.0 - rows[0] / h) if len(rows) else 0.0)
    masses = tuple(tuple(float(v) for v in row) for row in occ)
    return masses, tuple(skyline)


def sketch_from_options(options: Mapping[str, Any]) -> Sketch | None:
    """The decoded sketch of a decoder's options, or None. Raises InvalidArgument when unusable."""
    if "sketch" not in options or options["sketch"] in (None, ""):
        return None
    return load_sketch(decode_sketch_option(options["sketch"]))


def fold_sketch(latent: Latent, sketch: Sketch, strength: float = 0.6) -> Latent:
    """The latent with the sketch's colours folded into its palette (the pipeline calls this once).

    A pencil drawing (not chromatic) leaves the palette alone. Otherwise each sketch colour, with
    its share scaled by `strength`, joins the prompt's palette (scaled by 1 - strength); the pooled
    colours are merged pairwise (nearest in OKLab, weight-averaged) down to at most 7, and the
    result keeps at least 5 colours. Brightness, contrast and saturation follow the sketch's
    lightness range and chroma by the same strength.
    """
    if not sketch.chromatic or strength <= 0:
        return latent
    from engine_server.oklab import hex_to_srgb, linear_to_oklab, srgb_to_linear

    s = float(min(max(strength, 0.0), 1.0))
    cols = [s_.color for s_ in latent.palette] + [c for c, _ in sketch.palette]
    wts = [s_.weight * (1 - s) for s_ in latent.palette] + [w * s for _, w in sketch.palette]
    lab = [linear_to_oklab(srgb_to_linear(np.array(hex_to_srgb(c)))).astype(np.float64) for c in cols]
    items = [(lab_c, w) for lab_c, w in zip(lab, wts, strict=True) if w > 1e-6]
    while len(items) > 7 or (len(items) > 5 and _closest(items)[2] < 0.05):
        i, j, _ = _closest(items)
        (a, wa), (b, wb) = items[i], items[j]
        merged = ((a * wa + b * wb) / (wa + wb), wa + wb)
        items = [it for k, it in enumerate(items) if k not in (i, j)] + [merged]
    items.sort(key=lambda it: -it[1])
    total = sum(w for _, w in items)
    palette = [{"color": oklab_to_hex(c), "weight": round(w / total, 6)} for c, w in items]
    sk_lab = np.array([linear_to_oklab(srgb_to_linear(np.array(hex_to_srgb(c)))) for c, _ in sketch.palette])
    sk_w = np.array([w for _, w in sketch.palette])
    l_mean = float((sk_lab[:, 0] * sk_w).sum() / sk_w.sum())
    l_range = float(sk_lab[:, 0].max() - sk_lab[:, 0].min())
    chroma = float((np.hypot(sk_lab[:, 1], sk_lab[:, 2]) * sk_w).sum() / sk_w.sum())
    mix = s * 0.5  # the sketch steers the tonal fields more gently than the colours

    def towards(field: str, target: float) -> float:
        return round(float(getattr(latent, field) * (1 - mix) + min(max(target, 0.0), 1.0) * mix), 6)

    return latent.with_fields(
        {
            "palette": palette,
            "brightness": towards("brightness", (l_mean - 0.3) / 0.6),
            "contrast": towards("contrast", l_range / 0.8),
            "saturation": towards("saturation", chroma / 0.15),
        }
    )


def _closest(items: list[tuple[np.ndarray, float]]) -> tuple[int, int, float]:
    best = (0, 1, float("inf"))
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            d = float(np.linalg.norm(items[i][0] - items[j][0]))
            if d < best[2]:
                best = (i, j, d)
    return best
