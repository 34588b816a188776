"""The `image` decoder: a concept image of the pack's own kit, in the latent's light and weather.

The kit is dressed into a set (engine_server/decoders/scene), rendered by Cycles on the CPU in
bands (progress and cancel between bands), finished in numpy (fog, tone curve, palette grade,
weather, grain) and written as an sRGB PNG. `draft` renders ~0.23 MP with few samples and returns
in seconds; `final` renders ~0.9 MP with more samples, full normal maps and a better denoise, then
upsamples to the requested size. See docs/RENDER.md.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine_server.decoders.base import (
    Asset,
    DecodeContext,
    DecodeRequest,
    Needs,
    OutputSpec,
    option,
    option_names,
    reject_unknown_options,
)
from engine_server.errors import InvalidArgument, quote
from engine_server.sketch import MAX_SKETCH_BYTES, SKETCH_DOC

DEFAULT_WIDTH, DEFAULT_HEIGHT = 1920, 1080
MIN_SIDE, MAX_SIDE = 64, 4096
MAX_PIXELS = 4096 * 2304


@dataclass(frozen=True)
class ImageOptionSpec:
    """Options of the image decoder (what Describe publishes)."""

    width: int = option(DEFAULT_WIDTH, f"image width in pixels (width x height at most {MAX_PIXELS / 1e6:.1f} MP)",
                        lo=MIN_SIDE, hi=MAX_SIDE)
    height: int = option(DEFAULT_HEIGHT, "image height in pixels", lo=MIN_SIDE, hi=MAX_SIDE)
    sketch: str | None = option(None, SKETCH_DOC, kind="image", max_bytes=MAX_SKETCH_BYTES)


KNOWN_OPTIONS = option_names(ImageOptionSpec)


@dataclass(frozen=True)
class Quality:
    """Render budget per quality: pixels actually path-traced, samples, denoiser, bands."""

    pixels: int
    samples: int
    denoise_quality: str
    normal_maps: bool
    bands: int
    sharpen: float
    grain: float
    png_level: int  # zlib effort: level 1 is ~5x faster than 6 for ~10 % more bytes


QUALITY = {
    "draft": Quality(pixels=640 * 360, samples=4, denoise_quality="FAST", normal_maps=False, bands=1,
                     sharpen=0.35, grain=0.007, png_level=1),
    "final": Quality(pixels=1280 * 720, samples=8, denoise_quality="BALANCED", normal_maps=True, bands=4,
                     sharpen=0.25, grain=0.005, png_level=4),
}


def _int_option(options: Any, key: str, default: int) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"image {key} must be a whole number of pixels; got {quote(value)}.")
    if not MIN_SIDE <= value <= MAX_SIDE:
        raise InvalidArgument(f"image {key} must be between {MIN_SIDE} and {MAX_SIDE} pixels; got {quote(value)}.")
    return value


def render_size(width: int, height: int, pixels: int) -> tuple[int, int]:
    """The path-traced size for an output size and a pixel budget (same aspect, never larger)."""
    if width * height <= pixels:
        return width, height
    s = (pixels / (width * height)) ** 0.5
    return max(16, round(width * s / 2) * 2), max(16, round(height * s / 2) * 2)


class ImageDecoder:
    name = "image"
    summary = "concept image: the pack's kit staged and rendered (Cycles) in the latent's light, weather and grade"
    reads = frozenset({
        "palette", "brightness", "contrast", "saturation", "warmth", "time_of_day", "weather",
        "weather_intensity", "valence", "arousal", "tension", "geometry_style", "seed",
    })
    writes = (OutputSpec("image", "image/png", "concept image, sRGB PNG (1920x1080 by default)"),)
    after: tuple[str, ...] = ("mesh",)
    placeholder = False
    diagnostic = False
    option_spec = ImageOptionSpec
    needs = Needs(cpus=2.0, blender=True)  # Cycles: only on machines with bpy (a cluster's `blender` nodes)

    def warm_up(self) -> None:
        """Load bpy and start Cycles once in an idle worker (see stage.warm_up_renderer)."""
        from engine_server.decoders.scene import stage

        stage.warm_up_renderer()

    def validate(self, request: DecodeRequest) -> None:
        reject_unknown_options("image", request.options, KNOWN_OPTIONS)
        w = _int_option(request.options, "width", DEFAULT_WIDTH)
        h = _int_option(request.options, "height", DEFAULT_HEIGHT)
        if w * h > MAX_PIXELS:
            raise InvalidArgument(f"image size {w}x{h} is over the {MAX_PIXELS / 1e6:.1f} MP limit.")
        from engine_server.sketch import sketch_from_options

        sketch_from_options(request.options)  # refuses a bad sketch before any work

    def estimate_seconds(self, request: DecodeRequest) -> float:
        return 3.0 if request.quality == "draft" else 18.0

    def decode(self, request: DecodeRequest, ctx: DecodeContext) -> list[Asset]:
        from PIL import Image, PngImagePlugin

        from engine_server.decoders.scene import Shoot, derive_seed, post
        from engine_server.decoders.scene.stage import RenderSettings
        from engine_server.decoders.scene.weather import Precipitation, apply_precipitation
        from engine_server.sketch import sketch_from_options

        width = _int_option(request.options, "width", DEFAULT_WIDTH)
        height = _int_option(request.options, "height", DEFAULT_HEIGHT)
        q = QUALITY.get(request.quality, QUALITY["draft"])
        sketch = sketch_from_options(request.options)
        shoot = Shoot.build(request, ctx, width / height, sketch, (0.0, 0.3), "image")
        try:
            rw, rh = render_size(width, height, q.pixels)
            settings = RenderSettings(samples=q.samples, denoise=True, bands=q.bands,
                                      denoise_quality=q.denoise_quality, normal_maps=q.normal_maps)
            cam = shoot.framing.camera

            def band_progress(f: float, m: str) -> None:
                ctx.progress(0.3 + 0.6 * f, f"image: {m}")

            passes = shoot.stage.render(cam, rw, rh, settings, band_progress)
            ctx.progress(0.9, "image: grading")
            look = shoot.look
            graded = post.grade(passes, look, cam, shoot.stage.sun_direction(), request.latent.tension)
            rgb = post.upscale_sharpen(graded.rgb, width, height, q.sharpen)
            dist = post.resize_plane(graded.dist, width, height, Image.Resampling.NEAREST)
            if look.precipitation:
                precip = Precipitation(look.precipitation, look.precip_intensity, width, height,
                                       derive_seed(request.seed, "precip") % (2**32), wind=0.18)
                tint = (0.85, 0.9, 1.0) if look.precipitation != "dust" else (0.9, 0.75, 0.55)
                rgb = apply_precipitation(rgb, dist, precip.masks(0.0, 0), look.precipitation, tint)
            rng = np.random.default_rng(derive_seed(request.seed, "grain"))
            rgb = rgb + post.grain((height, width), rng, q.grain)[..., None]
            pixels = post.to_uint8(rgb)
            ctx.progress(0.97, "image: writing PNG")
            info = PngImagePlugin.PngInfo()
            info.add_text("Software", "Motif engine (procedural decoders, Blender Cycles)")
            info.add_text("Source", "machine-generated; IPTC digital source type: algorithmicMedia")
            info.add_text("Comment", f"seed {request.seed}; quality {request.quality}")
            buf = io.BytesIO()
            Image.fromarray(pixels, "RGB").save(buf, "PNG", pnginfo=info, compress_level=q.png_level)
            rel = "image/concept.png"
            ctx.path(rel).write_bytes(buf.getvalue())
            meta: dict[str, Any] = {
                "width": width,
                "height": height,
                "quality": request.quality,
                "render": {"width": rw, "height": rh, "samples": q.samples, "denoiser": f"OIDN {q.denoise_quality}"},
                **shoot.meta(),
            }
            if sketch is not None:
                meta["sketch"] = sketch.contribution()
            return [Asset("image", rel, "image/png", meta)]
        finally:
            shoot.close()
