"""Cameras: a pinhole model shared by the renderer (Blender) and the numpy reprojection, the
composition rules that place it, and the moves of the clip.

World frame is Blender's: Z up, metres. A camera with yaw 0 looks along +Y. Image coordinates are
pixel edges from the top-left corner (x right, y down), as in Pillow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from engine_server.latent import Latent

SENSOR_W = 36.0  # mm, sensor fit horizontal (Blender's default)


@dataclass(frozen=True)
class Camera:
    position: tuple[float, float, float]
    yaw: float  # degrees; 0 looks along +Y, positive turns toward +X
    pitch: float  # degrees; positive looks up
    roll: float = 0.0  # degrees; positive tilts the horizon counter-clockwise
    lens: float = 35.0  # mm on a 36 mm wide sensor

    @property
    def tan_half_w(self) -> float:
        return SENSOR_W / 2.0 / self.lens

    def tan_half_h(self, aspect: float) -> float:
        return self.tan_half_w / aspect

    def forward(self) -> np.ndarray:
        y, p = math.radians(self.yaw), math.radians(self.pitch)
        return np.array([math.sin(y) * math.cos(p), math.cos(y) * math.cos(p), math.sin(p)])

    def rotation(self) -> np.ndarray:
        """3x3 whose columns are the camera's right, up and back axes in world space (Blender's
        camera looks down its local -Z with +Y up, so this is its world rotation)."""
        f = self.forward()
        right = np.cross(f, [0.0, 0.0, 1.0])
        n = np.linalg.norm(right)
        right = right / n if n > 1e-9 else np.array([1.0, 0.0, 0.0])
        up = np.cross(right, f)
        r = math.radians(self.roll)
        right, up = right * math.cos(r) + up * math.sin(r), up * math.cos(r) - right * math.sin(r)
        return np.stack([right, up, -f], axis=1)

    def matrix_world(self) -> list[list[float]]:
        m = np.eye(4)
        m[:3, :3] = self.rotation()
        m[:3, 3] = self.position
        return m.tolist()

    def widened(self, scale: float) -> Camera:
        """The same camera with a field of view `scale` times wider (tangent), for overscan."""
        return replace(self, lens=self.lens / scale)

    def project(self, pts: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World points (..., 3) -> pixel x, pixel y, planar depth (positive in front)."""
        rot = self.rotation()
        c = (np.asarray(pts, dtype=np.float64) - np.asarray(self.position)) @ rot  # camera coords
        z = -c[..., 2]
        zs = np.where(np.abs(z) < 1e-9, 1e-9, z)
        aspect = width / height
        xn = c[..., 0] / (zs * self.tan_half_w)
        yn = c[..., 1] / (zs * self.tan_half_h(aspect))
        return (xn + 1.0) * 0.5 * width, (1.0 - yn) * 0.5 * height, z

    def rays(self, px: np.ndarray, py: np.ndarray, width: int, height: int) -> np.ndarray:
        """World-space ray directions with unit planar depth through pixel positions (edges convention)."""
        aspect = width / height
        xn = np.asarray(px, dtype=np.float64) / width * 2.0 - 1.0
        yn = 1.0 - np.asarray(py, dtype=np.float64) / height * 2.0
        local = np.stack([xn * self.tan_half_w, yn * self.tan_half_h(aspect), -np.ones_like(xn)], axis=-1)
        return local @ self.rotation().T


@dataclass(frozen=True)
class Framing:
    """Composition choices that the layout and the camera share."""

    camera: Camera
    aspect: float
    horizon: float  # fraction of the frame height from the bottom
    hero_u: float  # where the hero stands across the frame (0 = left edge, 1 = right)
    back_depth: float  # distance of the back wall row, metres

    def ground_point(self, u: float, depth: float) -> tuple[float, float]:
        """World (x, y) on the ground at horizontal screen position u and forward distance depth."""
        cam = self.camera
        half = depth * cam.tan_half_w
        f = cam.forward()
        fx, fy = f[0], f[1]
        n = math.hypot(fx, fy)
        fx, fy = fx / n, fy / n
        rx, ry = fy, -fx  # right of the horizontal forward
        off = (2.0 * u - 1.0) * half
        return (cam.position[0] + fx * depth + rx * off, cam.position[1] + fy * depth + ry * off)


