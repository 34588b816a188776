"""Read latent-like fields back from a clip: palette and tone of its frames, and camera motion.

Frames come from the MP4 through PyAV, at a small analysis size (160 px wide for motion, up to 8 evenly
spaced frames for colour). Motion is measured by block matching between consecutive frames (plain
numpy) on lightness blurred by 1 px: 10 px blocks, an exhaustive +-5 px search on the sum of squared
differences, a parabolic sub-pixel refinement, textureless blocks (sky, fog) left out. Per frame pair
an affine flow field u = a0 + a1 x + a2 y, v = b0 + b1 x + b2 y is fitted to the block vectors by
iteratively reweighted least squares, which keeps the camera's motion and discounts rain, snow and
flicker, and separates translation (pan, orbit, crane) from divergence (dolly, zoom). Definitions (docs/COHERENCE.md):

- motion_energy: mean block-flow magnitude, in frame widths per second: everything that moves on screen
  (camera, parallax, rain and snow), CMT's "speed" (media.md §3);
- camera_energy: the camera's part: mean magnitude of the robustly fitted affine flow over the frame,
  widths per second (0 = locked-off camera, whatever the weather does; parallax beyond affine is missed);
- scene_motion: mean block flow left over after the affine fit (parallax, weather, flicker, props);
- pan_speed: mean |(a0, b0)| in frame widths per second; zoom_rate: mean |a1 + b2| per second;
- shake: mean change of the translation between successive frame pairs, widths per second
  (hand-held wobble is high, smooth moves near 0);
- frame_change: mean absolute change of the RGB values between consecutive frames, 0..1 (weather and
  flickering lights add to it as much as the camera does);
- camera_motion: "static" | "dolly" | "orbit" | "crane" | "handheld", the latent's vocabulary, from the
  dominant term above (a guess; orbit and pan read alike from the frames alone, and a crane's tilt
  makes it read as a dolly);
- soundtrack: the coarse log-mel fingerprint of the clip's audio track (`analysis.music.fingerprint`),
  without the last 0.6 s (the fade-out), empty when the clip is silent: to check that it carries the
  pack's own music.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine_server.analysis.image import analyse_pixels
from engine_server.oklab import srgb8_to_oklab

MOTION_WIDTH = 160
BLOCK = 10
RADIUS = 5
COLOUR_FRAMES = 8
COLOUR_THUMB = 96
SOUNDTRACK_TAIL_S = 0.6  # the video decoder fades its soundtrack out over the last 0.5 s
MAX_PAIRS = 96
MIN_BLOCK_STD = 0.01  # OKLab L; flatter blocks carry no motion information
PRE_BLUR_PX = 1.0  # Gaussian sigma at 160 px: thins out rain streaks and grain before matching
ROBUST_PX = 0.5
ROBUST_ROUNDS = 4
STATIC_ENERGY = 0.008  # camera_energy (widths per second) below which the camera reads as locked off
SHAKE_MIN = 0.01


def read_video(path: Path | str, width: int = MOTION_WIDTH) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """(small RGB frames for motion, full-size RGB frames for colour, frames per second)."""
    import av

    small: list[np.ndarray] = []
    full: list[np.ndarray] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or 24
        fps = float(rate)
        n_expected = stream.frames or 0
        keep_every = max(1, n_expected // COLOUR_FRAMES) if n_expected else 3
        for i, frame in enumerate(container.decode(stream)):
            h = max(2, round(frame.height * width / frame.width))
            small.append(frame.reformat(width=width, height=h, format="rgb24").to_ndarray())
            if i % keep_every == 0:
                w_c = min(frame.width, 256)
                full.append(frame.reformat(width=w_c, height=max(2, round(frame.height * w_c / frame.width)),
                                           format="rgb24").to_ndarray())
    if not small:
        raise ValueError(f"{path} has no video frames")
    if len(full) > COLOUR_FRAMES:
        idx = np.linspace(0, len(full) - 1, COLOUR_FRAMES).round().astype(int)
        full = [full[i] for i in idx]
    return small, full, fps


def block_flow(prev: np.ndarray, cur: np.ndarray, block: int = BLOCK, radius: int = RADIUS
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Motion of each block from `prev` to `cur` (2-D float lightness images).

    Returns (centres (n, 2) as x, y in pixels; flow (n, 2) as dx, dy in pixels per frame; weight (n,)).
    A block's content at p in `prev` is found at p + flow in `cur`.
    """
    h, w = prev.shape
    by, bx = (h - 2 * radius) // block, (w - 2 * radius) // block
    if by < 1 or bx < 1:
        raise ValueError("frame too small for block matching")
    y0, x0 = radius, radius
    ref = prev[y0:y0 + by * block, x0:x0 + bx * block]
    shifts = [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)]
    cost = np.empty((len(shifts), by, bx))
    for i, (dy, dx) in enumerate(shifts):
        tgt = cur[y0 + dy:y0 + dy + by * block, x0 + dx:x0 + dx + bx * block]
        cost[i] = np.square(tgt - ref).reshape(by, block, bx, block).mean(axis=(1, 3))
    side = 2 * radius + 1
    cost = cost.reshape(side, side, by, bx)
    flat = cost.reshape(side * side, by, bx)
    best = flat.argmin(axis=0)
    iy, ix = np.divmod(best, side)

    def refine(c_minus: np.ndarray, c0: np.ndarray, c_plus: np.ndarray) -> np.ndarray:
        denom = c_minus - 2 * c0 + c_plus
        return np.where(denom > 1e-12, 0.5 * (c_minus - c_plus) / np.maximum(denom, 1e-12), 0.0)

    gy, gx = np.meshgrid(np.arange(by), np.arange(bx), indexing="ij")
    c0 = cost[iy, ix, gy, gx]
    inner_x = (ix > 0) & (ix < side - 1)
    inner_y = (iy > 0) & (iy < side - 1)
    sub_x = refine(cost[iy, np.clip(ix - 1, 0, side - 1), gy, gx], c0,
                   cost[iy, np.clip(ix + 1, 0, side - 1), gy, gx])
    sub_y = refine(cost[np.clip(iy - 1, 0, side - 1), ix, gy, gx], c0,
                   cost[np.clip(iy + 1, 0, side - 1), ix, gy, gx])
    dx = ix - radius + np.where(inner_x, np.clip(sub_x, -0.5, 0.5), 0.0)
    dy = iy - radius + np.where(inner_y, np.clip(sub_y, -0.5, 0.5), 0.0)
    texture = ref.reshape(by, block, bx, block).std(axis=(1, 3))
    # a block is trusted when it is textured and its best match stands out from the search window
    distinct = np.clip((flat.mean(axis=0) - c0) / np.maximum(flat.mean(axis=0), 1e-9), 0.0, 1.0)
    weight = np.where(texture >= MIN_BLOCK_STD, texture * distinct, 0.0)
    centres = np.stack([x0 + (gx + 0.5) * block, y0 + (gy + 0.5) * block], axis=-1).reshape(-1, 2)
    return centres, np.stack([dx, dy], axis=-1).reshape(-1, 2), weight.reshape(-1)


