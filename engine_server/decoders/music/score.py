"""The composed piece as plain data: parts of notes in beats, plus the plan that produced them.

Everything downstream (MIDI writer, renderer, metadata, tests) reads this one structure, so the MIDI
file and the audio can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine_server.decoders.music.plan import Plan
from engine_server.decoders.music.theory import Chord

PPQ = 480  # MIDI ticks per quarter note


@dataclass(frozen=True)
class Note:
    start: float  # quarter-note beats from the start of the piece
    dur: float  # beats
    pitch: int  # MIDI note number (drum sound on channel 10)
    vel: int  # 1..127


@dataclass(frozen=True)
class Control:
    beat: float
    control: int  # MIDI CC number
    value: int


@dataclass(frozen=True)
class Instrument:
    """A General MIDI sound: program 0-127 in bank 0, or a drum kit (bank 128, played on channel 10)."""

    family: str  # latent instrument family it answers to
    program: int
    name: str
    lo: int = 0  # playable range (MIDI notes); drums ignore it
    hi: int = 127
    bank: int = 0

    @property
    def is_drums(self) -> bool:
        return self.bank == 128


@dataclass
class Part:
    """One track / stem: a role ("drums", "bass", "harmony", "lead", "texture", "hits") on one instrument."""

    name: str
    instrument: Instrument
    channel: int
    notes: list[Note] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)
    volume: int = 100
    pan: int = 64
    reverb: int = 40
    chorus: int = 0

    @property
    def title(self) -> str:
        return f"{self.name.capitalize()} ({self.instrument.name})"


@dataclass(frozen=True)
class ChordSpan:
    start: float  # beats
    dur: float
    chord: Chord
    bar: int
    pedal: bool = False  # bass holds the tonic under this chord (suspense)


@dataclass
class Score:
    plan: Plan
    key: str
    mode: str
    ensemble: str
    chords: list[ChordSpan]
    parts: list[Part]
    reverb: tuple[float, float, float, float]  # FluidSynth room size, damping, width, level

    @property
    def tempo_bpm(self) -> float:
        return self.plan.tempo_bpm

    def seconds(self, beats: float) -> float:
        return beats * 60.0 / self.plan.tempo_bpm
