"""From linear render passes to a finished, graded picture (numpy only, deterministic).

Order, as in a film pipeline: atmosphere in scene-linear light (height fog with sun in-scatter and
light halos, from the radial-distance pass) -> white balance and saturation -> exposure to the
look's key (log-average luminance) -> glare -> AgX-style tone curve with the latent's contrast in
log space -> palette harmonisation and split-toning in OKLab (this is what makes the picture's
colours the latent's colours) -> vignette -> grain. Camera-independent steps run once per still or
per video keyframe; rain, snow, flicker and lightning are added per frame (weather.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from engine_server.decoders.scene.camera import Camera
from engine_server.decoders.scene.look import Look
from engine_server.decoders.scene.stage import MIST_DEPTH, Passes
from engine_server.oklab import linear_to_oklab, linear_to_srgb, oklab_to_linear

LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)

# AgX (Troy Sobotka's AgX as in Blender 4+), in the common polynomial approximation.
_AGX_IN = np.array(
    [[0.842479062253094, 0.0423282422610123, 0.0423756549057051],
     [0.0784335999999992, 0.878468636469772, 0.0784336],
     [0.0792237451477643, 0.0791661274605434, 0.879142973793104]], dtype=np.float32)
_AGX_OUT = np.array(
    [[1.19687900512017, -0.0528968517574562, -0.0529716355144438],
     [-0.0980208811401368, 1.15190312990417, -0.0980434501171241],
     [-0.0990297440797205, -0.0989611768448433, 1.15107367264116]], dtype=np.float32)
_EV_MIN, _EV_MAX = -12.47393, 4.026069
_MID = (np.log2(0.18) - _EV_MIN) / (_EV_MAX - _EV_MIN)


@dataclass(frozen=True)
class Graded:
    """A finished picture in display space (sRGB-encoded floats 0..1) plus what per-frame effects
    need: the flicker group's share of it and the distance per pixel."""

    rgb: np.ndarray  # (h, w, 3) display-referred, sRGB encoded
    flicker: np.ndarray | None  # (h, w, 3) display-space contribution of the flickering light
    dist: np.ndarray  # (h, w) metres (sky: MIST_DEPTH)
    exposure: float


