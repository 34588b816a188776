"""The `video` decoder: a short clip of the same set as the concept image, with a camera move,
animated weather and light, and the pack's music as its soundtrack.

Budget: 144 frames in under a minute on two cores leaves ~0.35 s a frame, far less than a clean
path-traced frame costs. So the clip path-traces a few *keyframes* along the move (with overscan),
grades them once, and makes every frame by depth-based reprojection of the nearest keyframe
(scene/warp.py) — true parallax from the rendered depth, cross-faded between keyframes — then
adds per-frame rain/snow/dust, flicker of a practical light, lightning and grain. Encoded with
PyAV: H.264/yuv420p MP4 (x264 single-threaded, so bytes repeat), optional ProRes 422 HQ or DNxHR
HQ MOV for Resolve. See docs/RENDER.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine_server.decoders.base import (
    Asset,
    DecodeContext,
    DecodeRequest,
    Needs,
    OutputSpec,
    finite_number,
    option,
    option_names,
    reject_unknown_options,
)
from engine_server.errors import InvalidArgument, quote
from engine_server.sketch import MAX_SKETCH_BYTES, SKETCH_DOC

FPS = 24
DEFAULT_SECONDS = 6.0
MIN_SECONDS, MAX_SECONDS = 4.0, 8.0
DEFAULT_WIDTH, DEFAULT_HEIGHT = 1280, 720
MIN_SIDE, MAX_SIDE = 64, 1920
INTERMEDIATE_CHOICES = ("none", "prores", "dnxhr")
CROSSFADE_FRAMES = 8


@dataclass(frozen=True)
class VideoOptionSpec:
    """Options of the video decoder (what Describe publishes)."""

    duration_s: float = option(DEFAULT_SECONDS, f"clip length in seconds ({FPS} frames a second)",
                               lo=MIN_SECONDS, hi=MAX_SECONDS)
    width: int = option(DEFAULT_WIDTH, "frame width in pixels (an even number)", lo=MIN_SIDE, hi=MAX_SIDE)
    height: int = option(DEFAULT_HEIGHT, "frame height in pixels (an even number)", lo=MIN_SIDE, hi=MAX_SIDE)
    intermediate: str = option("none", "also write an editing master: ProRes 422 HQ or DNxHR HQ MOV",
                               choices=INTERMEDIATE_CHOICES)
    sketch: str | None = option(None, SKETCH_DOC, kind="image", max_bytes=MAX_SKETCH_BYTES)


KNOWN_OPTIONS = option_names(VideoOptionSpec)


@dataclass(frozen=True)
class ClipQuality:
    key_pixels: int  # path-traced pixels per keyframe before overscan
    samples: int
    denoise_quality: str
    normal_maps: bool
    grain: float


QUALITY = {
    "draft": ClipQuality(640 * 360, 5, "FAST", False, 0.01),
    "final": ClipQuality(960 * 540, 7, "FAST", True, 0.008),
}


def _options(request: DecodeRequest) -> tuple[float, int, int, str]:
    o = request.options
    dur = o.get("duration_s", DEFAULT_SECONDS)
    if not finite_number(dur):
        raise InvalidArgument(f"video duration_s must be a number of seconds; got {quote(dur)}.")
    if not MIN_SECONDS <= float(dur) <= MAX_SECONDS:
        raise InvalidArgument(
            f"video duration_s must be between {MIN_SECONDS:g} and {MAX_SECONDS:g}; got {quote(dur)}."
        )
    sizes = []
    for key, default in (("width", DEFAULT_WIDTH), ("height", DEFAULT_HEIGHT)):
        v = o.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int):
            raise InvalidArgument(f"video {key} must be a whole number of pixels; got {quote(v)}.")
        if not MIN_SIDE <= v <= MAX_SIDE or v % 2:
            raise InvalidArgument(f"video {key} must be an even number from {MIN_SIDE} to {MAX_SIDE}; got {quote(v)}.")
        sizes.append(v)
    inter = o.get("intermediate", "none")
    if inter not in INTERMEDIATE_CHOICES:
        raise InvalidArgument(
            f"video intermediate must be one of {', '.join(INTERMEDIATE_CHOICES)}; got {quote(inter)}."
        )
    return float(dur), sizes[0], sizes[1], str(inter)


def frame_count(seconds: float) -> int:
    return round(seconds * FPS)


class VideoDecoder:
    name = "video"
    summary = "clip: the kit's set with a camera move, animated weather and light, the pack's music (H.264 MP4)"
    reads = frozenset({
        "palette", "brightness", "contrast", "saturation", "warmth", "time_of_day", "weather",
        "weather_intensity", "valence", "arousal", "tension", "geometry_style", "camera_motion", "seed",
    })
    writes = (
        OutputSpec("video", "video/mp4", "H.264 yuv420p MP4, 24 fps (1280x720, 6 s by default), music as AAC"),
        OutputSpec("video_master", "video/quicktime", "optional ProRes 422 HQ or DNxHR HQ MOV for editing"),
    )
    after: tuple[str, ...] = ("mesh", "music")
    placeholder = False
    diagnostic = False
    option_spec = VideoOptionSpec
    needs = Needs(cpus=2.0, blender=True)  # Cycles: only on machines with bpy (a cluster's `blender` nodes)

    def warm_up(self) -> None:
        """Load bpy and start Cycles once in an idle worker (see stage.warm_up_renderer)."""
        import av  # noqa: F401 - FFmpeg's libraries, loaded once

        from engine_server.decoders.scene import stage

        stage.warm_up_renderer()

    def validate(self, request: DecodeRequest) -> None:
        reject_unknown_options("video", request.options, KNOWN_OPTIONS)
        _options(request)
        from engine_server.sketch import sketch_from_options

        sketch_from_options(request.options)

    def estimate_seconds(self, request: DecodeRequest) -> float:
        dur = float(request.options.get("duration_s", DEFAULT_SECONDS)) if isinstance(
            request.options.get("duration_s", DEFAULT_SECONDS), int | float) else DEFAULT_SECONDS
        return 8.0 * dur if request.quality == "final" else 6.0 * dur

    def decode(self, request: DecodeRequest, ctx: DecodeContext) -> list[Asset]:
        from engine_server.decoders.scene import Shoot, derive_seed, post
        from engine_server.decoders.scene.camera import make_move
        from engine_server.decoders.scene.stage import RenderSettings
        from engine_server.decoders.scene.warp import Keyframe, dist_plane, map_grid, warp
        from engine_server.decoders.scene.weather import (
            Precipitation,
            apply_lightning,
            apply_precipitation,
            flicker_curve,
            lightning_curve,
        )
        from engine_server.decoders.video.encode import INTERMEDIATES, Writer, load_music
        from engine_server.sketch import sketch_from_options

        seconds, width, height, inter = _options(request)
        q = QUALITY.get(request.quality, QUALITY["draft"])
        n = frame_count(seconds)
        latent = request.latent
        sketch = sketch_from_options(request.options)
        shoot = Shoot.build(request, ctx, width / height, sketch, (0.0, 0.1), "video")
        writers: list[Writer] = []
        try:
            look = shoot.look
            hero = shoot.layout.hero
            pivot = (hero.x, hero.y, 1.2) if hero is not None else (0.0, shoot.framing.back_depth * 0.55, 1.2)
            move = make_move(latent.camera_motion, shoot.framing.camera, pivot, latent.arousal,
                             np.random.default_rng(derive_seed(request.seed, "move")))
            times = [i / max(n - 1, 1) for i in range(n)]
            cams = [move.at(t) for t in times]
            key_t = keyframe_times(latent.camera_motion)
            key_cams = [move.at(kt) for kt in key_t]
            near = _nearest_distance(shoot)
            plan = plan_keyframes(cams, key_t, key_cams, width, height, near)

            # -------- keyframes: path-traced with overscan, graded once
            keys: list[Keyframe] = []
            sun = shoot.stage.sun_direction()
            settings = RenderSettings(samples=q.samples, denoise=True, bands=1,
                                      denoise_quality=q.denoise_quality, normal_maps=q.normal_maps)
            base_w = (min(q.key_pixels, width * height) * width / height) ** 0.5
            for k, kcam in enumerate(key_cams):
                scale = plan.overscan[k]
                kcam = kcam.widened(scale)
                kw = round(base_w * scale / 2) * 2
                kh = round(base_w * height / width * scale / 2) * 2
                ctx.progress(0.1 + 0.55 * k / len(key_t),
                             f"video: path-tracing keyframe {k + 1}/{len(key_t)} ({kw}x{kh})")
                passes = shoot.stage.render(kcam, kw, kh, settings)
                graded = post.grade(passes, look, kcam, sun, latent.tension, with_flicker=True)
                keys.append(keyframe_image(kcam, kw, kh, passes.depth, graded.rgb, graded.flicker))
                ctx.progress(0.1 + 0.55 * (k + 1) / len(key_t), f"video: keyframe {k + 1}/{len(key_t)} done")

            # -------- per-frame effects
            flicker = flicker_curve(n, FPS, derive_seed(request.seed, "flicker") % 2**32, latent.arousal) \
                if look.flicker else None
            lightning = lightning_curve(n, FPS, derive_seed(request.seed, "lightning") % 2**32) \
                if look.lightning else None
            precip = None
            if look.precipitation:
                wind = 0.12 + 0.25 * latent.arousal + (0.2 if look.weather == "storm" else 0.0)
                precip = Precipitation(look.precipitation, look.precip_intensity, width, height,
                                       derive_seed(request.seed, "precip") % 2**32, wind)
            tint = (0.85, 0.9, 1.0) if look.precipitation != "dust" else (0.9, 0.75, 0.55)
            grain_rng = np.random.default_rng(derive_seed(request.seed, "grain"))

            # -------- audio and writers
            music_path = None
            for a in ctx.upstream.get("music", []):
                if a.role == "music" and a.path.endswith(".wav"):
                    music_path = ctx.out_dir / a.path
            audio = load_music(music_path, n / FPS) if music_path is not None else None
            rel = "video/clip.mp4"
            writers.append(Writer(ctx.path(rel), width, height, FPS, "h264", audio))
            rel_master = None
            if inter != "none":
                ext = INTERMEDIATES[inter][3]
                rel_master = f"video/clip_{inter}.{ext}"
                writers.append(Writer(ctx.path(rel_master), width, height, FPS, inter, audio))

            for i, cam in enumerate(cams):
                ki, partner = plan.assign[i], plan.blend[i]
                mapping = map_grid(cam, width, height, keys[ki])
                frame = np.asarray(warp(keys[ki].rgb, mapping, width, height), dtype=np.float32) * (1.0 / 255.0)
                if partner is not None:  # cross-fade around a switch of keyframe
                    kj, wgt = partner
                    m2 = map_grid(cam, width, height, keys[kj])
                    f2 = np.asarray(warp(keys[kj].rgb, m2, width, height), dtype=np.float32) * (1.0 / 255.0)
                    frame = frame * (1 - wgt) + f2 * wgt
                if frame.shape[2] == 4:  # the flickering light's share rides in the fourth channel
                    colour = np.asarray(keys[ki].flicker_colour, dtype=np.float32)
                    share = frame[..., 3:4]
                    frame = frame[..., :3]
                    if flicker is not None:
                        frame = frame - (1.0 - float(flicker[i])) * share * colour
                dist = dist_plane(mapping, width, height)
                if lightning is not None:
                    frame = apply_lightning(frame, dist, float(lightning[i]))
                if precip is not None:
                    frame = apply_precipitation(frame, dist, precip.masks(i / FPS, i), look.precipitation, tint)
                frame = frame + post.grain((height, width), grain_rng, q.grain)[..., None]
                pixels = post.to_uint8(frame)
                for w in writers:
                    w.add(pixels)
                ctx.progress(0.65 + 0.33 * (i + 1) / n, f"video: frame {i + 1}/{n}")
            ctx.progress(0.99, "video: finishing the file")
            for w in writers:
                w.close()
            writers.clear()
            meta: dict[str, Any] = {
                "width": width,
                "height": height,
                "fps": FPS,
                "frames": n,
                "duration_s": round(n / FPS, 4),
                "codec": "h264 (x264 crf 18, yuv420p, single-threaded)",
                "audio": {"source": "music", "codec": "aac 192k"} if audio is not None else None,
                "quality": request.quality,
                "camera_move": {"kind": move.kind, "amount": round(move.amount, 3),
                                "unit": {"dolly": "m", "crane": "m", "orbit": "deg"}.get(move.kind, "")},
                "keyframes": [{"t": round(kt, 4), "width": kf.width, "height": kf.height,
                               "overscan": round(o, 3)} for kt, kf, o in zip(key_t, keys, plan.overscan, strict=True)],
                "effects": {"precipitation": look.precipitation or None, "flicker": flicker is not None,
                            "lightning": lightning is not None},
                **shoot.meta(),
            }
            if sketch is not None:
                meta["sketch"] = sketch.contribution()
            assets = [Asset("video", rel, "video/mp4", meta)]
            if rel_master is not None:
                assets.append(Asset("video_master", rel_master, INTERMEDIATES[inter][4],
                                    {"codec": INTERMEDIATES[inter][0], "pix_fmt": INTERMEDIATES[inter][1],
                                     "of": rel, "frames": n, "fps": FPS}))
            return assets
        except BaseException:
            for w in writers:
                w.abort()
            raise
        finally:
            shoot.close()


def keyframe_image(cam: Any, width: int, height: int, depth: np.ndarray, rgb: np.ndarray,
                   flicker: np.ndarray | None) -> Any:
    """A keyframe for warping: the graded picture, with the flickering light's share (as a grey level
    times one colour) as a fourth channel so one MESH transform warps both. The four channels travel
    as a "CMYK" image: Pillow resamples those independently, whereas RGBA is premultiplied by alpha."""
    from PIL import Image

    from engine_server.decoders.scene import post
    from engine_server.decoders.scene.warp import Keyframe

    if flicker is None or float(flicker.max()) < 1e-3:
        return Keyframe(cam, width, height, depth, Image.fromarray(post.to_uint8(rgb), "RGB"))
    share = flicker.max(axis=2)
    weight = share[..., None]
    colour = (flicker * weight).sum((0, 1)) / max(float((share * share).sum()), 1e-6)
    colour = colour / max(float(colour.max()), 1e-6)
    rgba = np.concatenate([rgb, share[..., None]], axis=2)
    return Keyframe(cam, width, height, depth, Image.fromarray(post.to_uint8(rgba), "CMYK"),
                    (float(colour[0]), float(colour[1]), float(colour[2])))


def keyframe_times(motion: str) -> list[float]:
    """Where along the move keyframes are path-traced. A dolly moves forward, so each keyframe
    opens its segment (later frames see less than it does); other moves centre them."""
    if motion in ("static", "handheld"):
        return [0.5]
    if motion == "dolly":
        return [0.0, 1 / 3, 2 / 3]
    k = 4 if motion == "orbit" else 3
    return [(i + 0.5) / k for i in range(k)]


@dataclass(frozen=True)
class KeyPlan:
    assign: list[int]  # keyframe per frame
    blend: list[tuple[int, float] | None]  # cross-fade partner and weight per frame
    overscan: list[float]  # field-of-view widening per keyframe


def plan_keyframes(cams: list[Any], key_times: list[float], key_cams: list[Any], width: int, height: int,
                   near: float) -> KeyPlan:
    """Serve each frame from whichever of the two keyframes nearest in time covers it with the least
    overscan (never going back to an earlier keyframe), cross-fade over CROSSFADE_FRAMES around each
    switch, and widen each keyframe to cover every frame it serves (capped at 1.6)."""
    from engine_server.decoders.scene.warp import overscan_needed

    n, k = len(cams), len(key_cams)
    if k == 1:
        need = min(1.6, overscan_needed(cams, key_cams[0], width, height, near) * 1.03)
        return KeyPlan([0] * n, [None] * n, [need])
    t = [i / max(n - 1, 1) for i in range(n)]
    assign: list[int] = []
    for i, cam in enumerate(cams):
        order = sorted(range(k), key=lambda j: (abs(t[i] - key_times[j]), j))[:2]
        cost = [overscan_needed([cam], key_cams[j], width, height, near) for j in order]
        best = order[0] if cost[0] <= cost[1] + 0.01 else order[1]
        assign.append(max(best, assign[-1]) if assign else best)
    blend: list[tuple[int, float] | None] = [None] * n
    half = CROSSFADE_FRAMES // 2
    for i in range(1, n):
        if assign[i] != assign[i - 1]:
            a, b = assign[i - 1], assign[i]
            for f in range(max(0, i - half), min(n, i + half)):
                s = (f - (i - half) + 0.5) / (2 * half)
                s = s * s * (3 - 2 * s)
                blend[f] = (b, s) if f < i else (a, 1 - s)
    overscan = []
    for j in range(k):
        served = [cams[i] for i in range(n) if assign[i] == j or _partner_is(blend[i], j)]
        need = overscan_needed(served, key_cams[j], width, height, near) if served else 1.0
        overscan.append(min(1.6, need * 1.03))
    return KeyPlan(assign, blend, overscan)


def _partner_is(b: tuple[int, float] | None, j: int) -> bool:
    return b is not None and b[0] == j


def _nearest_distance(shoot: Any) -> float:
    """How close the nearest dressed piece (not floor) comes to the camera: the overscan's near plane."""
    cam = shoot.framing.camera
    d = [float(np.hypot(p.x - cam.position[0], p.y - cam.position[1])) for p in shoot.layout.placements
         if p.role != "floor"]
    return max(2.0, 0.8 * min(d)) if d else 4.0
