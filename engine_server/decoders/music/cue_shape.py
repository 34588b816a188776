"""A cue shaped from outside: a tempo map, sections, an energy curve and spans to duck under.

These options describe a through-composed cue on a timeline in seconds. Score to picture
(engine_server/readers/edit) derives them from an edit, but any host may send them: they are plain
music options, checked here before any work (InvalidArgument with a sentence saying what to change).

- `tempo_map`: [{time_s, bpm}] tempo steps, the first at 0 s (bar lines land where the tempo changes
  when the steps are a whole number of bars apart);
- `sections`: [{time_s, energy, role}] where the form changes, the first at 0 s;
- `energy_curve`: [{time_s, energy}] the dynamic level (0..1) from each time on, e.g. per shot;
- `duck`: [{start_s, end_s}] spans (dialogue) where the cue thins out and steps back.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine_server.decoders.base import finite_number
from engine_server.errors import InvalidArgument, quote

ROLES = ("intro", "statement", "contrast", "return", "climax", "outro")
MAX_POINTS = 512
MIN_BPM, MAX_BPM = 40.0, 220.0
MIN_SECTION_S = 1.0
MIN_DUCK_S = 0.2
KEYS = ("tempo_map", "sections", "energy_curve", "duck")


@dataclass(frozen=True)
class CueShape:
    tempo: tuple[tuple[float, float], ...] = ()  # (time_s, bpm)
    sections: tuple[tuple[float, float, str], ...] = ()  # (time_s, energy, role)
    energy: tuple[tuple[float, float], ...] = ()  # (time_s, energy)
    duck: tuple[tuple[float, float], ...] = ()  # (start_s, end_s)

    def energy_at(self, t: float) -> float | None:
        """The energy curve's value at `t` seconds (None without a curve)."""
        value = None
        for t0, e in self.energy:
            if t0 > t + 1e-9:
                break
            value = e
        return value

    def duck_share(self, t0: float, t1: float) -> float:
        """How much of [t0, t1) lies inside duck spans (0..1)."""
        if t1 <= t0:
            return 0.0
        inside = sum(max(0.0, min(t1, b) - max(t0, a)) for a, b in self.duck)
        return min(inside / (t1 - t0), 1.0)


def _num(name: str, value: Any) -> float:
    if not finite_number(value):
        raise InvalidArgument(f"music option {name} must be a finite number; got {quote(value)}.")
    return float(value)


def _objects(name: str, raw: Any, fields: Sequence[str], optional: Sequence[str] = ()) -> list[Mapping[str, Any]]:
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence) or not raw:
        raise InvalidArgument(f"music option {name} must be a non-empty list of {{{', '.join(fields)}}} objects.")
    if len(raw) > MAX_POINTS:
        raise InvalidArgument(f"music option {name} has {len(raw)} entries; the limit is {MAX_POINTS}.")
    out = []
    for item in raw:
        if not isinstance(item, Mapping) or not set(fields) <= set(item) or set(item) - set(fields) - set(optional):
            raise InvalidArgument(
                f"Each entry of music option {name} needs {', '.join(fields)}"
                + (f" (and may have {', '.join(optional)})" if optional else "") + f"; got {quote(item)}.")
        out.append(item)
    return out


def _times(name: str, times: list[float], duration_s: float, first_at_zero: bool) -> None:
    if first_at_zero and times[0] != 0.0:
        raise InvalidArgument(f"music option {name} must start at time_s 0; it starts at {times[0]:g} s.")
    for a, b in itertools.pairwise(times):
        if b <= a:
            raise InvalidArgument(f"music option {name}: times must increase; {b:g} s follows {a:g} s.")
    if times[0] < 0 or times[-1] >= duration_s:
        raise InvalidArgument(f"music option {name}: times must lie inside the {duration_s:g} s cue.")


def parse_cue_shape(options: Mapping[str, Any], duration_s: float) -> CueShape | None:
    """The shape options of a cue, or None when none is given (raises InvalidArgument when unusable)."""
    if not any(k in options for k in KEYS):
        return None
    tempo: list[tuple[float, float]] = []
    if "tempo_map" in options:
        for item in _objects("tempo_map", options["tempo_map"], ("time_s", "bpm")):
            bpm = _num("tempo_map bpm", item["bpm"])
            if not MIN_BPM <= bpm <= MAX_BPM:
                raise InvalidArgument(f"music option tempo_map: bpm must be {MIN_BPM:g} to {MAX_BPM:g}; got {bpm:g}.")
            tempo.append((_num("tempo_map time_s", item["time_s"]), bpm))
        _times("tempo_map", [t for t, _ in tempo], duration_s, True)
    sections: list[tuple[float, float, str]] = []
    if "sections" in options:
        for item in _objects("sections", options["sections"], ("time_s", "energy"), ("role",)):
            energy = _num("sections energy", item["energy"])
            role = item.get("role", "statement")
            if role not in ROLES:
                raise InvalidArgument(f"music option sections: role must be one of {', '.join(ROLES)}; "
                                      f"got {quote(role)}.")
            if not 0.0 <= energy <= 1.0:
                raise InvalidArgument(f"music option sections: energy must be 0 to 1; got {energy:g}.")
            sections.append((_num("sections time_s", item["time_s"]), energy, str(role)))
        _times("sections", [t for t, _, _ in sections], duration_s, True)
        for (a, _, _), (b, _, _) in itertools.pairwise(sections):
            if b - a < MIN_SECTION_S:
                raise InvalidArgument(f"music option sections: sections at {a:g} s and {b:g} s are closer than "
                                      f"{MIN_SECTION_S:g} s; merge them.")
    energy_curve: list[tuple[float, float]] = []
    if "energy_curve" in options:
        for item in _objects("energy_curve", options["energy_curve"], ("time_s", "energy")):
            e = _num("energy_curve energy", item["energy"])
            if not 0.0 <= e <= 1.0:
                raise InvalidArgument(f"music option energy_curve: energy must be 0 to 1; got {e:g}.")
            energy_curve.append((_num("energy_curve time_s", item["time_s"]), e))
        _times("energy_curve", [t for t, _ in energy_curve], duration_s, True)
    duck: list[tuple[float, float]] = []
    if "duck" in options:
        for item in _objects("duck", options["duck"], ("start_s", "end_s")):
            a, b = _num("duck start_s", item["start_s"]), _num("duck end_s", item["end_s"])
            if not 0.0 <= a < b <= duration_s or b - a < MIN_DUCK_S:
                raise InvalidArgument(f"music option duck: a span must lie inside the cue and last at least "
                                      f"{MIN_DUCK_S:g} s; got {a:g}-{b:g} s.")
            duck.append((a, b))
        duck.sort()
        for (_, e0), (s1, _) in itertools.pairwise(duck):
            if s1 < e0:
                raise InvalidArgument("music option duck: spans overlap; merge them.")
    return CueShape(tuple(tempo), tuple(sections), tuple(energy_curve), tuple(duck))
