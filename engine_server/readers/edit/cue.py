"""Compose to picture: which cuts are hit and how, where the sections change, and the tempo map.

- **Cut strength** (0..1): how much the picture changes at a cut: 0.6 × the OKLab distance between the
  shots' mean colours (0.25 = all the way) + 0.4 × the change of energy (arousal) across it. Without
  measured colour (an EDL) the energy change and a change of clip name decide.
- **Major cuts**: the strongest cuts, strongest first, at least max(4 s, length / 12) apart and from
  the ends, at most one per 8 s, each at least half as strong as the strongest. Sections change there.
- **Tempo map**: between major cuts, the whole number of beats whose tempo is nearest the latent's
  tempo (and the previous section's), within −12 % / +14 %, preferring counts that put the cut on a
  downbeat (a bar line); when no tempo in range fits, that cut is not a section boundary. So bar lines
  (or at least beats) land exactly on the major cuts.
- **Hits**: by default every cut gets one: a *swell* into a major cut where the energy rises by 0.15
  or more (with at least 1.5 s to swell in), a *drop* where it falls by 0.2 or more into calm
  (arousal < 0.45), an *accent* elsewhere. `major` hits the major cuts only, `none` none, or a list of
  timeline frames. A cut in the last 0.5 s, or within 100 ms of the previous hit, cannot be heard as its
  own hit and is listed as skipped with the reason.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine_server.errors import InvalidArgument, quote
from engine_server.oklab import hex_to_oklab
from engine_server.readers.edit.timeline import Edit

BEATS_PER_BAR = {"4/4": 4, "3/4": 3, "6/8": 3}
HIT_END_MARGIN_S = 0.5
MIN_HIT_GAP_S = 0.1
TEMPO_LO, TEMPO_HI = 0.88, 1.14
HIT_MODES = ("all", "major", "none")
MAX_HIT_FRAMES = 200


def parse_hits(value: Any) -> str | tuple[int, ...]:
    """`all` | `major` | `none` | "F1,F2,..." (timeline frames from the edit's first frame)."""
    if value in (None, ""):
        return "all"
    if isinstance(value, str) and value.strip().lower() in HIT_MODES:
        return value.strip().lower()
    items = value.split(",") if isinstance(value, str) else value
    try:
        frames = tuple(sorted({int(str(x).strip()) for x in items}))
    except (TypeError, ValueError):
        raise InvalidArgument(f"hits must be all, major, none or a list of frame numbers like 48,120,300; "
                              f"got {quote(value)}.") from None
    if not frames or len(frames) > MAX_HIT_FRAMES:
        raise InvalidArgument(f"Give 1 to {MAX_HIT_FRAMES} hit frames; got {len(frames)}.")
    return frames


@dataclass(frozen=True)
class CuePlan:
    hits: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    majors: list[int]  # shot indices starting a section
    tempo: list[tuple[float, float]]  # (time_s, bpm)
    sections: list[dict[str, Any]]
    energy: list[dict[str, float]]
    alignment: list[dict[str, Any]]  # per major cut: beat, on a bar line?


def _mean_lab(palette: tuple[tuple[str, float], ...]) -> np.ndarray | None:
    if not palette:
        return None
    lab = np.array([hex_to_oklab(c) for c, _ in palette], dtype=np.float64)
    w = np.array([s for _, s in palette])
    return np.asarray((lab * w[:, None]).sum(0) / w.sum())


def cut_strengths(edit: Edit, curve: list[dict[str, Any]]) -> list[float]:
    """Strength of the cut into each shot (index 0 = the first shot, no cut: 0)."""
    out = [0.0]
    for k in range(1, len(edit.shots)):
        de = abs(curve[k]["arousal"] - curve[k - 1]["arousal"])
        a, b = _mean_lab(edit.shots[k - 1].palette), _mean_lab(edit.shots[k].palette)
        if a is not None and b is not None:
            colour = min(float(np.linalg.norm(a - b)) / 0.25, 1.0)
            out.append(round(0.6 * colour + 0.4 * min(de / 0.4, 1.0), 4))
        else:
            renamed = 0.3 if edit.shots[k].name != edit.shots[k - 1].name else 0.0
            out.append(round(min(0.4 + renamed + de / 0.4 * 0.5, 1.0), 4))
    return out


def major_cuts(edit: Edit, strengths: list[float]) -> list[int]:
    duration = float(edit.duration_s)
    gap = max(4.0, duration / 12.0)
    limit = max(1, int(duration // 8))
    top = max(strengths[1:], default=0.0)
    chosen: list[int] = []
    for k in sorted(range(1, len(strengths)), key=lambda i: (-strengths[i], i)):
        t = float(edit.seconds(edit.shots[k].start))
        if strengths[k] < 0.5 * top or len(chosen) >= limit:
            break
        if t < gap * 0.5 or duration - t < gap * 0.5:
            continue
        if all(abs(t - float(edit.seconds(edit.shots[j].start))) >= gap for j in chosen):
            chosen.append(k)
    return sorted(chosen)


def fit_tempo(anchors: list[float], duration: float, base_bpm: float, bpb: int
              ) -> tuple[list[tuple[float, float]], list[dict[str, Any]]]:
    """Tempo steps [(time_s, bpm)] putting bar lines (else beats) on the anchor times, and how each fared."""
    steps: list[tuple[float, float]] = []
    report: list[dict[str, Any]] = []
    t0, prev, beat = 0.0, base_bpm, 0
    lo, hi = max(base_bpm * TEMPO_LO, 40.0), min(base_bpm * TEMPO_HI, 220.0)
    for t in anchors:
        length = t - t0
        best: tuple[float, float, int] | None = None  # (cost, bpm, beats)
        for n in range(max(math.ceil(lo * length / 60), 1), math.floor(hi * length / 60) + 1):
            bpm = n * 60.0 / length
            cost = abs(bpm - prev) / prev + 0.5 * abs(bpm - base_bpm) / base_bpm
            if (beat + n) % bpb:
                cost += 1.0  # off the downbeat: only when no whole number of bars fits
            if best is None or cost < best[0]:
                best = (cost, bpm, n)
        if best is None:
            report.append({"time_s": round(t, 6), "on": "off-grid", "why": "no tempo in range fits this section"})
            continue
        _, bpm, n = best
        steps.append((t0, bpm))
        beat += n
        report.append({"time_s": round(t, 6), "on": "downbeat" if beat % bpb == 0 else "beat",
                       "beat": float(beat), "bar": beat // bpb + 1, "bpm": round(bpm, 3)})
        t0, prev = t, bpm
    steps.append((t0, prev))
    # merge steps of equal tempo
    merged: list[tuple[float, float]] = []
    for t, bpm in steps:
        if merged and abs(merged[-1][1] - round(bpm, 6)) < 1e-9:
            continue
        merged.append((round(t, 9), round(bpm, 6)))
    return merged, report


def _role(i: int, n: int, energy: float, energies: list[float]) -> str:
    if n >= 3 and energy >= max(energies) - 1e-9:
        return "climax"
    if i == 0 and n >= 3 and energy < 0.5:  # an edit that opens on action starts with its statement
        return "intro"
    if i == n - 1 and n >= 3 and energy < 0.5:
        return "outro"
    if i == 0:
        return "statement"
    return "contrast" if energy > energies[i - 1] else "return"


def plan_cue(edit: Edit, curve: list[dict[str, Any]], hits_mode: str | tuple[int, ...], base_bpm: float,
             meter: str) -> CuePlan:
    duration = float(edit.duration_s)
    strengths = cut_strengths(edit, curve)
    majors = major_cuts(edit, strengths)
    bpb = BEATS_PER_BAR[meter]
    anchors = [float(edit.seconds(edit.shots[k].start)) for k in majors]
    tempo, alignment = fit_tempo(anchors, duration, base_bpm, bpb)
    kept = [k for k, a in zip(majors, alignment, strict=True) if a["on"] != "off-grid"]
    for fit, k in zip(alignment, majors, strict=True):
        fit["cut_frame"] = edit.shots[k].start
    # sections: the major cuts that landed on the grid
    edges = [0, *kept, len(edit.shots)]
    energies = []
    for a, b in itertools.pairwise(edges):
        w = np.array([c["seconds"] for c in curve[a:b]])
        energies.append(float((np.array([c["arousal"] for c in curve[a:b]]) * w).sum() / w.sum()))
    sections = [{"time_s": round(float(edit.seconds(edit.shots[a].start)), 6), "shot": a,
                 "energy": round(float(np.clip(0.15 + 0.85 * e, 0, 1)), 4),
                 "role": _role(i, len(energies), e, energies)} for i, (a, e) in enumerate(zip(edges, energies,
                                                                                               strict=False))]
    energy = [{"time_s": c["start_s"], "energy": round(float(np.clip(0.15 + 0.85 * c["arousal"], 0, 1)), 4)}
              for c in curve]
    hits, skipped = _hits(edit, curve, strengths, set(majors), hits_mode)
    return CuePlan(hits, skipped, kept, tempo, sections, energy, alignment)


def _hits(edit: Edit, curve: list[dict[str, Any]], strengths: list[float], majors: set[int],
          mode: str | tuple[int, ...]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    duration = float(edit.duration_s)
    cut_at = {s.start: k for k, s in enumerate(edit.shots) if k > 0}
    wanted: list[tuple[int, int | None]] = []  # (frame, shot index of the cut it serves)
    if mode == "all":
        wanted = [(s.start, k) for k, s in enumerate(edit.shots) if k > 0]
    elif mode == "major":
        wanted = [(edit.shots[k].start, k) for k in sorted(majors)]
    elif isinstance(mode, tuple):
        for f in mode:
            if not 0 < f < edit.frames:
                raise InvalidArgument(f"Hit frame {f} lies outside the edit (frames 1 to {edit.frames - 1}).")
            near = [k for d in (0, -1, 1) if (k := cut_at.get(f + d)) is not None]
            wanted.append((f, near[0] if near else None))
    hits: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    last_t = -1.0
    for frame, k in wanted:
        t = float(edit.seconds(frame))
        base = {"frame": frame, "record_frame": edit.start_frame + frame, "timecode": edit.timecode(frame),
                "time_s": round(t, 6)}
        if duration - t < HIT_END_MARGIN_S:
            skipped.append({**base, "why": f"within {HIT_END_MARGIN_S:g} s of the end"})
            continue
        if t - last_t < MIN_HIT_GAP_S:
            skipped.append({**base, "why": f"within {MIN_HIT_GAP_S * 1000:g} ms of the previous hit"})
            continue
        kind = "accent"
        if k is not None and k in majors:
            rise = curve[k]["arousal"] - curve[k - 1]["arousal"]
            if rise >= 0.15 and t - max(last_t, 0.0) >= 1.5:
                kind = "swell"
            elif rise <= -0.2 and curve[k]["arousal"] < 0.45:  # a real calming: not a dip inside action
                kind = "drop"
        cut = None if k is None else {"shot": k, "frame": edit.shots[k].start, "strength": strengths[k],
                                      "major": k in majors, "from": edit.shots[k - 1].name, "to": edit.shots[k].name}
        hits.append({"kind": kind, **base, "cut": cut})
        last_t = t
    return hits, skipped