def affine_fit(centres: np.ndarray, flow: np.ndarray, weight: np.ndarray, width: float, height: float
               ) -> np.ndarray | None:
    """Weighted least-squares affine flow [a0, a1, a2, b0, b1, b2] in pixels, x and y centred and in pixels."""
    if (weight > 0).sum() < 6:
        return None
    x = centres[:, 0] - width / 2
    y = centres[:, 1] - height / 2
    A = np.stack([np.ones_like(x), x, y], axis=1) * np.sqrt(weight)[:, None]
    sol_u = np.linalg.lstsq(A, flow[:, 0] * np.sqrt(weight), rcond=None)[0]
    sol_v = np.linalg.lstsq(A, flow[:, 1] * np.sqrt(weight), rcond=None)[0]
    return np.concatenate([sol_u, sol_v])


def affine_flow(fit: np.ndarray, centres: np.ndarray, width: float, height: float) -> np.ndarray:
    """The flow (n, 2) an affine fit predicts at the given points."""
    x = centres[:, 0] - width / 2
    y = centres[:, 1] - height / 2
    return np.stack([fit[0] + fit[1] * x + fit[2] * y, fit[3] + fit[4] * x + fit[5] * y], axis=1)


def robust_affine(centres: np.ndarray, flow: np.ndarray, weight: np.ndarray, width: float, height: float
                  ) -> np.ndarray | None:
    """Affine camera flow fitted by iteratively reweighted least squares (Cauchy, c = ROBUST_PX).

    Rain, snow, flicker and moving props give blocks vectors that disagree with the camera's; they
    lose their weight after a few rounds, so a locked-off camera in a storm still reads ~0.
    """
    fit = affine_fit(centres, flow, weight, width, height)
    for _ in range(ROBUST_ROUNDS):
        if fit is None:
            return None
        res = np.hypot(*(flow - affine_flow(fit, centres, width, height)).T)
        fit = affine_fit(centres, flow, weight / (1.0 + (res / ROBUST_PX) ** 2), width, height)
    return fit


