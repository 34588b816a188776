"""The music decoder's options, checked before any work: shape, length, hit points and an input melody.

Every refusal is an InvalidArgument with a sentence that says what to change.
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine_server.decoders.base import finite_number, option, option_names, reject_unknown_options
from engine_server.decoders.music.cue_shape import KEYS as CUE_SHAPE_KEYS
from engine_server.decoders.music.cue_shape import CueShape, parse_cue_shape
from engine_server.errors import InvalidArgument, clip, name_list, quote

SHAPES = ("loop", "cue")
HIT_KINDS = ("accent", "swell", "drop")
DEFAULT_BARS = 8
MIN_BARS, MAX_BARS = 2, 64
MIN_CUE_S, MAX_CUE_S = 4.0, 600.0
MAX_HITS = 200
MIN_HIT_GAP_S = 0.1
HIT_END_MARGIN_S = 0.5  # a hit needs a little room after it to be heard
MAX_MELODY_NOTES = 256
MAX_MELODY_BEATS = 128.0
MAX_MIDI_BYTES = 1 << 20


@dataclass(frozen=True)
class MusicOptionSpec:
    """Options of the music decoder as a request carries them (what Describe publishes)."""

    shape: str = option("loop", "a seamless loop (length in bars) or a cue (length in seconds, with hit points)",
                        choices=SHAPES)
    bars: int = option(DEFAULT_BARS, "loop length in bars (loops only)", lo=MIN_BARS, hi=MAX_BARS)
    duration_s: float | None = option(None, "cue length in seconds (cues only, and required for them)",
                                      lo=MIN_CUE_S, hi=MAX_CUE_S)
    hit_points: Sequence[Any] | None = option(
        None, f"cues only: up to {MAX_HITS} times in seconds, or {{time, kind}} objects with kind one of "
        f"{', '.join(HIT_KINDS)}; at least {MIN_HIT_GAP_S * 1000:g} ms apart", kind="list")
    melody: Sequence[Any] | None = option(
        None, f"a melody to develop: up to {MAX_MELODY_NOTES} MIDI note numbers (null for a rest) or "
        "{pitch, beats} objects; not with melody_midi", kind="list")
    melody_midi: str | None = option(None, "a melody to develop, as a MIDI file's bytes in base64 (its top voice); "
                                     "not with melody", kind="midi", max_bytes=MAX_MIDI_BYTES)
    tempo_map: Sequence[Any] | None = option(
        None, "cues only: [{time_s, bpm}] tempo steps, the first at 0 s (score to picture: bar lines on cuts)",
        kind="list")
    sections: Sequence[Any] | None = option(
        None, "cues only: [{time_s, energy, role}] where the form changes (role one of intro, statement, contrast, "
        "return, climax, outro), the first at 0 s", kind="list")
    energy_curve: Sequence[Any] | None = option(
        None, "cues only: [{time_s, energy}] the dynamic level 0..1 from each time on (e.g. per shot)", kind="list")
    duck: Sequence[Any] | None = option(
        None, "cues only: [{start_s, end_s}] spans (dialogue) where the cue thins out and steps back", kind="list")


KNOWN = option_names(MusicOptionSpec)


@dataclass(frozen=True)
class HitPoint:
    time_s: float
    kind: str  # accent | swell | drop


@dataclass(frozen=True)
class MelodyNote:
    pitch: int | None  # None is a rest
    beats: float


@dataclass(frozen=True)
class MusicOptions:
    shape: str
    bars: int  # loop length (loops only)
    duration_s: float  # cue length (cues only; 0 for loops)
    hit_points: tuple[HitPoint, ...]
    melody: tuple[MelodyNote, ...] | None
    shape_given: CueShape | None = None  # tempo map, sections, energy curve, duck spans (cues only)


def _number(name: str, value: Any) -> float:
    if not finite_number(value):
        raise InvalidArgument(f"music option {name} must be a finite number; got {quote(value)}.")
    return float(value)


def parse_options(options: Mapping[str, Any]) -> MusicOptions:
    """Validate and normalise the options mapping (raises InvalidArgument)."""
    reject_unknown_options("music", options, KNOWN)
    shape = options.get("shape", "loop")
    if shape not in SHAPES:
        raise InvalidArgument(f"music option shape must be 'loop' or 'cue'; got {quote(shape)}.")

    bars = DEFAULT_BARS
    duration_s = 0.0
    if shape == "loop":
        for name in ("duration_s", "hit_points"):
            if name in options:
                raise InvalidArgument(
                    f"music option {name} applies to cues; ask for shape 'cue' or give the loop length in bars."
                )
        raw = options.get("bars", DEFAULT_BARS)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise InvalidArgument(f"music option bars must be a whole number of bars; got {quote(raw)}.")
        if not MIN_BARS <= raw <= MAX_BARS:
            raise InvalidArgument(f"A loop must be {MIN_BARS} to {MAX_BARS} bars long; got {quote(raw)} bars.")
        bars = raw
    else:
        if "bars" in options:
            raise InvalidArgument("music option bars applies to loops; give a cue its length with duration_s.")
        if "duration_s" not in options:
            raise InvalidArgument("A cue needs its length: set music option duration_s (seconds).")
        duration_s = _number("duration_s", options["duration_s"])
        if not MIN_CUE_S <= duration_s <= MAX_CUE_S:
            raise InvalidArgument(
                f"A cue must last {MIN_CUE_S:g} to {MAX_CUE_S:g} seconds ({MAX_CUE_S / 60:g} minutes); "
                f"got {duration_s:g} s. Split a longer score into several cues."
            )
    hits = _parse_hits(options.get("hit_points", ()), duration_s)

    if "melody" in options and "melody_midi" in options:
        raise InvalidArgument("Give either melody (a list of notes) or melody_midi (a MIDI file), not both.")
    melody = None
    if "melody" in options:
        melody = _parse_melody_list(options["melody"])
    elif "melody_midi" in options:
        melody = parse_melody_midi(options["melody_midi"])
    if shape == "loop" and any(k in options for k in CUE_SHAPE_KEYS):
        raise InvalidArgument(f"music options {', '.join(CUE_SHAPE_KEYS)} apply to cues; ask for shape 'cue'.")
    return MusicOptions(shape, bars, duration_s, hits, melody, parse_cue_shape(options, duration_s))


def _parse_hits(raw: Any, duration_s: float) -> tuple[HitPoint, ...]:
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        raise InvalidArgument("music option hit_points must be a list of times in seconds (or {time, kind} objects).")
    if len(raw) > MAX_HITS:
        raise InvalidArgument(f"At most {MAX_HITS} hit points per cue; got {len(raw)}.")
    hits = []
    for item in raw:
        if isinstance(item, Mapping):
            extra = set(item) - {"time", "kind"}
            if extra or "time" not in item:
                raise InvalidArgument(
                    f"A hit point object needs 'time' (seconds) and may have 'kind'; got {quote(dict(item))}."
                )
            t = _number("hit_points time", item["time"])
            kind = item.get("kind", "accent")
            if kind not in HIT_KINDS:
                raise InvalidArgument(f"Hit point kind must be one of {', '.join(HIT_KINDS)}; got {quote(kind)}.")
        else:
            t, kind = _number("hit_points", item), "accent"
        if not 0.0 <= t <= duration_s - HIT_END_MARGIN_S:
            raise InvalidArgument(
                f"Hit point at {t:g} s lies outside the cue: hits must fall between 0 and "
                f"{duration_s - HIT_END_MARGIN_S:g} s for a {duration_s:g} s cue."
            )
        hits.append(HitPoint(t, str(kind)))
    hits.sort(key=lambda h: h.time_s)
    for a, b in itertools.pairwise(hits):
        if b.time_s - a.time_s < MIN_HIT_GAP_S:
            raise InvalidArgument(
                f"Hit points at {a.time_s:g} s and {b.time_s:g} s are closer than {MIN_HIT_GAP_S * 1000:g} ms; "
                "merge them into one."
            )
    return tuple(hits)


def _check_melody(notes: list[MelodyNote]) -> tuple[MelodyNote, ...]:
    if not any(n.pitch is not None for n in notes):
        raise InvalidArgument("The melody has no notes to develop.")
    if len(notes) > MAX_MELODY_NOTES:
        raise InvalidArgument(f"The melody has {len(notes)} notes; the limit is {MAX_MELODY_NOTES}.")
    total = sum(n.beats for n in notes)
    if total > MAX_MELODY_BEATS:
        raise InvalidArgument(f"The melody lasts {total:g} beats; the limit is {MAX_MELODY_BEATS:g} beats.")
    return tuple(notes)


def _parse_melody_list(raw: Any) -> tuple[MelodyNote, ...]:
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence) or not raw:
        raise InvalidArgument("music option melody must be a non-empty list of MIDI note numbers or {pitch, beats}.")
    if len(raw) > MAX_MELODY_NOTES:
        raise InvalidArgument(f"The melody has {len(raw):,} notes; the limit is {MAX_MELODY_NOTES}.")
    notes = []
    for i, item in enumerate(raw):
        if isinstance(item, Mapping):
            extra = set(item) - {"pitch", "beats"}
            if extra:
                raise InvalidArgument(f"melody note {i + 1} has unknown field(s) {name_list(extra)}.")
            pitch = item.get("pitch")
            beats = _number(f"melody note {i + 1} beats", item.get("beats", 1.0))
        else:
            pitch, beats = item, 1.0
        if pitch is not None and (isinstance(pitch, bool) or not isinstance(pitch, int) or not 0 <= pitch <= 127):
            raise InvalidArgument(f"melody note {i + 1}: pitch must be a MIDI note number 0-127 (or null for a rest); "
                                  f"got {quote(pitch)}.")
        if not 0.125 <= beats <= 16:
            raise InvalidArgument(f"melody note {i + 1}: beats must be between 0.125 and 16; got {beats:g}.")
        notes.append(MelodyNote(pitch, beats))
    return _check_melody(notes)


def parse_melody_midi(raw: Any) -> tuple[MelodyNote, ...]:
    """A monophonic line (the top voice) from a MIDI file, quantised to sixteenths of its own beat."""
    import mido

    if isinstance(raw, str):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidArgument("music option melody_midi must be MIDI file bytes or their base64 text.") from exc
    elif isinstance(raw, bytes | bytearray | memoryview):
        data = bytes(raw)
    else:
        raise InvalidArgument("music option melody_midi must be MIDI file bytes or their base64 text.")
    if len(data) > MAX_MIDI_BYTES:
        raise InvalidArgument(f"The melody MIDI file is {len(data):,} bytes; the limit is {MAX_MIDI_BYTES:,}.")
    try:
        midi = mido.MidiFile(file=io.BytesIO(data))
        events: list[tuple[float, float, int]] = []  # onset, end (beats), pitch
        tpb = float(midi.ticks_per_beat)
        for track in midi.tracks:
            tick = 0
            started: dict[tuple[int, int], int] = {}
            for msg in track:
                tick += msg.time
                if msg.type == "note_on" and msg.velocity > 0 and msg.channel != 9:
                    started[(msg.channel, msg.note)] = tick
                elif msg.type in ("note_on", "note_off") and (msg.channel, msg.note) in started:
                    t0 = started.pop((msg.channel, msg.note))
                    events.append((t0 / tpb, tick / tpb, msg.note))
    except InvalidArgument:
        raise
    except Exception as exc:  # mido raises OSError, EOFError, ValueError, KeyError... on corrupt files
        raise InvalidArgument(f"melody_midi is not a readable MIDI file ({clip(str(exc))}).") from exc
    if not events:
        raise InvalidArgument("melody_midi contains no notes (channel 10 drums are ignored).")
    q = 0.25
    by_onset: dict[float, tuple[float, int]] = {}
    for onset, end, pitch in events:
        qo = round(onset / q) * q
        if qo not in by_onset or pitch > by_onset[qo][1]:
            by_onset[qo] = (max(end, onset + q), pitch)
    onsets = sorted(by_onset)
    first = onsets[0]
    notes: list[MelodyNote] = []
    cursor = 0.0
    for i, onset in enumerate(onsets):
        end, pitch = by_onset[onset]
        start = onset - first
        if start > cursor + 1e-9:
            notes.append(MelodyNote(None, start - cursor))
        nxt = onsets[i + 1] - first if i + 1 < len(onsets) else math.inf
        stop = min(round((end - first) / q) * q, nxt)
        stop = max(stop, start + q)
        notes.append(MelodyNote(pitch, min(stop - start, 16.0)))
        cursor = start + notes[-1].beats
    return _check_melody(notes)


def melody_beats(melody: Sequence[MelodyNote]) -> float:
    return sum(n.beats for n in melody)
