"""Top-down composition: form → harmony → motif → melody → parts → hit points → performance.

Each layer gets its own random stream derived from the seed and the layer's name, so changing one
layer's logic never reshuffles another's choices, and the same latent + seed gives the same score.
"""

from __future__ import annotations

import itertools
import zlib

import numpy as np

from engine_server.decoders.music import harmony as harmony_mod
from engine_server.decoders.music import melody as melody_mod
from engine_server.decoders.music import parts as parts_mod
from engine_server.decoders.music.hits import apply_hits
from engine_server.decoders.music.instrumentation import STYLES, choose_instruments
from engine_server.decoders.music.options import MusicOptions
from engine_server.decoders.music.plan import Plan, make_plan
from engine_server.decoders.music.score import Control, Note, Part, Score
from engine_server.latent import Latent

CHANNELS = {"bass": 0, "harmony": 1, "lead": 2, "texture": 3, "hits": 4, "drums": 9}
PAN = {"bass": 64, "harmony": 50, "lead": 74, "texture": 86, "hits": 64, "drums": 64}
VOLUME = {"bass": 100, "harmony": 92, "lead": 105, "texture": 84, "hits": 110, "drums": 100}
SEND = {"bass": 0.25, "harmony": 1.0, "lead": 0.8, "texture": 1.0, "hits": 0.7, "drums": 0.45}
PART_ORDER = ("drums", "bass", "harmony", "lead", "texture", "hits")


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent, reproducible random stream per composition layer."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def bar_intensities(plan: Plan, arousal: float) -> list[float]:
    """Arousal sets how intense the whole piece is; the form's energy arc shapes it bar by bar."""
    return [float(min(max(arousal * (0.45 + 0.6 * plan.energy(b)) + 0.12 * plan.energy(b), 0.0), 1.0))
            for b in range(plan.bars)]


