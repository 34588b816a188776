"""Tempo maps: where the beats fall in seconds when the tempo changes during a cue.

A cue scored to picture changes tempo at chosen beats so that its bar lines land on the edit's major
cuts (a film composer's tempo map). The map is a list of (beat, bpm) steps starting at beat 0; the
tempo is constant between steps. Beats ↔ seconds go through this one object everywhere: the plan
(hit points), the renderer (sample positions) and the MIDI file (set_tempo events), so the audio and
the file agree. A loop or a plain cue has a one-step map.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TempoMap:
    steps: tuple[tuple[float, float], ...]  # (start beat, bpm), first at beat 0, beats increasing
    _beats: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _starts: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.steps or self.steps[0][0] != 0.0:
            raise ValueError("a tempo map starts at beat 0")
        starts = [0.0]
        for (b0, bpm), (b1, _) in zip(self.steps, self.steps[1:], strict=False):
            starts.append(starts[-1] + (b1 - b0) * 60.0 / bpm)
        object.__setattr__(self, "_beats", tuple(b for b, _ in self.steps))
        object.__setattr__(self, "_starts", tuple(starts))

    @classmethod
    def constant(cls, bpm: float) -> TempoMap:
        return cls(((0.0, float(bpm)),))

    @classmethod
    def from_times(cls, changes: Sequence[tuple[float, float]]) -> TempoMap:
        """A map from (time in seconds, bpm) changes, the first at 0 s."""
        steps: list[tuple[float, float]] = []
        beat, last_t, last_bpm = 0.0, 0.0, float(changes[0][1])
        for t, bpm in changes:
            beat += (t - last_t) * last_bpm / 60.0
            steps.append((0.0 if not steps else beat, float(bpm)))
            last_t, last_bpm = t, float(bpm)
        return cls(tuple(steps))

    @property
    def first_bpm(self) -> float:
        return self.steps[0][1]

    @property
    def is_constant(self) -> bool:
        return len(self.steps) == 1

    def seconds(self, beat: float) -> float:
        """Seconds from the start at `beat`."""
        i = max(bisect.bisect_right(self._beats, beat) - 1, 0)
        b0, bpm = self.steps[i]
        return self._starts[i] + (beat - b0) * 60.0 / bpm

    def beat(self, seconds: float) -> float:
        """The beat (fractional) at `seconds` from the start."""
        i = max(bisect.bisect_right(self._starts, seconds) - 1, 0)
        b0, bpm = self.steps[i]
        return b0 + (seconds - self._starts[i]) * bpm / 60.0
