"""Instrumentation: the latent's ensemble picks a style and a palette of General MIDI sounds per part role;
its instrument-family weights choose within the palette (and can pull in a family the palette lacks).

Twelve ensembles, twelve clearly different palettes: an orchestra never gets a TR-808, chiptune never
gets strings, unless the instrument weights insist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engine_server.decoders.music.score import Instrument

ROLES = ("drums", "bass", "harmony", "lead", "texture")


@dataclass(frozen=True)
class Style:
    """How an ensemble plays: pattern families per role, feel, harmonic language and room."""

    harmony_language: str  # pop | jazz | lofi | ambient | cinematic | choral | folk | rock
    drums: str | None  # drum pattern family
    drums_optional: bool  # drums only when drums/percussion weights or arousal ask for them
    kit: int  # drum kit preset in bank 128
    bass: str
    harmony: str
    texture: str  # "none" = no texture part
    swing: float  # share of an eighth by which off-beat eighths are late (0 straight, 1/3 triplet)
    slow_harmony: bool  # chords last two bars in calm sections
    reverb: tuple[float, float, float, float]  # room size, damping, width, level (FluidSynth)
    reverb_send: int  # CC91 base
    hit: Instrument  # sound of accents and drops on hit points


def _i(family: str, program: int, name: str, lo: int = 0, hi: int = 127) -> Instrument:
    return Instrument(family, program, name, lo, hi)


def _kit(program: int, name: str, family: str = "drums") -> Instrument:
    return Instrument(family, program, name, 0, 127, bank=128)


TIMPANI = _i("percussion", 47, "Timpani", 36, 57)
TAIKO = _i("percussion", 116, "Taiko Drum", 36, 60)
SYNTH_DRUM = _i("percussion", 118, "Synth Drum", 36, 60)

STYLES: dict[str, Style] = {
    "orchestral": Style("cinematic", "orchestral", True, 48, "orchestral", "strings", "arp", 0.0, True,
                        (0.8, 0.3, 0.9, 0.75), 80, TIMPANI),
    "cinematic_hybrid": Style("cinematic", "cinematic", False, 16, "cinematic", "strings", "ostinato", 0.0, False,
                              (0.85, 0.3, 1.0, 0.8), 75, TAIKO),
    "synthwave": Style("pop", "synthwave", False, 25, "octaves", "pad", "arp", 0.0, False,
                       (0.7, 0.4, 1.0, 0.7), 70, SYNTH_DRUM),
    "lofi": Style("lofi", "lofi", False, 8, "lofi", "lazy", "sparkle", 0.28, False,
                  (0.4, 0.6, 0.6, 0.5), 40, _i("percussion", 115, "Woodblock", 60, 80)),
    "ambient": Style("ambient", "electronic", True, 24, "sustain", "pad", "arp", 0.0, True,
                     (0.95, 0.2, 1.0, 0.9), 100, TIMPANI),
    "folk": Style("folk", "folk", True, 8, "root_fifth", "strum", "arp", 0.0, False,
                  (0.5, 0.5, 0.8, 0.55), 50, TIMPANI),
    "rock": Style("rock", "rock", False, 16, "eighths", "power", "counter", 0.0, False,
                  (0.5, 0.4, 0.8, 0.5), 35, TAIKO),
    "jazz": Style("jazz", "jazz", False, 40, "walking", "comp", "counter", 0.3, False,
                  (0.45, 0.5, 0.7, 0.5), 50, _i("percussion", 118, "Synth Drum", 36, 60)),
    "electronic": Style("pop", "electronic", False, 24, "offbeat", "stabs", "arp", 0.0, False,
                        (0.6, 0.4, 1.0, 0.6), 45, SYNTH_DRUM),
    "chiptune": Style("pop", "chiptune", False, 25, "octaves", "chiparp", "none", 0.0, False,
                      (0.2, 0.8, 0.5, 0.15), 15, SYNTH_DRUM),
    "piano": Style("pop", None, True, 0, "piano", "broken", "none", 0.0, False,
                   (0.6, 0.4, 0.8, 0.55), 60, TIMPANI),
    "choral": Style("choral", None, True, 48, "choral", "choir", "arp", 0.0, True,
                    (0.9, 0.25, 1.0, 0.85), 90, TIMPANI),
}

# Candidates per role, first = the ensemble's signature sound.
PALETTES: dict[str, dict[str, tuple[Instrument, ...]]] = {
    "orchestral": {
        "drums": (_kit(48, "Orchestra Kit", "percussion"),),
        "bass": (_i("strings", 43, "Contrabass", 28, 60), _i("brass", 58, "Tuba", 28, 58),
                 _i("woodwinds", 70, "Bassoon", 34, 65)),
        "harmony": (_i("strings", 48, "Strings", 43, 84), _i("brass", 61, "Brass Section", 45, 77),
                    _i("choir", 52, "Choir Aahs", 48, 79)),
        "lead": (_i("woodwinds", 73, "Flute", 60, 93), _i("brass", 60, "French Horn", 45, 74),
                 _i("strings", 40, "Violin", 57, 96), _i("woodwinds", 68, "Oboe", 58, 89),
                 _i("woodwinds", 71, "Clarinet", 52, 86), _i("piano", 0, "Grand Piano", 48, 96)),
        "texture": (_i("plucked", 46, "Harp", 36, 96), _i("strings", 45, "Pizzicato Strings", 40, 84),
                    _i("mallets", 9, "Glockenspiel", 72, 105), _i("woodwinds", 71, "Clarinet", 52, 86)),
    },
    "cinematic_hybrid": {
        "drums": (_kit(16, "Power Kit"),),
        "bass": (_i("bass", 38, "Synth Bass 1", 28, 55), _i("strings", 43, "Contrabass", 28, 60)),
        "harmony": (_i("strings", 48, "Strings", 43, 84), _i("synth_pad", 89, "Warm Pad", 43, 84),
                    _i("brass", 61, "Brass Section", 45, 77), _i("choir", 52, "Choir Aahs", 48, 79)),
        "lead": (_i("brass", 60, "French Horn", 45, 74), _i("strings", 42, "Cello", 45, 76),
                 _i("choir", 53, "Voice Oohs", 55, 79), _i("synth_lead", 81, "Saw Lead", 48, 88)),
        "texture": (_i("strings", 45, "Pizzicato Strings", 40, 84), _i("synth_lead", 81, "Saw Lead", 48, 88),
                    _i("percussion", 116, "Taiko Drum", 36, 60)),
    },
    "synthwave": {
        "drums": (_kit(25, "TR-808"), _kit(24, "Electronic Kit")),
        "bass": (_i("bass", 38, "Synth Bass 1", 28, 55), _i("bass", 39, "Synth Bass 2", 28, 55)),
        "harmony": (_i("synth_pad", 89, "Warm Pad", 48, 84), _i("synth_pad", 90, "Polysynth", 48, 84),
                    _i("strings", 50, "Synth Strings", 48, 84)),
        "lead": (_i("synth_lead", 81, "Saw Lead", 55, 91), _i("synth_lead", 80, "Square Lead", 55, 91),
                 _i("brass", 62, "Synth Brass", 48, 84), _i("guitar", 30, "Distortion Guitar", 52, 86)),
        "texture": (_i("synth_lead", 80, "Square Lead", 60, 96), _i("keys", 5, "Electric Piano 2", 55, 91),
                    _i("mallets", 98, "Crystal", 60, 96)),
    },
    "lofi": {
        "drums": (_kit(8, "Room Kit"), _kit(40, "Brush Kit", "percussion")),
        "bass": (_i("bass", 33, "Finger Bass", 28, 55), _i("bass", 32, "Acoustic Bass", 28, 55),
                 _i("bass", 35, "Fretless Bass", 28, 55)),
        "harmony": (_i("keys", 4, "Rhodes", 48, 79), _i("piano", 0, "Grand Piano", 48, 79),
                    _i("guitar", 26, "Jazz Guitar", 48, 79)),
        "lead": (_i("mallets", 11, "Vibraphone", 60, 89), _i("guitar", 26, "Jazz Guitar", 55, 84),
                 _i("woodwinds", 73, "Flute", 60, 91), _i("keys", 4, "Rhodes", 60, 88)),
        "texture": (_i("guitar", 24, "Nylon Guitar", 52, 84), _i("plucked", 108, "Kalimba", 60, 89),
                    _i("synth_pad", 89, "Warm Pad", 55, 84)),
    },
    "ambient": {
        "drums": (_kit(24, "Electronic Kit"),),
        "bass": (_i("synth_pad", 92, "Bowed Pad", 33, 57), _i("bass", 35, "Fretless Bass", 28, 55),
                 _i("strings", 49, "Slow Strings", 36, 60)),
        "harmony": (_i("synth_pad", 94, "Halo Pad", 48, 79), _i("synth_pad", 88, "New Age Pad", 48, 79),
                    _i("strings", 49, "Slow Strings", 48, 79), _i("choir", 91, "Choir Pad", 48, 79)),
        "lead": (_i("mallets", 8, "Celesta", 60, 96), _i("woodwinds", 75, "Pan Flute", 60, 91),
                 _i("choir", 53, "Voice Oohs", 57, 79), _i("piano", 0, "Grand Piano", 57, 91)),
        "texture": (_i("plucked", 46, "Harp", 55, 96), _i("mallets", 98, "Crystal", 60, 96),
                    _i("mallets", 10, "Music Box", 65, 100)),
    },
    "folk": {
        "drums": (_kit(8, "Room Kit", "percussion"),),
        "bass": (_i("bass", 32, "Acoustic Bass", 28, 55), _i("strings", 43, "Contrabass", 28, 55)),
        "harmony": (_i("guitar", 25, "Steel Guitar", 40, 76), _i("guitar", 24, "Nylon Guitar", 40, 76),
                    _i("keys", 21, "Accordion", 48, 79)),
        "lead": (_i("strings", 110, "Fiddle", 57, 93), _i("woodwinds", 73, "Flute", 60, 93),
                 _i("woodwinds", 78, "Whistle", 67, 96), _i("keys", 21, "Accordion", 53, 84),
                 _i("plucked", 105, "Banjo", 55, 86)),
        "texture": (_i("plucked", 105, "Banjo", 55, 86), _i("plucked", 46, "Harp", 48, 91),
                    _i("guitar", 24, "Nylon Guitar", 48, 84)),
    },
    "rock": {
        "drums": (_kit(16, "Power Kit"), _kit(0, "Standard Kit")),
        "bass": (_i("bass", 34, "Picked Bass", 28, 55), _i("bass", 33, "Finger Bass", 28, 55)),
        "harmony": (_i("guitar", 29, "Overdriven Guitar", 40, 72), _i("guitar", 30, "Distortion Guitar", 40, 72),
                    _i("keys", 18, "Rock Organ", 48, 79)),
        "lead": (_i("guitar", 30, "Distortion Guitar", 55, 88), _i("synth_lead", 81, "Saw Lead", 55, 88),
                 _i("keys", 18, "Rock Organ", 55, 84)),
        "texture": (_i("keys", 18, "Rock Organ", 55, 79), _i("guitar", 27, "Clean Guitar", 52, 84),
                    _i("piano", 1, "Bright Piano", 55, 84)),
    },
    "jazz": {
        "drums": (_kit(40, "Brush Kit"), _kit(32, "Jazz Kit")),
        "bass": (_i("bass", 32, "Acoustic Bass", 28, 55),),
        "harmony": (_i("piano", 0, "Grand Piano", 48, 77), _i("guitar", 26, "Jazz Guitar", 48, 77),
                    _i("keys", 4, "Rhodes", 48, 77), _i("keys", 16, "Drawbar Organ", 48, 77)),
        "lead": (_i("woodwinds", 66, "Tenor Sax", 48, 77), _i("brass", 56, "Trumpet", 55, 82),
                 _i("brass", 59, "Muted Trumpet", 55, 82), _i("woodwinds", 65, "Alto Sax", 53, 81),
                 _i("mallets", 11, "Vibraphone", 55, 89), _i("woodwinds", 71, "Clarinet", 52, 86)),
        "texture": (_i("mallets", 11, "Vibraphone", 55, 84), _i("brass", 57, "Trombone", 45, 72),
                    _i("guitar", 26, "Jazz Guitar", 52, 79)),
    },
    "electronic": {
        "drums": (_kit(24, "Electronic Kit"), _kit(25, "TR-808")),
        "bass": (_i("bass", 39, "Synth Bass 2", 28, 55), _i("bass", 38, "Synth Bass 1", 28, 55)),
        "harmony": (_i("synth_pad", 90, "Polysynth", 52, 81), _i("synth_pad", 89, "Warm Pad", 52, 81),
                    _i("keys", 5, "Electric Piano 2", 52, 81)),
        "lead": (_i("synth_lead", 80, "Square Lead", 60, 91), _i("synth_lead", 81, "Saw Lead", 60, 91),
                 _i("plucked", 108, "Kalimba", 60, 91)),
        "texture": (_i("synth_lead", 81, "Saw Lead", 60, 96), _i("mallets", 98, "Crystal", 60, 96),
                    _i("synth_pad", 95, "Sweep Pad", 55, 84)),
    },
    "chiptune": {
        "drums": (_kit(25, "TR-808"), _kit(24, "Electronic Kit")),
        "bass": (_i("synth_lead", 81, "Saw Wave", 33, 57), _i("bass", 38, "Synth Bass 1", 28, 55)),
        "harmony": (_i("synth_lead", 80, "Square Wave", 55, 84),),
        "lead": (_i("synth_lead", 80, "Square Wave", 60, 96), _i("synth_lead", 82, "Calliope", 60, 96)),
        "texture": (),
    },
    "piano": {
        "drums": (),
        "bass": (_i("piano", 0, "Grand Piano", 28, 55),),
        "harmony": (_i("piano", 0, "Grand Piano", 43, 67),),
        "lead": (_i("piano", 0, "Grand Piano", 60, 91),),
        "texture": (_i("strings", 49, "Slow Strings", 48, 79), _i("synth_pad", 89, "Warm Pad", 48, 79)),
    },
    "choral": {
        "drums": (_kit(48, "Orchestra Kit", "percussion"),),
        "bass": (_i("keys", 19, "Church Organ", 28, 55), _i("strings", 43, "Contrabass", 28, 55),
                 _i("choir", 52, "Choir Aahs (bass)", 38, 60)),
        "harmony": (_i("choir", 52, "Choir Aahs", 50, 76), _i("keys", 19, "Church Organ", 48, 76)),
        "lead": (_i("choir", 53, "Voice Oohs", 60, 81), _i("choir", 52, "Choir Aahs (soprano)", 60, 81)),
        "texture": (_i("plucked", 46, "Harp", 48, 91), _i("mallets", 14, "Tubular Bells", 60, 77)),
    },
}

# A family the palette lacks can still take the lead or texture when its weight is high.
GENERIC: dict[str, Instrument] = {
    "piano": _i("piano", 0, "Grand Piano", 55, 91),
    "keys": _i("keys", 4, "Rhodes", 55, 88),
    "strings": _i("strings", 40, "Violin", 57, 96),
    "brass": _i("brass", 60, "French Horn", 45, 74),
    "woodwinds": _i("woodwinds", 73, "Flute", 60, 93),
    "choir": _i("choir", 53, "Voice Oohs", 57, 79),
    "guitar": _i("guitar", 27, "Clean Guitar", 52, 84),
    "plucked": _i("plucked", 46, "Harp", 48, 91),
    "mallets": _i("mallets", 11, "Vibraphone", 55, 89),
    "synth_pad": _i("synth_pad", 89, "Warm Pad", 48, 84),
    "synth_lead": _i("synth_lead", 81, "Saw Lead", 55, 91),
}
GENERIC_THRESHOLD = 0.75
_RANK_BONUS = (0.45, 0.22, 0.1, 0.05, 0.02, 0.0)


def choose_instruments(
    ensemble: str, weights: Mapping[str, float], arousal: float, rng: np.random.Generator
) -> dict[str, Instrument]:
    """Role -> instrument for this ensemble and these family weights (roles without a sound are left out)."""
    style = STYLES[ensemble]
    palette = PALETTES[ensemble]
    w = {k: float(v) for k, v in weights.items()}
    chosen: dict[str, Instrument] = {}
    for role in ROLES:
        candidates = list(palette.get(role, ()))
        if role in ("lead", "texture"):
            for fam, inst in GENERIC.items():
                if (w.get(fam, 0.0) >= GENERIC_THRESHOLD and all(c.family != fam for c in candidates)
                        and all(c.family != fam for c in chosen.values())):
                    candidates.append(inst)
        if not candidates:
            continue
        if role == "drums":
            if style.drums is None and w.get("drums", 0.0) < 0.6:
                continue
            beat = max(w.get("drums", 0.0), w.get("percussion", 0.0))
            if style.drums_optional and beat < 0.25 and arousal < 0.6:
                continue
        if role == "texture" and style.texture == "none":
            fam_w = max(w.get(c.family, 0.0) for c in candidates)
            if fam_w < 0.3:
                continue
        scores = []
        for rank, inst in enumerate(candidates):
            bonus = _RANK_BONUS[min(rank, len(_RANK_BONUS) - 1)] if inst not in GENERIC.values() else 0.0
            s = bonus + w.get(inst.family, 0.0) + 0.03 * float(rng.random())
            same_as = {r for r, c in chosen.items() if c.program == inst.program and c.bank == inst.bank}
            if role in ("lead", "texture") and "harmony" in same_as and ensemble not in ("piano", "choral"):
                s -= 1.0  # a different colour on top of the chords
            if role == "texture" and "lead" in same_as:
                s -= 1.0
            scores.append(s)
        chosen[role] = candidates[int(np.argmax(scores))]
    return chosen