def blur(img: np.ndarray, radius: float) -> np.ndarray:
    """Cheap wide blur for glows and fog halos: box-downsample by ~radius/2, a few binomial passes
    (close to a Gaussian) on the small image, bicubic upsample. Smooth, with no blocky cells."""
    h, w = img.shape[:2]
    f = max(1, round(radius / 2))
    if radius <= 1:
        return img.copy()
    sh, sw = max(2, h // f), max(2, w // f)
    chans = img.reshape(h, w, -1)
    out = np.empty_like(chans)
    for c in range(chans.shape[2]):
        small = np.asarray(Image.fromarray(np.ascontiguousarray(chans[..., c], dtype=np.float32), "F")
                           .resize((sw, sh), Image.Resampling.BOX))
        for _ in range(4):
            p = np.pad(small, 1, mode="edge")
            small = 0.25 * p[:-2, 1:-1] + 0.5 * p[1:-1, 1:-1] + 0.25 * p[2:, 1:-1]
            p = np.pad(small, 1, mode="edge")
            small = 0.25 * p[1:-1, :-2] + 0.5 * p[1:-1, 1:-1] + 0.25 * p[1:-1, 2:]
        out[..., c] = np.asarray(Image.fromarray(np.ascontiguousarray(small, dtype=np.float32), "F")
                                 .resize((w, h), Image.Resampling.BICUBIC))
    return out.reshape(img.shape)


def view_up(cam: Camera, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel unit view directions: their z (up) component, and their cosine to +Y-rotated axes
    is not needed; returns (dir_z, dirs) at full resolution from a coarse grid."""
    ys = (np.arange(height, dtype=np.float32) + 0.5)
    xs = (np.arange(width, dtype=np.float32) + 0.5)
    px, py = np.meshgrid(xs, ys)
    d = cam.rays(px, py, width, height).astype(np.float32)
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    return d[..., 2], d


UNDERWATER_ABSORPTION = np.array([0.16, 0.045, 0.03], dtype=np.float32)  # 1/m, linear RGB


def atmosphere(p: Passes, look: Look, cam: Camera, sun_dir: np.ndarray, fog_scale: float = 1.0) -> np.ndarray:
    """Height fog and aerial perspective in linear light, lit by the sky and the sun."""
    h, w = p.rgb.shape[:2]
    dz, dirs = view_up(cam, w, h)
    sky = p.dist >= MIST_DEPTH * 0.999
    # The sky shader carries its own horizon haze: fog only veils it as much as ~250 m of air would
    # (more in real fog), so a clear sky stays blue.
    sky_reach = 60.0 + 1000.0 * min(1.0, look.fog_density / 0.05)
    dist = np.where(sky, sky_reach, np.minimum(p.dist, 1500.0))
    d0 = look.fog_density * fog_scale
    layer = 30.0 if look.weather in ("fog", "rain", "storm", "snow") else 120.0
    if look.environment == "underwater":
        layer = 2000.0  # water fills the whole frame, not a layer over the ground
    h0 = max(cam.position[2], 0.0)
    k = np.abs(dz) * dist / layer
    # integral of d0 * exp(-(h0 + s dz) / H) ds over the ray; the limit dz -> 0 is d0 * L
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        integral = np.where(
            np.abs(dz) > 1e-4,
            d0 * np.exp(-h0 / layer) * layer / np.where(np.abs(dz) > 1e-4, dz, 1.0) * (1 - np.exp(-np.sign(dz) * k)),
            d0 * dist * np.exp(-h0 / layer),
        )
    integral = np.nan_to_num(np.maximum(integral, 0.0), nan=0.0, posinf=50.0)
    fog = 1.0 - np.exp(-integral)
    fog = fog.astype(np.float32)
    hor = np.asarray(look.sky_horizon, dtype=np.float32)
    level = float(hor @ LUMA) * look.sky_strength
    fc = np.asarray(look.fog_color, dtype=np.float32)
    fc = fc / max(float(fc @ LUMA), 1e-5) * level * 0.95
    cos_sun = np.clip(dirs @ sun_dir.astype(np.float32), 0.0, 1.0)
    phase = 0.12 + 1.3 * cos_sun**10 + 0.25 * cos_sun**2
    sun = np.asarray(look.sun_color, dtype=np.float32) * look.sun_strength * 0.08 * (1.0 - look.cloud_cover * 0.7)
    inscatter = fc[None, None, :] + phase[..., None] * sun[None, None, :]
    # practical lights bloom into the fog (halos): the fog catches a wide blur of the picture
    if look.practical > 0.1:
        y = p.rgb @ LUMA
        bright = np.maximum(p.rgb - 2.0 * float(np.median(y)) - 0.05, 0.0)  # the lights, not the lit walls
        inscatter = inscatter + blur(bright, max(8, w // 30)) * (0.3 + 0.35 * look.practical)
    rgb = p.rgb
    if look.environment == "underwater":  # water absorbs red first, then green, over metres
        rgb = rgb * np.exp(-np.minimum(dist, 200.0)[..., None] * UNDERWATER_ABSORPTION)
    return (rgb * (1.0 - fog[..., None]) + inscatter * fog[..., None]).astype(np.float32)


def _white_balance(warmth: float) -> np.ndarray:
    wb = np.array([1.0 + 0.09 * warmth, 1.0 + 0.01 * warmth, 1.0 - 0.12 * warmth], dtype=np.float32)
    return wb / float(wb @ LUMA)


def exposure_for(rgb: np.ndarray, key: float, sky: np.ndarray | None = None) -> float:
    """Scale that brings the set's log-average luminance (lights clipped, sky ignored) to `key`."""
    y = rgb[::4, ::4] @ LUMA
    if sky is not None and (~sky[::4, ::4]).mean() > 0.2:
        y = y[~sky[::4, ::4]]
    y = np.minimum(y, np.percentile(y, 97.0))
    geo = float(np.exp(np.mean(np.log(y + 1e-4))))
    return float(np.clip(key / max(geo, 1e-5), 0.03, 40.0))


def agx(rgb: np.ndarray, contrast: float) -> np.ndarray:
    """AgX base curve with the latent's contrast as slope in log space; returns display-linear."""
    x = np.maximum(rgb, 1e-10) @ _AGX_IN.T
    x = (np.clip(np.log2(x), _EV_MIN, _EV_MAX) - _EV_MIN) / (_EV_MAX - _EV_MIN)
    slope = 0.82 + 0.45 * contrast
    x = np.clip(_MID + (x - _MID) * slope, 0.0, 1.0)
    x2 = x * x
    x4 = x2 * x2
    y = 15.5 * x4 * x2 - 40.14 * x4 * x + 31.96 * x4 - 6.868 * x2 * x + 0.4298 * x2 + 0.1191 * x - 0.00232
    y = np.clip(y, 0.0, 1.0) @ _AGX_OUT.T
    return np.clip(y, 0.0, 1.0) ** 2.2  # display-linear


def harmonise(display_lin: np.ndarray, look: Look, amount: float = 0.7) -> np.ndarray:
    """Grade toward the palette in OKLab, as a colourist grades to a reference:

    1. tonal tint: shadows toward the palette's darkest colour, mid-tones toward its weighted key
       colour, highlights toward its lightest (chroma only);
    2. hue pull: each pixel's chroma moves toward the palette colours near it (soft nearest-colour
       weights), and its lightness a little toward theirs.
    Lightness is mostly kept, so the light and shadow of the render survive.
    """
    lab = linear_to_oklab(display_lin)
    pal = np.array([linear_to_oklab(np.asarray(c, dtype=np.float32)) for c in look.palette_lin], dtype=np.float32)
    pw = np.asarray(look.palette_weights, dtype=np.float32)
    pw = pw / max(float(pw.sum()), 1e-6)
    # 0. statistics transfer (Reinhard et al. 2001, in OKLab): the picture's mean colour and colour
    #    spread move toward the palette's weighted mean and spread
    sub = lab[::4, ::4].reshape(-1, 3)
    m_img = sub.mean(0)
    s_img = float(np.sqrt(((sub[:, 1:] - m_img[1:]) ** 2).sum(1).mean()))
    m_pal = (pal * pw[:, None]).sum(0)
    s_pal = float(np.sqrt((((pal[:, 1:] - m_pal[1:]) ** 2).sum(1) * pw).sum()))
    spread = float(np.clip(1.0 + (s_pal / max(s_img, 1e-3) - 1.0) * 0.5, 0.8, 1.8))
    shift_ab = (m_pal[1:] - m_img[1:]) * 0.6
    lab = np.concatenate([lab[..., 0:1] + 0.2 * (m_pal[0] - m_img[0]),
                          (lab[..., 1:] - m_img[1:]) * spread + m_img[1:] + shift_ab], axis=-1)
    L = np.clip(lab[..., 0:1], 0.0, 1.0)
    ab = lab[..., 1:]
    order = np.argsort(pal[:, 0])
    dark_ab, light_ab = pal[order[0], 1:], pal[order[-1], 1:]
    key_ab = (pal[:, 1:] * pw[:, None]).sum(0)
    lo, hi = float(pal[order[0], 0]), float(pal[order[-1], 0])
    t = np.clip((L - lo) / max(hi - lo, 0.1), 0.0, 1.0)
    ab = ab + 0.45 * (1 - t) ** 2 * dark_ab + 0.35 * (4 * t * (1 - t)) * key_ab + 0.3 * t**2 * light_ab
    d2 = ((ab[..., None, :] - pal[None, None, :, 1:]) ** 2).sum(-1)  # (h, w, k)
    d2 = d2 + 0.25 * (L - pal[None, None, :, 0]) ** 2
    wgt = np.exp(-d2 / (2 * 0.07**2)) * (0.3 + pw)[None, None, :]
    wsum = wgt.sum(-1, keepdims=True)
    wn = wgt / np.maximum(wsum, 1e-6)
    target_ab = (wn[..., None] * pal[None, None, :, 1:]).sum(-2)
    target_l = (wn * pal[None, None, :, 0]).sum(-1, keepdims=True)
    pull = amount * np.clip(wsum / (wsum + 0.05), 0.0, 1.0)
    ab = ab + (target_ab - ab) * pull
    L = L + (target_l - L) * pull * 0.25
    out = np.concatenate([L, ab], axis=-1)
    return np.clip(oklab_to_linear(out), 0.0, 1.0)


def vignette(h: int, w: int, strength: float) -> np.ndarray:
    y = (np.arange(h, dtype=np.float32) + 0.5) / h * 2 - 1
    x = (np.arange(w, dtype=np.float32) + 0.5) / w * 2 - 1
    r2 = (x[None, :] ** 2) * 0.8 + (y[:, None] ** 2) * 0.6
    return (1.0 - strength * np.clip(r2, 0, 2) ** 1.5 * 0.5).astype(np.float32)


def grade(p: Passes, look: Look, cam: Camera, sun_dir: np.ndarray, tension: float,
          fog_scale: float = 1.0, with_flicker: bool = False) -> Graded:
    """Finish a render: returns display-space floats (no grain; callers add it at output size).
    `with_flicker` also grades the picture without the flickering light (clips need it, stills not)."""
    lin = atmosphere(p, look, cam, sun_dir, fog_scale)
    wb = _white_balance(look.warmth)
    sat = 0.85 + 0.6 * look.saturation

    def prepare(x: np.ndarray) -> np.ndarray:
        x = x * wb
        y = (x @ LUMA)[..., None]
        return np.maximum(y + (x - y) * sat, 0.0)

    lin = prepare(lin)
    exp = exposure_for(lin, look.exposure_key, p.dist >= MIST_DEPTH * 0.999)
    lin = lin * exp
    glare = 0.05 + 0.04 * look.practical + (0.03 if look.precipitation else 0.0)
    lin = lin * (1 - glare) + blur(lin, max(4, lin.shape[1] // 90)) * glare * 0.6 + blur(
        lin, max(8, lin.shape[1] // 25)) * glare * 0.4
    disp = agx(lin, look.contrast)
    disp = harmonise(disp, look)
    h, w = disp.shape[:2]
    disp = disp * vignette(h, w, 0.25 + 0.35 * tension)[..., None]
    flick = None
    if with_flicker and p.flicker is not None:
        # the flickering light's share, in display terms: picture minus picture without it
        off = prepare(atmosphere(Passes(np.maximum(p.rgb - p.flicker, 0.0), p.depth, p.dist, None), look, cam,
                                 sun_dir, fog_scale)) * exp
        off = off * (1 - glare) + blur(off, max(4, w // 90)) * glare
        d_off = harmonise(agx(off, look.contrast), look) * vignette(h, w, 0.25 + 0.35 * tension)[..., None]
        flick = np.clip(linear_to_srgb(disp) - linear_to_srgb(d_off), 0.0, 1.0)
    return Graded(linear_to_srgb(disp), flick, p.dist, exp)


def grain(shape: tuple[int, int], rng: np.random.Generator, amount: float) -> np.ndarray:
    """Monochrome film grain (display space)."""
    g = rng.standard_normal(shape, dtype=np.float32)
    g *= amount
    return g


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def upscale_sharpen(rgb: np.ndarray, width: int, height: int, amount: float) -> np.ndarray:
    """Display-space image to the output size: Lanczos, then an unsharp mask to restore crispness
    (both in Pillow's C code, on 8 bits; grain added afterwards hides the quantisation)."""
    from PIL import ImageFilter

    h, w = rgb.shape[:2]
    im = Image.fromarray(to_uint8(rgb), "RGB")
    if (w, h) != (width, height):
        im = im.resize((width, height), Image.Resampling.LANCZOS)
        if amount > 0:
            im = im.filter(ImageFilter.UnsharpMask(radius=1.2, percent=int(amount * 200), threshold=0))
    return np.asarray(im, dtype=np.float32) * (1.0 / 255.0)


def resize_plane(x: np.ndarray, width: int, height: int, resample: Image.Resampling = Image.Resampling.BILINEAR
                 ) -> np.ndarray:
    im = Image.fromarray(np.ascontiguousarray(x, dtype=np.float32), "F")
    return np.asarray(im.resize((width, height), resample))


def sharpen(rgb: np.ndarray, amount: float) -> np.ndarray:
    """Unsharp mask after upscaling (restores the crispness lost to the resample)."""
    if amount <= 0:
        return rgb
    soft = blur_small(rgb)
    return rgb + (rgb - soft) * amount


def blur_small(rgb: np.ndarray) -> np.ndarray:
    """3x3 binomial blur."""
    k = rgb.copy()
    k[1:-1] = 0.25 * rgb[:-2] + 0.5 * rgb[1:-1] + 0.25 * rgb[2:]
    out = k.copy()
    out[:, 1:-1] = 0.25 * k[:, :-2] + 0.5 * k[:, 1:-1] + 0.25 * k[:, 2:]
    return out
