"""Mix and master: fold loop tails, balance the stems, then ONE common gain for stems and mix.

The mix is the plain sum of the stems. Loudness normalisation and peak limiting compute a single gain
curve from the mix and apply it to every stem and to the mix alike, so the delivered stems still sum
to the delivered mix (to 24-bit rounding). Loops fold their rendered tail back onto their start and
limit circularly, so the last sample flows into the first with no click, no cut release and no gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage, signal

SAMPLE_RATE = 48000
LOOP_TARGET_LUFS = -16.0  # games and streaming-style playback
CUE_TARGET_LUFS = -18.0  # a little more headroom for a cue's dynamic arc under picture
CEILING_DBFS = -1.0  # sample peak after limiting
MAX_LIMITING_DB = 6.0  # beyond this the target loudness is given up rather than squash the music
FADE_S = 0.3  # a cue's last moment fades so the file never ends mid-reverb with a step
BALANCE = {"lead": 0.0, "harmony": -3.0, "bass": -2.5, "drums": -1.5, "texture": -6.0}
STYLE_BALANCE = {
    "ambient": {"harmony": 0.0, "lead": -3.0, "texture": -4.0},
    "piano": {"bass": -4.0, "harmony": -2.5},
    "choral": {"harmony": -1.5},
    "rock": {"drums": 0.0, "harmony": -1.5},
    "electronic": {"drums": 0.0, "bass": -1.5},
    "synthwave": {"drums": -0.5, "bass": -2.0},
    "cinematic_hybrid": {"drums": -0.5, "harmony": -2.0, "texture": -4.0},
    "orchestral": {"harmony": -4.0, "texture": -1.0},
    "lofi": {"drums": -2.5, "texture": -7.0},
}
MAX_BALANCE_DB = 12.0


@dataclass(frozen=True)
class Master:
    stems: dict[str, np.ndarray]  # [n, 2] float32, after the balance gain and the common gain curve
    mix: np.ndarray
    lufs: float  # integrated loudness of the delivered mix (fast BS.1770 meter)
    target_lufs: float
    peak_dbfs: float
    limiting_db: float  # deepest gain reduction the limiter applied
    balance_db: dict[str, float]


def fold_tail(x: np.ndarray, period: int) -> np.ndarray:
    """Wrap everything after `period` frames back onto the start (a loop's steady state)."""
    y = x[:period].copy()
    for start in range(period, len(x), period):
        chunk = x[start : start + period]
        y[: len(chunk)] += chunk
    return y


@lru_cache(maxsize=4)
def _k_filter(rate: int) -> np.ndarray:
    """BS.1770 K-weighting as second-order sections (pyloudnorm's own coefficients for this rate)."""
    import pyloudnorm

    meter = pyloudnorm.Meter(rate)
    sos = [np.concatenate([f.b, f.a]) for f in meter._filters.values()]
    return np.array(sos)


def k_weighted(x: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """The signal through the BS.1770 K-weighting filter (float32, channels last)."""
    return signal.sosfilt(_k_filter(rate).astype(np.float32), np.asarray(x, dtype=np.float32), axis=0)


def gated_loudness(power: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """Integrated loudness from per-sample K-weighted power summed over channels (BS.1770-4 gating:
    400 ms blocks with 75 % overlap, −70 LUFS absolute and −10 LU relative gates)."""
    hop = int(0.1 * rate)
    n_hops = len(power) // hop
    if n_hops < 4:
        return float("-inf")
    hops = power[: n_hops * hop].reshape(n_hops, hop).sum(axis=1, dtype=np.float64)
    z = (hops[:-3] + hops[1:-2] + hops[2:-1] + hops[3:]) / (4 * hop)  # 400 ms blocks every 100 ms
    with np.errstate(divide="ignore"):
        lk = -0.691 + 10 * np.log10(np.maximum(z, 0.0))
    z = z[lk > -70.0]
    if z.size == 0:
        return float("-inf")
    rel = -0.691 + 10 * np.log10(z.mean()) - 10.0
    with np.errstate(divide="ignore"):
        z = z[-0.691 + 10 * np.log10(z) > rel]
    return float(-0.691 + 10 * np.log10(z.mean())) if z.size else float("-inf")


def integrated_lufs(x: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """ITU-R BS.1770-4 integrated loudness of a [n, channels] (or mono) signal.

    A vectorised twin of pyloudnorm's meter (the tests hold it to pyloudnorm within 0.1 LU), fast
    enough to balance every stem of a minute-long cue in a few tens of milliseconds.
    """
    y = k_weighted(x, rate)
    return gated_loudness((y * y).sum(axis=1) if y.ndim == 2 else y * y, rate)


def balance_gains(loudness: Mapping[str, float], ensemble: str) -> dict[str, float]:
    """Per-stem gains (dB) that bring each role to its level relative to the lead (SoundFont presets
    differ by 20 dB; this makes a square lead and a string pad sit where an engineer would put them)."""
    targets = {**BALANCE, **STYLE_BALANCE.get(ensemble, {})}
    if "drums" not in loudness:  # without a kit the texture carries the pulse: bring it forward
        targets["texture"] = max(targets["texture"], 0.0)
        targets["harmony"] = min(targets["harmony"], -4.0)
    loud = dict(loudness)
    ref_name = "lead" if np.isfinite(loud.get("lead", -np.inf)) else None
    ref = loud[ref_name] if ref_name else max((v for v in loud.values() if np.isfinite(v)), default=-30.0)
    gains = {}
    for name, value in loud.items():
        if name not in targets or not np.isfinite(value):
            continue
        gains[name] = float(np.clip(ref + targets[name] - value, -MAX_BALANCE_DB, MAX_BALANCE_DB))
    others = list(gains.values())
    for name in loud:
        gains.setdefault(name, float(np.mean(others)) if others else 0.0)
    return gains


def _limiter_envelope(peak: np.ndarray, ceiling: float, circular: bool) -> np.ndarray:
    """Smooth gain ≤ 1 that keeps peak × gain ≤ ceiling (min filter, then an equal-width average:
    the average of window minima can never exceed the instantaneous need)."""
    need = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
    if need.min() >= 1.0:
        return np.ones(len(peak), dtype=np.float32)
    width = int(0.03 * SAMPLE_RATE) | 1
    mode = "wrap" if circular else "nearest"
    held = ndimage.minimum_filter1d(need, size=width, mode=mode)
    return np.minimum(ndimage.uniform_filter1d(held, size=width, mode=mode), need)


def master(stems: Mapping[str, np.ndarray], ensemble: str, loop: bool, target_lufs: float | None = None) -> Master:
    """Balance, sum, normalise and limit. The mix is K-weighted once; the gain curve is slow enough to
    commute with the filter, so each trial gain is measured without filtering again."""
    names = list(stems)
    loud: dict[str, float] = {}
    for n in names:
        w = k_weighted(stems[n])
        loud[n] = gated_loudness(np.einsum("ij,ij->i", w, w))
    gains = balance_gains(loud, ensemble)
    lin = {n: np.float32(10 ** (gains[n] / 20)) for n in names}
    scaled: dict[str, np.ndarray] = {}
    mix = np.zeros(np.shape(stems[names[0]]), dtype=np.float32)
    for n in names:
        scaled[n] = np.multiply(stems[n], lin[n], dtype=np.float32)
        mix += scaled[n]
    kmix = k_weighted(mix)
    kpower = np.einsum("ij,ij->i", kmix, kmix)
    del kmix
    n_frames = len(mix)
    target = target_lufs if target_lufs is not None else LOOP_TARGET_LUFS if loop else CUE_TARGET_LUFS
    ceiling = 10 ** (CEILING_DBFS / 20)
    fade = np.ones(n_frames, dtype=np.float32)
    if not loop:
        k = min(int(FADE_S * SAMPLE_RATE), n_frames)
        fade[n_frames - k :] = np.cos(np.linspace(0, np.pi / 2, k)) ** 2
    loudness = gated_loudness(kpower * fade * fade)
    gain = 10 ** ((target - loudness) / 20) if np.isfinite(loudness) else 1.0
    peak = np.maximum(np.abs(mix[:, 0]), np.abs(mix[:, 1]))
    envelope = fade
    depth = 0.0
    for _ in range(4):
        lim = _limiter_envelope(peak * (gain * fade), ceiling, circular=loop)
        envelope = (gain * fade * lim).astype(np.float32)
        got = gated_loudness(kpower * envelope * envelope)
        depth = float(-20 * np.log10(max(float(lim.min()), 1e-9)))
        if not np.isfinite(got) or abs(got - target) < 0.1 or depth >= MAX_LIMITING_DB:
            break
        gain *= 10 ** ((target - got) / 20)
    env2 = envelope[:, None]
    for n in names:
        scaled[n] *= env2
    mix *= env2
    out_stems, out_mix = scaled, mix
    top = float(np.abs(out_mix).max()) if n_frames else 0.0
    return Master(out_stems, out_mix, gated_loudness(kpower * envelope * envelope), target,
                  float(20 * np.log10(max(top, 1e-12))), depth, gains)
