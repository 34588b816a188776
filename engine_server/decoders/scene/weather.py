"""Precipitation, dust, flicker and lightning as deterministic 2D effects over rendered frames.

Particles in Cycles would cost samples and noise; streaks drawn in screen space, in a few depth
layers that the scene's distance pass occludes, read the same at a fraction of the cost and are
exactly reproducible from the seed. Rain re-draws every frame (a drop crosses the frame in under a
frame at 24 fps); snow and dust follow continuous trajectories so flakes drift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


@dataclass(frozen=True)
class Layer:
    depth: float  # metres: hidden behind anything nearer than this
    count: int
    length: float  # fraction of frame height (rain streaks)
    width: float  # pixels at 1080 lines
    alpha: float
    speed: float  # frame heights per second (snow/dust fall)


def _layers(kind: str, intensity: float) -> list[Layer]:
    i = max(0.1, intensity)
    if kind == "rain":
        return [
            Layer(2.5, int(40 * i), 0.12, 2.0, 0.2, 0.0),
            Layer(7.0, int(300 * i), 0.06, 1.3, 0.14, 0.0),
            Layer(18.0, int(1200 * i), 0.03, 1.0, 0.09, 0.0),
        ]
    if kind == "snow":
        return [
            Layer(3.0, int(50 * i), 0.0, 4.5, 0.8, 0.10),
            Layer(8.0, int(320 * i), 0.0, 2.4, 0.7, 0.06),
            Layer(20.0, int(1200 * i), 0.0, 1.3, 0.55, 0.035),
        ]
    if kind == "dust":
        return [
            Layer(3.0, int(60 * i), 0.0, 3.0, 0.35, 0.01),
            Layer(9.0, int(300 * i), 0.0, 1.6, 0.25, 0.006),
        ]
    return []


class Precipitation:
    """Draws one frame of weather particles as an alpha mask per depth layer."""

    def __init__(self, kind: str, intensity: float, width: int, height: int, seed: int, wind: float) -> None:
        self.kind = kind
        self.width, self.height = width, height
        self.layers = _layers(kind, intensity)
        self.seed = seed
        self.wind = wind  # streak angle, radians from vertical
        rng = np.random.default_rng(seed)
        # continuous particles (snow, dust): start positions and per-flake sway
        self.start = [rng.random((ly.count, 2)) for ly in self.layers]
        self.sway = [rng.random((ly.count, 2)) for ly in self.layers]

    def masks(self, t: float, frame: int) -> list[tuple[Layer, np.ndarray]]:
        """(layer, alpha 0..1 float32) for time t seconds (frame index seeds rain)."""
        w, h = self.width, self.height
        scale = h / 1080.0
        out = []
        for li, ly in enumerate(self.layers):
            if ly.count <= 0:
                continue
            im = Image.new("L", (w, h), 0)
            draw = ImageDraw.Draw(im)
            if self.kind == "rain":
                rng = np.random.default_rng((self.seed, frame, li))
                n = ly.count
                xy = rng.random((n, 2)) * np.array([w * 1.2, h * 1.1]) - np.array([w * 0.1, h * 0.1])
                length = ly.length * h * rng.uniform(0.7, 1.3, n)
                dx = np.sin(self.wind) * length
                dy = np.cos(self.wind) * length
                val = int(255 * ly.alpha)
                lw = max(1, round(ly.width * scale))
                for (x, y), ddx, ddy in zip(xy.tolist(), dx.tolist(), dy.tolist(), strict=True):
                    draw.line([(x, y), (x + ddx, y + ddy)], fill=val, width=lw)
            else:
                p0 = self.start[li]
                sw = self.sway[li]
                fall = ly.speed * t
                x = (p0[:, 0] + np.sin(self.wind) * fall + 0.01 * np.sin(2 * math.pi * (0.3 * t + sw[:, 0]))) % 1.0
                y = (p0[:, 1] + fall * (0.8 + 0.4 * sw[:, 1])) % 1.0
                r = ly.width * scale * (0.5 + 0.9 * sw[:, 1])
                vals = (255 * ly.alpha * (0.45 + 0.55 * sw[:, 0])).astype(int)
                for cx, cy, rr, v in zip((x * w).tolist(), (y * h).tolist(), r.tolist(), vals.tolist(), strict=True):
                    draw.ellipse([cx - rr, cy - rr, cx + rr, cy + rr], fill=v)
            a = np.asarray(im, dtype=np.float32) / 255.0
            if self.kind != "rain":  # soft flakes: a small blur, the near layer a little defocused
                im = im.filter(ImageFilter.GaussianBlur(0.6 + 0.25 * ly.width * scale))
                a = np.asarray(im, dtype=np.float32) / 255.0 * 1.6
            out.append((ly, a))
        return out


def apply_precipitation(rgb: np.ndarray, dist: np.ndarray, masks: list[tuple[Layer, np.ndarray]], kind: str,
                        tint: tuple[float, float, float]) -> np.ndarray:
    """Composite particle layers over a display-space frame, hidden behind nearer geometry.

    Rain streaks are lit by what is behind them (a coarse blur of the frame's luminance) so they
    glint in front of lights and fade against a bright sky; snow is a soft near-white; dust a pale
    tint of the air. The layers are summed into one alpha first: one full-size composite per frame.
    """
    if not masks:
        return rgb
    h, w = rgb.shape[:2]
    alpha = np.zeros((h, w), dtype=np.float32)
    for ly, a in masks:
        vis = np.clip((dist - ly.depth) * (1.0 / max(ly.depth * 0.3, 0.5)), 0.0, 1.0)
        alpha += a * vis
    np.minimum(alpha, 1.0, out=alpha)
    small = rgb[::8, ::8] @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    env = np.asarray(Image.fromarray(np.ascontiguousarray(small, dtype=np.float32), "F")
                     .resize((max(1, w // 32), max(1, h // 32)), Image.Resampling.BOX)
                     .resize((w, h), Image.Resampling.BILINEAR))
    col = np.asarray(tint, dtype=np.float32)
    a3 = alpha[..., None]
    if kind == "rain":
        light = (0.22 + 1.1 * env)[..., None] * col
        out = rgb + a3 * (light - rgb * 0.35)
    elif kind == "snow":
        flake = (0.8 + 0.2 * env)[..., None]
        out = rgb + a3 * (flake - rgb)
    else:
        out = rgb + a3 * 0.6 * ((env[..., None] * 0.6 + col * 0.4) - rgb * 0.6)
    return np.clip(out, 0.0, 1.0)


def flicker_curve(n_frames: int, fps: float, seed: int, intensity: float) -> np.ndarray:
    """Brightness 0..1 of a faulty practical light per frame: steady, with a few stuttering bursts."""
    rng = np.random.default_rng((seed, 0xF11C))
    v = np.ones(n_frames, dtype=np.float32)
    bursts = 1 + int(rng.integers(0, 2 + int(2 * intensity)))
    for _ in range(bursts):
        start = int(rng.integers(0, max(1, n_frames - 10)))
        length = int(rng.integers(4, 14))
        for f in range(start, min(n_frames, start + length)):
            v[f] = float(rng.choice([0.1, 0.25, 1.0, 0.5, 1.0]))
    # a gentle hum everywhere
    t = np.arange(n_frames) / fps
    v *= 0.94 + 0.06 * np.sin(2 * math.pi * (7.3 * t + rng.random()))
    return np.clip(v, 0.0, 1.0)


def lightning_curve(n_frames: int, fps: float, seed: int) -> np.ndarray:
    """Flash strength per frame for a storm: one or two double-strikes decaying over ~0.3 s."""
    rng = np.random.default_rng((seed, 0x1167))
    v = np.zeros(n_frames, dtype=np.float32)
    for _ in range(1 + int(rng.integers(0, 2))):
        at = int(rng.integers(int(fps * 0.5), max(int(fps * 0.5) + 1, n_frames - int(fps * 0.5))))
        for k, amp in ((0, 1.0), (2, 0.5), (3, 0.85)):
            for j in range(8):
                f = at + k + j
                if f < n_frames:
                    v[f] = max(v[f], amp * math.exp(-j / 2.0))
    return v


def apply_lightning(rgb: np.ndarray, dist: np.ndarray, strength: float) -> np.ndarray:
    if strength <= 0.01:
        return rgb
    sky = np.clip((dist - 200.0) / 400.0, 0.0, 1.0)[..., None]
    flash = np.array([0.8, 0.85, 1.0], dtype=np.float32) * strength
    return np.clip(rgb + flash * (0.55 * sky + 0.12) * (1.0 - rgb * 0.5), 0.0, 1.0)
