"""A pack's score.mid as Live wants it: tempo, meter, loop length and each part's notes in beats.

Live has no MIDI-file import in its API, so the bridge reads the file with mido and sends notes.
Beats are quarter notes (Live's unit whatever the meter): beats = ticks / ticks_per_beat. Notes are
note_on/note_off pairs per (channel, pitch), first in first out, a note_on of velocity 0 ending one.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

from engine_server.errors import InvalidArgument


@dataclass(frozen=True)
class Note:
    pitch: int
    start: float  # beats from the clip's start
    duration: float  # beats
    velocity: int


@dataclass
class Part:
    label: str  # the MIDI track's name, e.g. "Drums (Room Kit)"
    key: str  # the stem it belongs to, e.g. "drums" (the label's first word, lower case)
    channel: int
    notes: list[Note] = field(default_factory=list)


@dataclass
class Score:
    tempo_bpm: float
    numerator: int
    denominator: int
    length_beats: float  # the loop / cue length: where every part's track ends
    parts: list[Part]

    @property
    def note_count(self) -> int:
        return sum(len(p.notes) for p in self.parts)


def read_score(path: Path) -> Score:
    """Read a Motif score.mid (type 1: a conductor track, then one track per part)."""
    import mido  # imported here: `motif --help` stays fast

    try:
        midi = mido.MidiFile(str(path))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise InvalidArgument(f"Cannot read the score {path}: {exc}.") from None
    ppq = midi.ticks_per_beat
    tempo_us, numerator, denominator = 500000, 4, 4
    tempo_seen = meter_seen = False
    length_ticks = 0
    parts: list[Part] = []
    for track in midi.tracks:
        now = 0
        label = ""
        channel = -1
        open_notes: dict[tuple[int, int], deque[tuple[int, int]]] = defaultdict(deque)
        pairs: list[tuple[int, int, int, int]] = []  # pitch, start tick, end tick, velocity
        for msg in track:
            now += msg.time
            if msg.type == "set_tempo" and not tempo_seen:
                tempo_us, tempo_seen = msg.tempo, True
            elif msg.type == "time_signature" and not meter_seen:
                numerator, denominator, meter_seen = msg.numerator, msg.denominator, True
            elif msg.type == "track_name" and not label:
                label = msg.name.strip()
            elif msg.type == "note_on" and msg.velocity > 0:
                channel = msg.channel
                open_notes[(msg.channel, msg.note)].append((now, msg.velocity))
            elif msg.type in ("note_off", "note_on"):
                waiting = open_notes.get((msg.channel, msg.note))
                if waiting:
                    start, velocity = waiting.popleft()
                    pairs.append((msg.note, start, now, velocity))
        length_ticks = max(length_ticks, now)
        if pairs:
            parts.append(Part(label or f"Part {len(parts) + 1}", (label or "part").split()[0].lower(), channel,
                              [Note(p, s / ppq, (e - s) / ppq, v) for p, s, e, v in sorted(pairs, key=lambda x: x[1])
                               if e > s]))
    if not parts:
        raise InvalidArgument(f"The score {path} holds no notes.")
    bpm = round(60_000_000 / tempo_us, 3)
    return Score(bpm, numerator, denominator, length_ticks / ppq, parts)
