"""Depth-based reprojection: a rendered keyframe seen from a nearby camera.

Path tracing 144 frames on two cores is out of budget, so the clip renders a few keyframes (with
overscan) and synthesises every frame from the nearest ones using their depth. For each vertex of
a coarse grid over the target frame we find the keyframe pixel it sees by fixed-point iteration
along the target ray (Bowles et al., "Iterative image warping", 2012): guess a depth, project into
the keyframe, read the keyframe's depth there, re-project, repeat. Pillow's MESH transform then
resamples the keyframe over the grid in C. Parallax is exact on surfaces; disocclusions stretch the
background a few pixels, which the moves here keep small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from engine_server.decoders.scene.camera import Camera

FAR = 1.0e4  # sky and anything beyond: treated as infinitely far


@dataclass(frozen=True)
class Keyframe:
    camera: Camera
    width: int
    height: int
    depth: np.ndarray  # planar depth (h, w), metres
    rgb: Image.Image  # graded display image: RGB, or 4 channels ("CMYK" mode) with the flicker share last
    flicker_colour: tuple[float, float, float] | None = None  # A * this = the light's share in RGB

    def __post_init__(self) -> None:
        # Foreground-first depth: the nearest surface within a pixel's 3x3 neighbourhood. Grid
        # vertices that land on a thin pole then all follow the pole, which keeps it straight.
        d = np.minimum(self.depth, FAR)
        p = np.pad(d, 1, mode="edge")
        m = d.copy()
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                np.minimum(m, p[dy : dy + d.shape[0], dx : dx + d.shape[1]], out=m)
        object.__setattr__(self, "near_depth", m)


@dataclass(frozen=True)
class Mapping:
    """Source pixel coordinates (keyframe) for the target grid vertices, plus target distances."""

    xs: np.ndarray  # (gh, gw) grid x in target pixels
    ys: np.ndarray
    sx: np.ndarray  # (gh, gw) keyframe x
    sy: np.ndarray
    dist: np.ndarray  # (gh, gw) radial distance from the target camera, metres


def _sample(depth: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    h, w = depth.shape
    ix = np.clip(sx.astype(np.int64), 0, w - 1)
    iy = np.clip(sy.astype(np.int64), 0, h - 1)
    return depth[iy, ix]


def grid_step(width: int) -> int:
    """Grid spacing: the MESH transform's cost is per cell, its accuracy per pixel."""
    return max(8, width // 96)


def map_grid(target: Camera, tw: int, th: int, key: Keyframe, grid: int = 0, iterations: int = 6) -> Mapping:
    grid = grid or grid_step(tw)
    xs = np.minimum(np.arange(0, tw + grid, grid), tw).astype(np.float64)
    ys = np.minimum(np.arange(0, th + grid, grid), th).astype(np.float64)
    gx, gy = np.meshgrid(xs, ys)
    # sample a hair inside the frame so edge vertices read real pixels
    px = np.clip(gx, 0.5, tw - 0.5)
    py = np.clip(gy, 0.5, th - 0.5)
    dirs = target.rays(px, py, tw, th)
    o_t = np.asarray(target.position)
    o_s = np.asarray(key.camera.position)
    fwd_t = target.forward()
    depth = key.near_depth  # type: ignore[attr-defined]
    # start from the depth the keyframe sees along the (nearly parallel) ray
    sx, sy, _ = key.camera.project(o_t + dirs * FAR, key.width, key.height)
    z = _sample(depth, sx, sy)
    for _ in range(iterations):
        pts = o_t + dirs * z[..., None]
        sx, sy, _ = key.camera.project(pts, key.width, key.height)
        d = _sample(depth, sx, sy)
        src_pts = o_s + key.camera.rays(sx, sy, key.width, key.height) * d[..., None]
        z_new = np.maximum((src_pts - o_t) @ fwd_t, 0.05)
        z = 0.5 * z + 0.5 * z_new
    pts = o_t + dirs * z[..., None]
    sx, sy, _ = key.camera.project(pts, key.width, key.height)
    dist = np.minimum(z * np.linalg.norm(dirs, axis=-1), FAR)
    return Mapping(gx, gy, sx, sy, dist)


def warp(img: Image.Image, m: Mapping, tw: int, th: int) -> Image.Image:
    """Resample a keyframe image onto the target frame along the grid mapping (bilinear, in C)."""
    sw, sh = img.size
    sx = np.clip(m.sx, 0.0, sw - 0.001)
    sy = np.clip(m.sy, 0.0, sh - 0.001)
    x0, y0 = m.xs[:-1, :-1], m.ys[:-1, :-1]
    x1, y1 = m.xs[1:, 1:], m.ys[1:, 1:]
    boxes = np.stack([x0, y0, x1, y1], -1).reshape(-1, 4).astype(np.int64)
    quads = np.stack([sx[:-1, :-1], sy[:-1, :-1], sx[1:, :-1], sy[1:, :-1],
                      sx[1:, 1:], sy[1:, 1:], sx[:-1, 1:], sy[:-1, 1:]], -1).reshape(-1, 8)
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    data = list(zip(map(tuple, boxes[keep].tolist()), map(tuple, quads[keep].tolist()), strict=True))
    return img.transform((tw, th), Image.Transform.MESH, data, Image.Resampling.BILINEAR)


def dist_plane(m: Mapping, tw: int, th: int) -> np.ndarray:
    """Full-resolution distance from the grid (bilinear)."""
    im = Image.fromarray(np.ascontiguousarray(m.dist, dtype=np.float32), "F")
    return np.asarray(im.resize((tw, th), Image.Resampling.BILINEAR))


def overscan_needed(targets: list[Camera], key_cam: Camera, tw: int, th: int, near: float = 3.0) -> float:
    """How much wider (in tangent) the keyframe must be to cover the given target frames, for
    geometry from `near` metres to infinity."""
    need = 1.0
    edge = np.linspace(0.0, 1.0, 9)
    px = np.concatenate([edge * tw, np.full(9, tw), edge[::-1] * tw, np.zeros(9)])
    py = np.concatenate([np.zeros(9), edge * th, np.full(9, th), edge[::-1] * th])
    for cam in targets:
        dirs = cam.rays(px, py, tw, th)
        for depth in (near, 2 * near, 8 * near, FAR):
            pts = np.asarray(cam.position) + dirs * depth
            sx, sy, z = key_cam.project(pts, tw, th)
            if np.any(z <= 0.05):
                continue
            nx = np.abs(sx / tw * 2 - 1)
            ny = np.abs(sy / th * 2 - 1)
            need = max(need, float(nx.max()), float(ny.max()))
    return need