def motion_of(frames: list[np.ndarray], fps: float) -> dict[str, Any]:
    """Camera motion figures of consecutive small RGB frames (definitions in the module doc)."""
    from scipy import ndimage

    lum = [ndimage.gaussian_filter(srgb8_to_oklab(f)[..., 0].astype(np.float64), PRE_BLUR_PX) for f in frames]
    h, w = lum[0].shape
    pairs = list(range(len(lum) - 1))
    if len(pairs) > MAX_PAIRS:
        pairs = sorted({int(i) for i in np.linspace(0, len(lum) - 2, MAX_PAIRS).round()})
    camera, blocks, scene, trans, zooms, diffs = [], [], [], [], [], []
    trans_vec: list[np.ndarray] = []
    for i in pairs:
        centres, flow, weight = block_flow(lum[i], lum[i + 1])
        diffs.append(float(np.abs(frames[i + 1].astype(np.float64) - frames[i]).mean() / 255.0))
        if weight.sum() <= 0:
            continue
        blocks.append(float((np.hypot(flow[:, 0], flow[:, 1]) * weight).sum() / weight.sum()))
        fit = robust_affine(centres, flow, weight, w, h)
        if fit is None:
            continue
        pred = affine_flow(fit, centres, w, h)
        camera.append(float(np.hypot(pred[:, 0], pred[:, 1]).mean()))
        scene.append(float((np.hypot(*(flow - pred).T) * weight).sum() / weight.sum()))
        trans_vec.append(fit[[0, 3]])
        trans.append(float(np.hypot(fit[0], fit[3])))
        zooms.append(float(fit[1] + fit[5]))
    per_s = fps / w  # pixels per frame -> frame widths per second
    energy = float(np.mean(camera)) * per_s if camera else 0.0
    pan = float(np.mean(trans)) * per_s if trans else 0.0
    zoom = float(np.mean(np.abs(zooms))) * fps if zooms else 0.0
    shake = 0.0
    if len(trans_vec) > 2:
        tv = np.array(trans_vec)
        shake = float(np.hypot(*np.diff(tv, axis=0).T).mean()) * per_s
    vertical = float(np.mean([abs(v[1]) for v in trans_vec])) * per_s if trans_vec else 0.0
    return {
        "motion_energy": round(float(np.mean(blocks)) * per_s if blocks else 0.0, 5),
        "camera_energy": round(energy, 5),
        "scene_motion": round(float(np.mean(scene)) * per_s if scene else 0.0, 5),
        "pan_speed": round(pan, 5),
        "vertical_speed": round(vertical, 5),
        "zoom_rate": round(zoom, 5),
        "shake": round(shake, 5),
        "frame_change": round(float(np.mean(diffs)) if diffs else 0.0, 5),
        "measured_pairs": len(camera),
        "camera_motion": classify_motion(energy, pan, vertical, zoom, shake),
    }


def classify_motion(energy: float, pan: float, vertical: float, zoom: float, shake: float) -> str:
    """The latent's camera_motion vocabulary from the camera terms (a documented heuristic)."""
    if energy < STATIC_ENERGY:
        return "static"
    if shake > 0.6 * max(pan, 1e-9) and shake > SHAKE_MIN:
        return "handheld"
    if zoom * 0.5 > pan:  # divergence 'zoom' per second vs translation in widths per second
        return "dolly"
    if vertical > 0.6 * pan:
        return "crane"
    return "orbit"


def read_soundtrack(path: Path | str, seconds: float) -> np.ndarray | None:
    """The first `seconds` of the clip's first audio track as mono float32 at 22.05 kHz (None if silent)."""
    import av

    from engine_server.analysis.music import ANALYSIS_RATE

    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=ANALYSIS_RATE)
        chunks: list[np.ndarray] = []
        total = 0
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
                total += len(chunks[-1])
            if total >= seconds * ANALYSIS_RATE:
                break
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    if not chunks:
        return None
    return np.concatenate(chunks)[: int(seconds * ANALYSIS_RATE)].astype(np.float32)


def analyse_video(path: Path | str) -> dict[str, Any]:
    """The clip's recovered fields: palette and tone of its frames, camera motion, duration, soundtrack."""
    from engine_server.analysis.music import FINGERPRINT_S, fingerprint

    small, colour_frames, fps = read_video(path)
    out = analyse_pixels(colour_frames, thumb=COLOUR_THUMB)
    out.update(motion_of(small, fps))
    out["fps"] = round(fps, 3)
    out["frames"] = len(small)
    out["duration_s"] = round(len(small) / fps, 3)
    audio = read_soundtrack(path, FINGERPRINT_S)
    heard = max(0.0, min(out["duration_s"], FINGERPRINT_S) - SOUNDTRACK_TAIL_S)  # leave out the closing fade
    out["soundtrack"] = fingerprint(audio, seconds=heard) if audio is not None and np.abs(audio).max() > 1e-4 else []
    return out