def choose_framing(latent: Latent, aspect: float, wall_height: float, rng: np.random.Generator,
                   sketch_horizon: float | None = None, sketch_hero_u: float | None = None,
                   hero_height: float = 0.0) -> Framing:
    """Place the camera by composition rules.

    Lens and height follow mood (tense: wider and lower, calm and happy: longer and higher); the
    horizon sits on a third (low when the sky carries the picture: dawn, dusk, storms, clear skies)
    unless a sketch says where, raised if needed so the hero's feet stay in frame (a high camera looks
    down); the hero stands on a vertical third; the back wall row stands where it fills about a third
    of the frame and its top stays low, and far enough back that the hero's top fits too. A small hero
    brings the camera down and tilts it a little toward the ground; boats and docks put it on the quay,
    looking down onto the water; a station corridor is seen straight down its length.
    """
    from engine_server.decoders.scene.layout import AFLOAT
    from engine_server.decoders.scene.look import enclosure_of

    enclosure = enclosure_of(latent)
    # boats and docks: the camera stands on the quay and looks down onto the water, so the water reads
    afloat = latent.environment in ("open", "snow", "desert", "forest") and any(n in AFLOAT for n, _ in latent.subjects)
    lens = float(np.clip(40.0 - 14.0 * latent.tension + 6.0 * (0.5 - latent.arousal), 24.0, 50.0))
    height = 1.6
    if latent.tension > 0.6:
        height = 1.05
    elif latent.valence > 0.4 and latent.arousal < 0.4:
        height = 2.4
    small = 0.0 < hero_height < 1.5 and not afloat
    if small:  # a small hero (a tombstone, a barrel): the camera comes down to it
        height = min(height, max(0.9, 0.6 + 0.5 * hero_height))
    elif afloat:
        height = 2.6
    dramatic_sky = latent.time_of_day in ("dawn", "dusk") or latent.weather in ("storm", "clear")
    horizon = sketch_horizon if sketch_horizon is not None else (0.36 if dramatic_sky and not enclosure else 0.42)
    if sketch_horizon is None:
        if enclosure == "corridor":
            horizon = 0.5  # one-point perspective: the corridor's lines meet at the centre of the frame
        elif afloat:
            horizon = 0.62
        elif small:
            horizon = max(horizon, 0.48)  # tilted down a little, so the ground (and the hero) comes near
    horizon = float(np.clip(horizon, 0.12, 0.88))
    tan_half_w = SENSOR_W / 2.0 / lens
    tan_half_h = tan_half_w / aspect
    roll = 0.0
    if latent.tension > 0.7 and enclosure != "corridor":
        roll = float((3.0 + 3.0 * (latent.tension - 0.7) / 0.3) * (1 if rng.random() < 0.5 else -1))
    hero_u = sketch_hero_u if sketch_hero_u is not None else (1 / 3 if rng.random() < 0.5 else 2 / 3)
    back = 10.0
    for _ in range(3):
        # the wall row fills about a third of the frame's height, and rises at most `room` above the horizon
        room = float(np.clip((1.0 - horizon) * 0.3, 0.08, 0.25))
        back = max(max(wall_height, 2.0) / (0.34 * 2.0 * tan_half_h),
                   (max(wall_height, 2.0) - height) / (room * 2.0 * tan_half_h))
        # the hero stands at up to 0.75 of the back depth; its top must stay well inside the frame
        hero_min = max(hero_height - height, 0.0) / (0.7 * (1.0 - horizon) * 2.0 * tan_half_h)
        back = float(np.clip(max(back, hero_min / 0.75), 10.0, 40.0))
        if enclosure == "corridor":
            back = max(back, 24.0)  # a long run of corridor to the window at its end
            break
        # ... and its feet too: a high camera with a low horizon would see nothing but sky and walls
        if sketch_horizon is not None:
            break
        # feet at depression tan(phi) = base appear at NDC y ~ -(base + tan(pitch)) / T; keeping them
        # 7.5 % of the frame above its bottom edge needs horizon >= 0.075 + base / (2 T)
        base = height / (0.55 * back)
        need = float(np.clip(0.075 + base / (2.0 * tan_half_h), 0.12, 0.8))
        if need <= horizon + 1e-3:
            break
        horizon = need
    pitch = math.degrees(math.atan((0.5 - horizon) * 2.0 * tan_half_h))
    cam = Camera((0.0, 0.0, height), 0.0, pitch, roll, lens)
    return Framing(cam, aspect, horizon, float(hero_u), back)


