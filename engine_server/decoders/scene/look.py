"""The look of a shot, derived from the latent alone: sun, sky, fog, weather, practical lights, grade.

Pure Python + numpy (no bpy), so it is cheap to test. Time of day sets physically plausible
anchors (sun height and colour temperature, sky gradient); the palette then tints sky, fog, ground
and practical lights toward its own colours in OKLab, keeping the anchor's lightness so a teal
palette gives a teal-leaning dusk rather than a teal noon. Weather scales sun, fog and particles;
warmth, contrast, brightness and saturation drive the grade.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from engine_server.latent import Latent
from engine_server.oklab import hex_to_srgb, linear_to_oklab, oklab_to_linear, srgb_to_linear

RGB = tuple[float, float, float]

# time of day -> sun elevation (deg), colour temperature (K), sun strength (Blender W/m2),
# sky zenith / horizon (sRGB hex anchors), ambient (world strength), exposure key (mid grey target)
_TIME: dict[str, tuple[float, float, float, str, str, float, float]] = {
    "dawn": (7.0, 3000.0, 2.2, "#5d6f9e", "#f2b8a0", 0.55, 0.16),
    "morning": (24.0, 4600.0, 3.6, "#5b8fd0", "#cfe0ee", 0.9, 0.18),
    "noon": (62.0, 5800.0, 4.5, "#3f7fd6", "#c4dcf0", 1.0, 0.18),
    "afternoon": (36.0, 5000.0, 4.0, "#4a86d0", "#d8e2e6", 0.95, 0.18),
    "dusk": (3.0, 2300.0, 1.6, "#26335f", "#f08a4a", 0.45, 0.13),
    "night": (38.0, 8000.0, 0.06, "#05070f", "#1a2238", 0.07, 0.09),
}
# weather -> (sun scale, fog density at intensity 1 (1/m), cloud cover, sky desaturation, sun softness deg)
_WEATHER: dict[str, tuple[float, float, float, float, float]] = {
    "clear": (1.0, 0.004, 0.1, 0.0, 1.0),
    "cloudy": (0.35, 0.008, 0.75, 0.45, 8.0),
    "rain": (0.18, 0.018, 0.9, 0.55, 15.0),
    "storm": (0.08, 0.025, 1.0, 0.65, 20.0),
    "snow": (0.35, 0.025, 0.85, 0.6, 12.0),
    "fog": (0.3, 0.05, 0.7, 0.6, 15.0),
    "dust": (0.55, 0.035, 0.3, 0.35, 6.0),
}
LIGHT_TIMES = ("dusk", "night", "dawn")  # when practical lights and signage carry the picture


def kelvin_to_rgb(k: float) -> RGB:
    """Linear RGB (max 1) of a black body at k kelvin (Tanner Helland's fit, then linearised)."""
    t = k / 100.0
    r = 255.0 if t <= 66 else 329.698727446 * (t - 60) ** -0.1332047592
    g = 99.4708025861 * math.log(t) - 161.1195681661 if t <= 66 else 288.1221695283 * (t - 60) ** -0.0755148492
    b = 255.0 if t >= 66 else (0.0 if t <= 19 else 138.5177312231 * math.log(t - 10) - 305.0447927307)
    srgb = np.clip(np.array([r, g, b]) / 255.0, 0.0, 1.0)
    lin = srgb_to_linear(srgb)
    return tuple(float(v) for v in lin / lin.max())  # type: ignore[return-value]


def _lin(hex_colour: str) -> np.ndarray:
    return srgb_to_linear(np.array(hex_to_srgb(hex_colour), dtype=np.float32))


def tint(anchor: np.ndarray, target: np.ndarray, amount: float, keep_lightness: bool = True) -> np.ndarray:
    """Move a linear colour toward another in OKLab; by default keep the anchor's lightness."""
    a, b = linear_to_oklab(anchor), linear_to_oklab(target)
    m = a + (b - a) * amount
    if keep_lightness:
        m[0] = a[0]
    return np.clip(oklab_to_linear(m), 0.0, None)


def _t(v: np.ndarray) -> RGB:
    return (float(v[0]), float(v[1]), float(v[2]))


@dataclass(frozen=True)
class Look:
    time_of_day: str
    weather: str
    sun_elevation: float  # degrees
    sun_azimuth: float  # degrees, 0 = from +Y (behind the set), 90 = from +X
    sun_color: RGB  # linear
    sun_strength: float
    sun_angle: float  # apparent size in degrees (soft shadows under cloud)
    sky_zenith: RGB
    sky_horizon: RGB
    sky_ground: RGB
    sky_strength: float
    cloud_cover: float
    fog_density: float  # 1/m at the ground
    fog_color: RGB
    practical: float  # 0..1: how much practical lights and signage matter (dusk/night/storm)
    accents: tuple[RGB, ...]  # linear, for signage and lamps, most chromatic first
    lamp_color: RGB
    ground_color: RGB
    ground_alt: RGB
    ground_roughness: float
    wetness: float
    snow_cover: float
    precipitation: str  # "" | "rain" | "snow" | "dust"
    precip_intensity: float
    lightning: bool
    flicker: bool
    exposure_key: float
    warmth: float
    contrast: float
    saturation: float
    brightness: float
    palette_lin: tuple[RGB, ...]
    palette_weights: tuple[float, ...]
    palette_hex: tuple[str, ...]
    environment: str = "open"  # latent v2: the medium and place around the set
    caustics: float = 0.0  # 0..1: rippling light on the ground (under water)
    stars: bool = False  # a black, starry sky (space)
    hill_color: RGB | None = None  # backdrop hills / dunes colour when the environment sets it
    frost: float = 0.0  # 0..1: snow settles on the kit's up-facing surfaces
    enclosure: str = ""  # "" (open air) | "room" | "corridor": the set is a shell with walls and a ceiling

    @property
    def night(self) -> bool:
        return self.time_of_day == "night"


def _palette_by(latent: Latent) -> tuple[list[np.ndarray], list[float], np.ndarray]:
    lin = [_lin(s.color) for s in latent.palette]
    w = [s.weight for s in latent.palette]
    lab = np.array([linear_to_oklab(c) for c in lin])
    return lin, w, lab


def make_look(latent: Latent) -> Look:
    """Derive the shot's look from the latent (deterministic; the seed plays no part)."""
    elev, kelvin, sun, zen_hex, hor_hex, ambient, key = _TIME[latent.time_of_day]
    sun_scale, fog_full, cloud_base, desat, softness = _WEATHER[latent.weather]
    wi = latent.weather_intensity
    lin, w, lab = _palette_by(latent)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    light = lab[:, 0]

    # Warmth shifts the sun's colour temperature (and the grade, later).
    kelvin = kelvin * (1.0 - 0.18 * latent.warmth)
    sun_rgb = np.array(kelvin_to_rgb(kelvin), dtype=np.float32)

    # Sky: anchors tinted toward the palette colour nearest to each in hue-and-lightness terms.
    zen, hor = _lin(zen_hex), _lin(hor_hex)

    def nearest(anchor: np.ndarray, prefer_chroma: bool) -> np.ndarray:
        a = linear_to_oklab(anchor)
        d = np.linalg.norm((lab - a) * np.array([0.5, 1.0, 1.0]), axis=1) - (0.15 * chroma if prefer_chroma else 0)
        return lin[int(np.argmin(d))]

    sky_tint = 0.55 + 0.3 * latent.saturation
    zen = tint(zen, nearest(zen, True), sky_tint)
    hor = tint(hor, nearest(hor, True), sky_tint)
    # Clouds and weather grey the sky out and flatten the gradient.
    cover = float(np.clip(cloud_base * (0.5 + 0.5 * wi) if latent.weather != "clear" else cloud_base, 0.0, 1.0))
    grey_amt = desat * (0.4 + 0.6 * wi)

    def greyed(c: np.ndarray, amount: float) -> np.ndarray:
        y = float(c @ np.array([0.2126, 0.7152, 0.0722]))
        return c * (1 - amount) + y * amount

    heavy = lin[int(np.argmax(np.asarray(w) - 0.3 * chroma))]
    zen = greyed(zen, grey_amt)
    hor = greyed(hor, grey_amt * 0.8)
    if latent.weather in ("cloudy", "rain", "storm", "snow", "fog"):
        # overcast: a flat, near-neutral sky in the palette's heaviest colour, a little lighter at the horizon
        flat = 0.45 + 0.5 * wi
        mid = zen * 0.5 + hor * 0.5
        grey = tint(np.full(3, float(mid @ np.array([0.2126, 0.7152, 0.0722])), dtype=np.float32), heavy, 0.3)
        zen = zen * (1 - flat) + grey * 0.9 * flat
        hor = hor * (1 - flat) + grey * 1.1 * flat
    if latent.weather == "storm":
        zen, hor = zen * 0.45, hor * 0.55
    if latent.weather == "dust":
        ochre = _lin("#c8a070")
        hor = tint(hor, ochre, 0.5 * (0.5 + wi), keep_lightness=False)
        zen = tint(zen, ochre, 0.3 * (0.5 + wi))

    sun_strength = sun * (1.0 - (1.0 - sun_scale) * (0.4 + 0.6 * wi)) if latent.weather != "clear" else sun
    if latent.weather == "dust":
        sun_rgb = tint(sun_rgb, _lin("#e0a060"), 0.3 * wi, keep_lightness=False)
    sun_angle = 1.0 + (softness - 1.0) * (0.4 + 0.6 * wi)

    # Fog: density from weather (and a little always: aerial perspective); colour from the horizon
    # sky lifted toward the palette's lightest neutral.
    fog_density = fog_full * (0.25 + 0.75 * wi) if latent.weather != "clear" else 0.0025
    if latent.time_of_day in ("dawn", "dusk"):
        fog_density *= 1.25
    # overcast air takes the sky's average; clear air the horizon's; both lean to the palette's
    # heaviest colour, which is what makes the air itself read as "this palette"
    overcast = {"cloudy": 0.4, "rain": 0.55, "storm": 0.6, "snow": 0.3, "fog": 0.3}.get(latent.weather, 0.0)
    air = hor * (1 - overcast) + zen * overcast
    fog_col = tint(air, heavy, 0.65)
    if latent.weather == "snow":
        fog_col = tint(fog_col, _lin("#dfe6ee"), 0.5, keep_lightness=False)

    # Practical lights: the most chromatic palette colours, pushed to full value.
    order = np.argsort(-chroma, kind="stable")
    accents = []
    for i in order[:3]:
        c = lab[i].copy()
        c[0] = max(c[0], 0.72)
        ch = float(np.hypot(c[1], c[2]))
        if ch < 0.2:  # signage reads as coloured light: lift chroma (at most 3x, greys stay near grey)
            c[1:] *= min(0.2 / max(ch, 1e-4), 3.0)
        rgb = np.clip(oklab_to_linear(c), 0.0, None)
        accents.append(_t(rgb / max(float(rgb.max()), 1e-6)))
    practical = {"night": 1.0, "dusk": 0.8, "dawn": 0.45}.get(latent.time_of_day, 0.0)
    if latent.weather == "storm":
        practical = max(practical, 0.6)
    elif latent.weather in ("rain", "fog") and practical == 0.0:
        practical = 0.25
    lamp = tint(np.array(kelvin_to_rgb(2900.0 + 1600.0 * (1 - latent.warmth) / 2)), np.array(accents[0]), 0.15)
    lamp = lamp / max(float(lamp.max()), 1e-6)

    # Ground beyond the kit's floor: a darker, less saturated palette colour.
    gi = int(np.argmin(np.abs(light - 0.42) + chroma))
    ground = tint(lin[gi], lin[gi], 0.0) * 0.8
    alt = lin[int(np.argsort(light)[0])]
    wet = wi if latent.weather in ("rain", "storm") else (0.3 * wi if latent.weather == "fog" else 0.0)
    snow = wi if latent.weather == "snow" else 0.0

    storm = latent.weather == "storm"
    precip = {"rain": "rain", "storm": "rain", "snow": "snow", "dust": "dust"}.get(latent.weather, "")
    intensity = wi if latent.weather != "storm" else min(1.0, 0.5 + wi)

    look = Look(
        time_of_day=latent.time_of_day,
        weather=latent.weather,
        sun_elevation=elev,
        sun_azimuth=0.0,  # set by the camera (the sun is placed relative to the view)
        sun_color=_t(sun_rgb),
        sun_strength=float(sun_strength),
        sun_angle=float(sun_angle),
        sky_zenith=_t(zen),
        sky_horizon=_t(hor),
        sky_ground=_t(ground * 0.6),
        sky_strength=float(ambient * (1.0 - 0.35 * grey_amt if latent.weather != "snow" else 1.0)),
        cloud_cover=cover,
        fog_density=float(fog_density),
        fog_color=_t(fog_col),
        practical=float(practical),
        accents=tuple(accents),
        lamp_color=_t(lamp),
        ground_color=_t(ground),
        ground_alt=_t(alt),
        ground_roughness=float(np.clip(latent.roughness * (1 - 0.8 * wet), 0.05, 1.0)),
        wetness=float(wet),
        snow_cover=float(snow),
        precipitation=precip if wi > 0.05 or latent.weather == "storm" else "",
        precip_intensity=float(intensity),
        lightning=latent.weather == "storm",
        flicker=practical >= 0.45 and latent.arousal + latent.tension > 0.6,
        exposure_key=float(key * (2.0 ** ((latent.brightness - 0.5) * 1.6)) * (0.7 if storm else 1.0)),
        warmth=latent.warmth,
        contrast=min(1.0, latent.contrast + (0.25 if storm else 0.0)),  # storms are dark and hard
        saturation=latent.saturation,
        brightness=latent.brightness,
        palette_lin=tuple(_t(c) for c in lin),
        palette_weights=tuple(float(x) for x in w),
        palette_hex=tuple(s.color for s in latent.palette),
    )
    return environment_look(look, latent, lin, lab) if latent.environment != "open" else look


STATION_HARDWARE = ("console", "door", "wall_panel", "pipe_run")  # space subjects that are inside a station


def enclosure_of(latent: Latent) -> str:
    """Whether the set is indoors: an interior is a room; space whose subjects are station hardware
    (consoles, doors, panels, pipes) is a corridor of the station (anything else in space stays outdoors)."""
    if latent.environment == "interior":
        return "room"
    if latent.environment == "space" and any(name in STATION_HARDWARE for name, _ in latent.subjects):
        return "corridor"
    return ""


def environment_look(look: Look, latent: Latent, lin: list[np.ndarray], lab: np.ndarray) -> Look:
    """The environment's medium and place over the time-of-day look: each keeps the palette's say
    (anchor colours are tinted toward the nearest palette colour) but sets sky, air, ground and particles."""
    env = latent.environment
    chroma = np.hypot(lab[:, 1], lab[:, 2])

    def toward(anchor: str, amount: float = 0.35) -> RGB:
        a = _lin(anchor)
        d = np.linalg.norm(lab - linear_to_oklab(a), axis=1) - 0.1 * chroma
        return _t(tint(a, lin[int(np.argmin(d))], amount))

    ch: dict[str, object] = {"environment": env}
    if env == "underwater":
        deep, shallow = toward("#06283a"), toward("#2f8f9a")
        ch.update(sky_zenith=deep, sky_horizon=shallow, sky_ground=deep, sky_strength=0.5 * look.sky_strength + 0.2,
                  fog_density=0.045, fog_color=toward("#1d6f7d", 0.2), cloud_cover=0.0,
                  sun_color=_t(np.array([0.55, 0.9, 1.0])), sun_strength=look.sun_strength * 0.55, sun_angle=6.0,
                  ground_color=toward("#8f8a6a", 0.3), ground_alt=toward("#3f5f58", 0.3), hill_color=toward("#1f4f55"),
                  wetness=0.0, snow_cover=0.0, precipitation="snow", precip_intensity=0.2, lightning=False,
                  caustics=1.0, warmth=min(look.warmth, -0.4), practical=max(look.practical, 0.5))
    elif env == "snow":
        ch.update(snow_cover=max(look.snow_cover, 0.9), frost=0.85, precipitation="snow",
                  precip_intensity=max(look.precip_intensity if look.precipitation == "snow" else 0.0, 0.55),
                  fog_color=_t(tint(np.asarray(look.fog_color), _lin("#dfe6ee"), 0.5, keep_lightness=False)),
                  fog_density=max(look.fog_density, 0.012), hill_color=toward("#c9d3dd", 0.15), wetness=0.0)
    elif env == "desert":
        sand = toward("#d2b48c", 0.45)
        ch.update(ground_color=sand, ground_alt=toward("#b08a5a", 0.45), hill_color=toward("#c8a070", 0.45),
                  sky_horizon=_t(tint(np.asarray(look.sky_horizon), _lin("#e8c89a"), 0.45, keep_lightness=False)),
                  fog_color=toward("#d9b98c", 0.3), fog_density=max(look.fog_density, 0.008),
                  precipitation=look.precipitation or "dust", precip_intensity=max(look.precip_intensity, 0.25),
                  warmth=max(look.warmth, 0.3), wetness=0.0, snow_cover=0.0, ground_roughness=0.95)
    elif env == "forest":
        ch.update(ground_color=toward("#3d4a2a", 0.6), ground_alt=toward("#5a4630", 0.6),
                  hill_color=toward("#1f3a22", 0.6),
                  fog_color=_t(tint(np.asarray(look.fog_color), _lin("#8fae8a"), 0.35)),
                  fog_density=max(look.fog_density, 0.02), sun_strength=look.sun_strength * 0.7,
                  sky_strength=look.sky_strength * 0.8)
    elif env == "interior":
        dark = toward("#1a1410", 0.7)
        ch.update(sky_zenith=dark, sky_horizon=toward("#2a2018", 0.7), sky_ground=dark, sky_strength=0.15,
                  cloud_cover=0.0, sun_strength=look.sun_strength * 0.5, sun_angle=2.0, fog_density=0.01,
                  fog_color=toward("#3a2c20", 0.7), practical=1.0, precipitation="", wetness=0.0, snow_cover=0.0,
                  ground_color=toward("#4a3a2c", 0.7), hill_color=toward("#2a2018", 0.7),
                  exposure_key=look.exposure_key * 0.8, lightning=False, enclosure="room")
    elif env == "space" and enclosure_of(latent) == "corridor":  # inside the station: its own lights carry it
        black = (0.002, 0.002, 0.004)
        ch.update(sky_zenith=black, sky_horizon=black, sky_ground=black, sky_strength=0.05, cloud_cover=0.0,
                  fog_density=0.0, sun_strength=look.sun_strength * 0.5, sun_angle=0.5, stars=True, precipitation="",
                  wetness=0.0, snow_cover=0.0, lightning=False, practical=1.0, enclosure="corridor",
                  ground_color=toward("#4a4c52", 0.3))
    elif env == "space":
        black = (0.002, 0.002, 0.004)
        ch.update(sky_zenith=black, sky_horizon=black, sky_ground=black, sky_strength=0.05, cloud_cover=0.0,
                  fog_density=0.0, sun_strength=max(look.sun_strength, 4.0), sun_angle=0.5,
                  sun_color=_t(np.array([1.0, 0.97, 0.92])), stars=True, precipitation="", wetness=0.0,
                  snow_cover=0.0, ground_color=toward("#6e6c6a", 0.25), ground_alt=toward("#3e3c3a", 0.25),
                  hill_color=toward("#55524f", 0.2), lightning=False, practical=max(look.practical, 0.6))
    medium = {"underwater": "#1d6f7d", "snow": "#dfe6ee", "desert": "#d2b48c", "forest": "#3d5a2a"}.get(env)
    if medium is not None:  # the grade's key colour is the medium's nearest palette colour
        near = int(np.argmin(np.linalg.norm(lab - linear_to_oklab(_lin(medium)), axis=1)))
        w = np.asarray(look.palette_weights) * 0.5
        w[near] += 0.5
        ch["palette_weights"] = tuple(float(x) for x in w)
    return dataclasses.replace(look, **ch)  # type: ignore[arg-type]
