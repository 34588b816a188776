"""The score as MIDI events, and as a type-1 Standard MIDI File a DAW opens natively.

Track 0 is the conductor (tempo, time signature, key signature, section markers, hit-point cue
markers); then one track per part with its name, General MIDI program and mix controllers. The
renderer plays these very events, so the file and the audio agree note for note.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import mido

from engine_server.decoders.music.score import PPQ, Part, Score
from engine_server.decoders.music.theory import key_signature_name

TIME_SIGNATURES = {"4/4": (4, 4, 24), "3/4": (3, 4, 24), "6/8": (6, 8, 36)}


@dataclass(frozen=True)
class Event:
    tick: int
    order: int  # at one tick: controls first, then note-offs, then note-ons
    kind: str  # program | cc | off | on
    a: int  # program / controller / note
    b: int = 0  # value / velocity


def ticks(beats: float) -> int:
    return round(beats * PPQ)


def part_events(part: Part) -> list[Event]:
    events = [
        Event(0, 0, "program", part.instrument.program),
        Event(0, 0, "cc", 7, part.volume),
        Event(0, 0, "cc", 10, part.pan),
        Event(0, 0, "cc", 91, part.reverb),
        Event(0, 0, "cc", 93, part.chorus),
    ]
    for c in part.controls:
        events.append(Event(ticks(c.beat), 0, "cc", c.control, c.value))
    for n in part.notes:
        on = ticks(n.start)
        off = max(ticks(n.start + n.dur), on + 1)
        events.append(Event(on, 2, "on", n.pitch, n.vel))
        events.append(Event(off, 1, "off", n.pitch))
    events.sort(key=lambda e: (e.tick, e.order, e.a, e.b))
    return events


def midi_file(score: Score) -> mido.MidiFile:
    plan = score.plan
    end_tick = ticks(plan.length_beats)
    mid = mido.MidiFile(type=1, ticks_per_beat=PPQ)
    num, den, clocks = TIME_SIGNATURES[plan.meter]
    conductor: list[tuple[int, mido.MetaMessage]] = [
        (0, mido.MetaMessage("track_name", name=f"Motif {score.ensemble} in {score.key} {score.mode}")),
        (0, mido.MetaMessage("time_signature", numerator=num, denominator=den, clocks_per_click=clocks,
                             notated_32nd_notes_per_beat=8)),
        (0, mido.MetaMessage("key_signature", key=key_signature_name(score.key, score.mode))),
    ]
    for beat, bpm in plan.tempo.steps:  # one step, or the cue's tempo map
        conductor.append((ticks(beat), mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))))
    for s in plan.sections:
        conductor.append((ticks(s.start_bar * plan.beats_per_bar), mido.MetaMessage("marker", text=s.name)))
    for i, h in enumerate(plan.hits):
        conductor.append((ticks(h.beat), mido.MetaMessage("cue_marker", text=f"hit {i + 1} {h.kind} {h.time_s:.3f}s")))
    mid.tracks.append(_track(conductor, end_tick))
    for part in score.parts:
        msgs: list[tuple[int, mido.Message | mido.MetaMessage]] = [
            (0, mido.MetaMessage("track_name", name=part.title)),
            (0, mido.MetaMessage("instrument_name", name=part.instrument.name)),
        ]
        ch = part.channel
        for e in part_events(part):
            if e.kind == "program":
                msgs.append((e.tick, mido.Message("program_change", channel=ch, program=e.a)))
            elif e.kind == "cc":
                msgs.append((e.tick, mido.Message("control_change", channel=ch, control=e.a, value=e.b)))
            elif e.kind == "on":
                msgs.append((e.tick, mido.Message("note_on", channel=ch, note=e.a, velocity=e.b)))
            else:
                msgs.append((e.tick, mido.Message("note_off", channel=ch, note=e.a, velocity=64)))
        mid.tracks.append(_track(msgs, end_tick))
    return mid


def _track(timed: list[tuple[int, mido.Message | mido.MetaMessage]], end_tick: int) -> mido.MidiTrack:
    track = mido.MidiTrack()
    now = 0
    for tick, msg in sorted(timed, key=lambda tm: tm[0]):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(end_tick - now, 0)))
    return track


def midi_bytes(score: Score) -> bytes:
    buf = io.BytesIO()
    midi_file(score).save(file=buf)
    return buf.getvalue()