# ------------------------------------------------------------------------------------------ moves

MOVES = ("static", "dolly", "orbit", "crane", "handheld")


@dataclass(frozen=True)
class Move:
    """A camera move over the clip: `at(t)` for t in 0..1 gives the camera."""

    kind: str
    base: Camera
    pivot: tuple[float, float, float]
    amount: float  # metres (dolly, crane), degrees (orbit), shake scale (handheld)
    ease: float  # 0 = linear, 1 = smoothstep
    phases: tuple[float, ...]

    def _s(self, t: float) -> float:
        smooth = t * t * (3 - 2 * t)
        return (1 - self.ease) * t + self.ease * smooth - 0.5  # -0.5..0.5, base framing at mid-clip

    def at(self, t: float) -> Camera:
        b = self.base
        s = self._s(float(np.clip(t, 0.0, 1.0)))
        pos = np.asarray(b.position, dtype=np.float64)
        if self.kind == "dolly":
            f = b.forward()
            fh = np.array([f[0], f[1], 0.0]) / max(math.hypot(f[0], f[1]), 1e-9)
            return replace(b, position=tuple(pos + fh * self.amount * s))  # type: ignore[arg-type]
        if self.kind == "orbit":
            piv = np.asarray(self.pivot)
            ang = math.radians(self.amount * s)
            rel = pos - piv
            c, sn = math.cos(ang), math.sin(ang)
            new = piv + np.array([rel[0] * c - rel[1] * sn, rel[0] * sn + rel[1] * c, rel[2]])
            return replace(b, position=tuple(new), yaw=b.yaw - math.degrees(ang))  # type: ignore[arg-type]
        if self.kind == "crane":
            new = pos + np.array([0.0, 0.0, self.amount * s])
            piv = np.asarray(self.pivot)
            # keep the pivot at the same height on screen: tilt by the change in elevation angle
            d = math.hypot(piv[0] - pos[0], piv[1] - pos[1])
            before = math.degrees(math.atan2(piv[2] - pos[2], d))
            after = math.degrees(math.atan2(piv[2] - new[2], d))
            return replace(b, position=tuple(new), pitch=b.pitch + (after - before))  # type: ignore[arg-type]
        if self.kind == "handheld":
            tt = float(np.clip(t, 0.0, 1.0))
            p = self.phases

            def wob(i: int, freq: float) -> float:
                return math.sin(2 * math.pi * (freq * tt * 6.0 + p[i])) + 0.5 * math.sin(
                    2 * math.pi * (freq * 2.3 * tt * 6.0 + p[i + 1])
                )

            a = self.amount
            f = b.forward()
            fh = np.array([f[0], f[1], 0.0]) / max(math.hypot(f[0], f[1]), 1e-9)
            drift = fh * 0.35 * s
            jitter = np.array([wob(0, 0.37), 0.0, wob(2, 0.29)]) * 0.03 * a
            return replace(
                b,
                position=tuple(pos + drift + jitter),  # type: ignore[arg-type]
                yaw=b.yaw + wob(4, 0.31) * 0.5 * a,
                pitch=b.pitch + wob(6, 0.43) * 0.35 * a,
                roll=b.roll + wob(8, 0.23) * 0.3 * a,
            )
        return b


def make_move(kind: str, base: Camera, pivot: Sequence[float], arousal: float, rng: np.random.Generator) -> Move:
    """Calm latents get slow, eased moves; tense ones faster, longer, more linear moves."""
    a = float(np.clip(arousal, 0.0, 1.0))
    amount = {
        "static": 0.0,
        "dolly": 0.8 + 3.2 * a,  # metres over the clip
        "orbit": (6.0 + 16.0 * a) * (1 if rng.random() < 0.5 else -1),  # degrees
        "crane": 0.8 + 2.2 * a,
        "handheld": 0.6 + 2.0 * a,
    }[kind]
    ease = 1.0 - 0.7 * a
    phases = tuple(float(x) for x in rng.random(10))
    return Move(kind, base, (float(pivot[0]), float(pivot[1]), float(pivot[2])), float(amount), float(ease), phases)