def compose(latent: Latent, seed: int, opts: MusicOptions) -> Score:
    plan = make_plan(latent.tempo_bpm, latent.meter, opts)
    style = STYLES[latent.ensemble]
    key, mode = latent.key, latent.mode
    instruments = choose_instruments(latent.ensemble, latent.instruments, latent.arousal, stream(seed, "instruments"))
    levels = bar_intensities(plan, latent.arousal)
    bpb = plan.beats_per_bar
    if plan.shape == "loop":
        end_beats = plan.length_beats
    else:  # the last chord stops early enough for its release and the room to ring out inside the file
        release_s = min(max(0.1 * plan.duration_s, 1.0), 2.5)
        end_beats = max(plan.tempo.beat(plan.duration_s - release_s), plan.length_beats * 0.5)
        if plan.hits:  # a hit late in the cue (a last cut) still sounds: the release waits for it
            last_hit = max(h.beat for h in plan.hits)
            end_beats = max(end_beats, min(last_hit + 1.0, plan.tempo.beat(plan.duration_s - 0.3)))

    lead_inst = instruments["lead"]
    given = given_anchor = None
    melody_bars: dict[int, np.ndarray] | None = None
    if opts.melody is not None:
        given, given_anchor = melody_mod.from_melody(opts.melody, key, mode)
        while given_anchor > lead_inst.hi - 7:
            given_anchor -= 12
        while given_anchor < lead_inst.lo + 2:
            given_anchor += 12
        start = melody_mod.given_start_bar(plan) * bpb
        verbatim = melody_mod.Realiser(key, mode, [], lead_inst.lo, lead_inst.hi).realise(
            given, start, given_anchor, 2.0, snap=False)
        melody_bars = {}
        for s, d, p in verbatim:
            bar = int(s // bpb)
            melody_bars.setdefault(bar, np.zeros(12))[p % 12] += d

    spans = harmony_mod.plan_harmony(plan, key, mode, style.harmony_language, latent.valence, latent.tension,
                                     style.slow_harmony, stream(seed, "harmony"), melody_bars)
    motif_rng = stream(seed, "motif")
    if given is not None:
        head = tuple(n for n in given.notes if n.onset < 2 * bpb)
        motif = melody_mod.Motif(head, min(given.length, 2 * bpb))
        motif = melody_mod.Motif(tuple(n for n in motif.notes), max(bpb, float(np.ceil(motif.length / bpb)) * bpb))
    else:
        motif = melody_mod.invent_motif(latent.meter, bpb, float(np.mean(levels)), latent.tension, motif_rng)

    parts: dict[str, Part] = {}

    def add(name: str, notes: list[Note]) -> None:
        inst = instruments[name]
        send = int(min(127, style.reverb_send * SEND[name]))
        parts[name] = Part(name, inst, CHANNELS[name], notes, [], VOLUME[name], PAN[name], send,
                           30 if inst.family in ("synth_pad", "strings", "choir") else 0)

    if "drums" in instruments:
        add("drums", parts_mod.drum_part(plan, style.drums or "orchestral", levels, latent.arousal,
                                         stream(seed, "drums")))
    b = instruments["bass"]
    add("bass", parts_mod.bass_part(plan, spans, style.bass, levels, b.lo, b.hi, key, mode, stream(seed, "bass")))
    h = instruments["harmony"]
    add("harmony", parts_mod.harmony_part(plan, spans, style.harmony, levels, h.lo, h.hi, stream(seed, "harmony-part"),
                                          end_beats))
    add("lead", melody_mod.compose_lead(plan, spans, key, mode, motif, given, given_anchor, levels, lead_inst.lo,
                                        lead_inst.hi, stream(seed, "lead")))
    if "texture" in instruments and given is not None:  # a given (hummed) tune: its motif as a counter-line
        t = instruments["texture"]
        stated = melody_mod.given_start_bar(plan) * bpb + float(np.ceil(given.length / bpb)) * bpb
        add("texture", melody_mod.counter_line(spans, key, mode, motif, stated, end_beats, bpb, levels, t.lo, t.hi,
                                               stream(seed, "texture")))
    elif "texture" in instruments:
        t = instruments["texture"]
        pattern = style.texture if style.texture != "none" else "counter"
        add("texture", parts_mod.texture_part(plan, spans, pattern, levels, t.lo, t.hi, stream(seed, "texture"),
                                              end_beats))
    ducks = _duck_spans(plan)
    if ducks:
        _thin_under(parts, ducks)
    if plan.shape == "cue":
        _expression_arc(plan, parts, end_beats)
    if plan.hits:
        hit_part = Part("hits", style.hit, CHANNELS["hits"], [], [], VOLUME["hits"], PAN["hits"],
                        int(style.reverb_send * SEND["hits"]))
        apply_hits(plan, spans, key, parts, hit_part)
        parts["hits"] = hit_part
        if ducks:  # a cut under dialogue is still marked, a step quieter
            for name in ("hits", "drums"):
                if name in parts:
                    parts[name].notes = [Note(n.start, n.dur, n.pitch, int(n.vel * 0.8)) if _inside(n.start, ducks)
                                         else n for n in parts[name].notes]

    perform_rng = stream(seed, "performance")
    hit_beats = [hh.beat for hh in plan.hits]
    for part in parts.values():
        part.notes = _perform(part.notes, style.swing, plan, end_beats, hit_beats, perform_rng,
                              humanise=not part.instrument.is_drums and part.name != "hits")
    ordered = [parts[n] for n in PART_ORDER if n in parts]
    return Score(plan, key, mode, latent.ensemble, spans, ordered, style.reverb)


def _duck_spans(plan: Plan) -> list[tuple[float, float]]:
    """Dialogue spans in beats (empty unless the cue was given some)."""
    if plan.cue_shape is None:
        return []
    return [(plan.tempo.beat(a), plan.tempo.beat(b)) for a, b in plan.cue_shape.duck]


def _inside(beat: float, spans: list[tuple[float, float]], pad: float = 0.0) -> bool:
    return any(a - pad <= beat < b + pad for a, b in spans)


def _thin_under(parts: dict[str, Part], spans: list[tuple[float, float]]) -> None:
    """Room for dialogue: under a duck span the lead and the texture rest, the drums keep only a soft
    kick, and the bass and harmony play softer (a beat of lead-in either side, so lines end and resume
    around the words rather than inside them)."""
    for name, part in parts.items():
        keep: list[Note] = []
        for n in part.notes:
            if not _inside(n.start, spans, pad=0.5) and not any(n.start < a < n.start + n.dur for a, _ in spans):
                keep.append(n)
            elif name in ("lead", "texture"):
                if not _inside(n.start, spans, pad=0.5):  # started before the words: end it as they begin
                    a = next(a for a, _ in spans if n.start < a < n.start + n.dur)
                    keep.append(Note(n.start, max(a - n.start, 0.05), n.pitch, n.vel))
            elif name == "drums":
                if n.pitch == parts_mod.KICK:
                    keep.append(Note(n.start, n.dur, n.pitch, int(n.vel * 0.6)))
            else:
                keep.append(Note(n.start, n.dur, n.pitch, max(int(n.vel * 0.8), 1)))
        part.notes = keep


def _expression_arc(plan: Plan, parts: dict[str, Part], end_beats: float) -> None:
    """A cue breathes with its form: expression (CC11) follows the energy arc beat by beat, and the
    final chord dies away instead of stopping."""
    bpb = plan.beats_per_bar
    last_bar_start = (plan.bars - 1) * bpb
    points: list[tuple[float, int]] = []
    for beat in range(int(np.ceil(end_beats))):
        pos = beat / bpb - 0.5
        b0 = int(np.clip(np.floor(pos), 0, plan.bars - 1))
        b1 = min(b0 + 1, plan.bars - 1)
        frac = float(np.clip(pos - np.floor(pos), 0.0, 1.0)) if pos >= 0 else 0.0
        energy = plan.energy(b0) * (1 - frac) + plan.energy(b1) * frac
        value = 72 + 55 * energy
        if plan.cue_shape is not None and plan.cue_shape.duck:  # step back under dialogue
            t = plan.tempo.seconds(float(beat))
            value *= 1.0 - 0.3 * plan.cue_shape.duck_share(t - 0.25, t + 0.25)
        if beat >= last_bar_start:
            value *= 1.0 - 0.45 * (beat - last_bar_start) / max(end_beats - last_bar_start, 1.0)
        v = round(min(max(value, 30), 127))
        if not points or points[-1][1] != v:
            points.append((float(beat), v))
    for part in parts.values():
        if not part.instrument.is_drums:
            part.controls += [Control(b, 11, v) for b, v in points]


def _swing(beat: float, swing: float) -> float:
    """Delay off-beat eighths by `swing` of an eighth (16ths in between scale accordingly)."""
    if swing <= 0:
        return beat
    whole = float(np.floor(beat + 1e-9))
    f = beat - whole
    f = f * (1 + swing) if f <= 0.5 else 0.5 * (1 + swing) + (f - 0.5) * (1 - swing)
    return whole + f


def _perform(notes: list[Note], swing: float, plan: Plan, end_beats: float, hit_beats: list[float],
             rng: np.random.Generator, humanise: bool) -> list[Note]:
    """Swing, a little timing life, the piece's end, and no two notes of one pitch overlapping."""
    out = []
    for n in sorted(notes, key=lambda n: (n.start, n.pitch)):
        on_hit = any(abs(n.start - hb) < 1e-6 for hb in hit_beats)
        start = n.start if on_hit else _swing(n.start, swing)
        end = _swing(n.start + n.dur, swing) if swing > 0 and not on_hit else n.start + n.dur
        if humanise and not on_hit and start > 0.05:
            start += float(rng.normal(0.0, 0.006))
        start = max(start, 0.0)
        end = min(end, end_beats)
        if plan.shape == "loop":
            end = min(end, plan.length_beats - 0.01)
        if start >= end_beats - 1e-6 or end - start < 0.02:
            continue
        out.append(Note(start, end - start, n.pitch, n.vel))
    # one pitch, one voice: end a note before the next one of the same pitch starts
    by_pitch: dict[int, list[int]] = {}
    for i, n in enumerate(out):
        by_pitch.setdefault(n.pitch, []).append(i)
    for idxs in by_pitch.values():
        for a, b in itertools.pairwise(idxs):
            na, nb = out[a], out[b]
            if nb.start - na.start < 0.03:
                out[a] = Note(na.start, 0.0, na.pitch, na.vel)  # a doubled note: keep the later one
            elif na.start + na.dur > nb.start - 0.01:
                out[a] = Note(na.start, nb.start - na.start - 0.01, na.pitch, na.vel)
    return [n for n in out if n.dur >= 0.01]
