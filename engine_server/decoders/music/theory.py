"""Pitch, scale and chord arithmetic: the vocabulary every other composition module speaks.

Chords are written as roman numerals relative to the key's own scale ("i VI III VII" in minor,
"V7" is always a major-minor seventh), so progressions read like a musician's chart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine_server.latent import KEYS

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
_NUMERALS = ("i", "ii", "iii", "iv", "v", "vi", "vii")
_ROMAN = re.compile(r"^(?P<acc>[b#]?)(?P<num>VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)(?P<q>[°ø+]?)(?P<ext>.*)$")
_EXTENSIONS = ("maj7", "add9", "sus4", "sus2", "7", "9", "6")


def scale_of(mode: str) -> tuple[int, ...]:
    return MAJOR_SCALE if mode == "major" else MINOR_SCALE


def tonic_pc(key: str) -> int:
    return KEYS.index(key)


@dataclass(frozen=True)
class Chord:
    """A chord as a root pitch class and intervals above it (the first is 0)."""

    root: int
    intervals: tuple[int, ...]
    symbol: str  # roman numeral as written, e.g. "V7", "bVII", "iiø7"

    @property
    def pcs(self) -> tuple[int, ...]:
        return tuple((self.root + i) % 12 for i in self.intervals)

    @property
    def triad_pcs(self) -> tuple[int, ...]:
        """Root, third (or suspension) and fifth: the tones a melody may land on safely."""
        return self.pcs[:3]

    @property
    def fifth(self) -> int:
        return (self.root + self.intervals[2]) % 12

    def name(self) -> str:
        """Letter name, e.g. "G7", "F#m", "Bdim" (for people and metadata)."""
        third, fifth = self.intervals[1], self.intervals[2]
        quality = {(4, 7): "", (3, 7): "m", (3, 6): "dim", (4, 8): "aug", (5, 7): "sus4", (2, 7): "sus2"}.get(
            (third, fifth), ""
        )
        ext = ""
        if 10 in self.intervals[3:]:
            ext = "7" if quality != "dim" else "7(b5)"
            if quality == "dim":
                quality, ext = "m", "7b5"
        elif 11 in self.intervals[3:]:
            ext = "maj7"
        elif 9 in self.intervals[3:]:
            ext = "dim7" if quality == "dim" else "6"
            if quality == "dim":
                quality = ""
        if 14 in self.intervals:
            ext += "add9" if not ext else "(9)"
        flats = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
        root = flats[self.root] if self.symbol.startswith("b") else KEYS[self.root]
        return root + quality + ext

    @property
    def is_tonic(self) -> bool:
        core = _ROMAN.match(self.symbol)
        return bool(core) and core.group("num").lower() == "i" and core.group("acc") == ""  # type: ignore[union-attr]

    @property
    def is_dominant(self) -> bool:
        core = _ROMAN.match(self.symbol)
        return bool(core) and core.group("num") == "V" and core.group("acc") == ""  # type: ignore[union-attr]


def parse_roman(symbol: str, key: str, mode: str) -> Chord:
    """Chord for a roman numeral in a key: case gives the triad (upper major, lower minor), °/ø/+ alter it,
    b/# move the root, and maj7 / 7 / 9 / add9 / sus4 / sus2 / 6 extend it."""
    m = _ROMAN.match(symbol)
    if not m:
        raise ValueError(f"not a roman numeral: {symbol!r}")
    num, q, ext = m.group("num"), m.group("q"), m.group("ext")
    degree = _NUMERALS.index(num.lower())
    acc = {"b": -1, "#": 1, "": 0}[m.group("acc")]
    root = (tonic_pc(key) + scale_of(mode)[degree] + acc) % 12
    if q == "°":
        triad = [0, 3, 6]
    elif q == "ø":
        triad = [0, 3, 6, 10]
    elif q == "+":
        triad = [0, 4, 8]
    elif num.isupper():
        triad = [0, 4, 7]
    else:
        triad = [0, 3, 7]
    rest = ext
    while rest:
        for token in _EXTENSIONS:
            if rest.startswith(token):
                break
        else:
            raise ValueError(f"unknown chord extension in {symbol!r}")
        rest = rest[len(token) :]
        if token == "maj7":
            triad.append(11)
        elif token == "7":
            triad.append(9 if q == "°" else 10)
        elif token == "9":
            triad += [10, 14]
        elif token == "add9":
            triad.append(14)
        elif token == "6":
            triad.append(9)
        elif token == "sus4":
            triad[1] = 5
        elif token == "sus2":
            triad[1] = 2
    seen: list[int] = []
    for i in triad:
        if i not in seen:
            seen.append(i)
    return Chord(root, tuple(seen), symbol)


def chord_scale(chord: Chord, key: str, mode: str) -> tuple[int, ...]:
    """The key's scale bent to the chord: each chord tone outside the scale replaces its nearest neighbour.

    Over V in minor this gives harmonic minor (the raised leading tone), so passing notes never rub
    a semitone against the harmony.
    """
    tonic = tonic_pc(key)
    pcs = sorted((tonic + s) % 12 for s in scale_of(mode))
    for c in chord.pcs:
        if c in pcs:
            continue
        nearest = min(pcs, key=lambda p: (min((p - c) % 12, (c - p) % 12), p))
        if min((nearest - c) % 12, (c - nearest) % 12) <= 1 and nearest not in chord.pcs:
            pcs[pcs.index(nearest)] = c
    return tuple(sorted(set(pcs)))


def nearest_pitch(pc_set: tuple[int, ...] | frozenset[int], target: float, lo: int = 0, hi: int = 127) -> int:
    """The MIDI pitch with a class in `pc_set` closest to `target` (ties go down), within [lo, hi]."""
    best = None
    for p in range(max(lo, 0), min(hi, 127) + 1):
        if p % 12 in pc_set:
            d = abs(p - target)
            if best is None or d < best[0]:
                best = (d, p)
    if best is None:
        return int(min(max(round(target), lo), hi))
    return best[1]


def key_signature_name(key: str, mode: str) -> str:
    """Spelling accepted by MIDI key-signature meta events (fewest accidentals, e.g. A# major → Bb)."""
    major = {"C": "C", "C#": "Db", "D": "D", "D#": "Eb", "E": "E", "F": "F", "F#": "F#", "G": "G", "G#": "Ab",
             "A": "A", "A#": "Bb", "B": "B"}
    minor = {"C": "Cm", "C#": "C#m", "D": "Dm", "D#": "Ebm", "E": "Em", "F": "Fm", "F#": "F#m", "G": "Gm",
             "G#": "G#m", "A": "Am", "A#": "Bbm", "B": "Bm"}
    return major[key] if mode == "major" else minor[key]
