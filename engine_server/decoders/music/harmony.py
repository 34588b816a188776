"""Harmony per section: idiomatic progressions chosen by mode, valence and style, coloured by tension,
shaped by cadences (half cadences open a phrase, authentic ones close it, a loop's last chord leads
back to its first), and — when a melody is given — chosen to fit that melody.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine_server.decoders.music.plan import Plan, Section, phrases
from engine_server.decoders.music.score import ChordSpan
from engine_server.decoders.music.theory import Chord, parse_roman

# Four-chord phrase templates, each starting on the tonic so the key is heard at once.
# (language, mode, mood) -> templates;  mood: bright | mid | dark
_BANK: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("pop", "major", "bright"): ("I V vi IV", "I IV vi V", "I vi IV V", "I iii IV V", "I IV I V"),
    ("pop", "major", "mid"): ("I vi ii V", "I IV ii V", "I IV vi V", "I V IV V", "I vi IV V"),
    ("pop", "major", "dark"): ("I vi iii IV", "I iv I V", "I vi IV V"),
    ("pop", "minor", "bright"): ("i III VII VI", "i VII VI VII", "i III VII iv", "i VI III VII"),
    ("pop", "minor", "mid"): ("i VI III VII", "i VI VII i", "i iv VII III", "i VII VI V"),
    ("pop", "minor", "dark"): ("i iv VI V", "i VI iv V", "i iv v i", "i iv i V", "i VI VII V"),
    ("jazz", "major", "bright"): ("Imaj7 vi7 ii7 V7", "Imaj7 IVmaj7 iii7 vi7", "Imaj7 ii7 Imaj7 V7"),
    ("jazz", "major", "mid"): ("Imaj7 vi7 ii7 V7", "Imaj7 IVmaj7 ii7 V7", "Imaj7 vi7 IVmaj7 V7"),
    ("jazz", "major", "dark"): ("Imaj7 vi7 ii7 V7", "Imaj7 iv7 Imaj7 V7"),
    ("jazz", "minor", "bright"): ("iadd9 iv7 VImaj7 V7", "iadd9 IV7 iadd9 V7"),
    ("jazz", "minor", "mid"): ("iadd9 VImaj7 iiø7 V7", "iadd9 iv7 iadd9 V7"),
    ("jazz", "minor", "dark"): ("iadd9 iv7 iadd9 V7", "iadd9 VImaj7 iiø7 V7"),
    ("lofi", "major", "bright"): ("Imaj7 vi7 ii7 V7", "Imaj7 IVmaj7 iii7 vi7", "Imaj7 iii7 IVmaj7 V7"),
    ("lofi", "major", "mid"): ("Imaj7 vi7 IVmaj7 V7", "Imaj7 iii7 vi7 IVmaj7"),
    ("lofi", "major", "dark"): ("Imaj7 vi7 iv7 V7", "Imaj7 iii7 vi7 V7"),
    ("lofi", "minor", "bright"): ("i7 VImaj7 iv7 V7", "i9 VImaj7 IIImaj7 V7"),
    ("lofi", "minor", "mid"): ("i7 iv7 VImaj7 V7", "i9 VImaj7 iv7 v7"),
    ("lofi", "minor", "dark"): ("i7 iv7 i7 VImaj7", "i9 iv7 VImaj7 V7"),
    ("ambient", "major", "bright"): ("Iadd9 IVadd9 vi IVadd9", "Iadd9 V vi IVadd9", "Iadd9 iii IV I"),
    ("ambient", "major", "mid"): ("Iadd9 vi IVadd9 I", "Iadd9 IVadd9 ii V"),
    ("ambient", "major", "dark"): ("Iadd9 vi iii IV", "Iadd9 iv I V"),
    ("ambient", "minor", "bright"): ("iadd9 VI III VII", "iadd9 III VI VII"),
    ("ambient", "minor", "mid"): ("iadd9 VI iv i", "iadd9 VI III VII"),
    ("ambient", "minor", "dark"): ("iadd9 iv i VI", "iadd9 VI iv V"),
    ("cinematic", "major", "bright"): ("I V vi IV", "I iii IV V", "I IV vi V", "I vi IV V"),
    ("cinematic", "major", "mid"): ("I vi IV V", "I IV vi V", "I iii vi IV"),
    ("cinematic", "major", "dark"): ("I vi IV V", "I iv I V", "I bVI IV V"),
    ("cinematic", "minor", "bright"): ("i VI III VII", "i III VII VI"),
    ("cinematic", "minor", "mid"): ("i VI III VII", "i VI VII V", "i iv VI V"),
    ("cinematic", "minor", "dark"): ("i VI iv V", "i iv VI V", "i bII i V", "i VI bII V"),
    ("choral", "major", "bright"): ("I IV I V", "I vi IV V", "I V vi IV"),
    ("choral", "major", "mid"): ("I vi ii V", "I IV ii V", "I iii IV V"),
    ("choral", "major", "dark"): ("I iv I V", "I vi iii IV"),
    ("choral", "minor", "bright"): ("i III VII VI", "i VI III VII"),
    ("choral", "minor", "mid"): ("i iv VI V", "i VI iv V"),
    ("choral", "minor", "dark"): ("i iv i V", "i iv VI V"),
    ("folk", "major", "bright"): ("I IV I V", "I V vi IV", "I IV V I"),
    ("folk", "major", "mid"): ("I vi IV V", "I IV vi V"),
    ("folk", "major", "dark"): ("I vi IV V", "I vi ii V"),
    ("folk", "minor", "bright"): ("i VII VI VII", "i III VII i"),
    ("folk", "minor", "mid"): ("i VII i VII", "i VI VII i", "i iv VII i"),
    ("folk", "minor", "dark"): ("i iv i V", "i VI iv V"),
    ("rock", "major", "bright"): ("I V vi IV", "I IV V IV", "I IV I V"),
    ("rock", "major", "mid"): ("I IV vi V", "I V IV I", "I vi IV V"),
    ("rock", "major", "dark"): ("I vi IV V", "I iii IV V", "I vi iii V"),
    ("rock", "minor", "bright"): ("i VII VI VII", "i III VII VI"),
    ("rock", "minor", "mid"): ("i VI VII i", "i VI III VII"),
    ("rock", "minor", "dark"): ("i VI VII V", "i iv VI V"),
}
# Contrast (B) sections start away from the tonic.
_CONTRAST: dict[tuple[str, str], tuple[str, ...]] = {
    ("pop", "major"): ("vi IV I V", "IV V iii vi", "IV I V vi", "ii IV V V"),
    ("pop", "minor"): ("VI VII i i", "iv VI VII V", "VI III VII V", "iv v VI V"),
    ("jazz", "major"): ("IVmaj7 iv7 iii7 vi7", "ii7 V7 iii7 vi7"),
    ("jazz", "minor"): ("iv7 VII7 IIImaj7 VImaj7", "VImaj7 iiø7 V7 i7"),
    ("lofi", "major"): ("IVmaj7 iii7 ii7 V7", "vi7 ii7 IVmaj7 V7"),
    ("lofi", "minor"): ("VImaj7 iv7 i7 V7", "iv7 VII7 IIImaj7 V7"),
    ("ambient", "major"): ("IVadd9 vi Vsus4 V", "vi IVadd9 iii IV"),
    ("ambient", "minor"): ("VI III VII VII", "iv VI VII V"),
    ("cinematic", "major"): ("vi IV I V", "IV vi bVII V", "bVI bVII I V"),
    ("cinematic", "minor"): ("VI III VII i", "iv VI VII V", "VI VII iv V"),
    ("choral", "major"): ("vi iii IV V", "IV I ii V"),
    ("choral", "minor"): ("VI iv V i", "III VI iv V"),
    ("folk", "major"): ("IV I IV V", "vi IV V I"),
    ("folk", "minor"): ("VI VII i i", "III VII i V"),
    ("rock", "major"): ("IV V vi V", "vi IV V V"),
    ("rock", "minor"): ("VI VII VI V", "iv VI VII V"),
}


@dataclass(frozen=True)
class HarmonyChoice:
    """The progressions a piece uses: one for statements, one for contrast sections."""

    statement: tuple[str, ...]
    contrast: tuple[str, ...]


def mood(valence: float) -> str:
    return "bright" if valence > 0.3 else "dark" if valence < -0.3 else "mid"


def choose_progressions(language: str, mode: str, valence: float, rng: np.random.Generator) -> HarmonyChoice:
    bank = _BANK[(language, mode, mood(valence))]
    contrast = _CONTRAST[(language, mode)]
    statement = bank[int(rng.integers(len(bank)))].split()
    return HarmonyChoice(tuple(statement), tuple(contrast[int(rng.integers(len(contrast)))].split()))


def _dominant(language: str, tension: float) -> str:
    seventh = language in ("jazz", "lofi") or tension > 0.45
    return "V7" if seventh else "V"


def _cadence(symbols: list[str], cadence: str, language: str, mode: str, tension: float) -> list[str]:
    """Rewrite the end of a phrase's chord list for its cadence."""
    tonic = {"jazz": "Imaj7", "lofi": "Imaj7"}.get(language, "I") if mode == "major" else (
        "iadd9" if language in ("jazz", "lofi") else "i")
    dom = _dominant(language, tension)
    out = list(symbols)
    n = len(out)
    if cadence in ("none", "open") and mode == "minor" and not _is_dominant(out[-1]):
        if n > 1 and _is_dominant(out[-2]):
            out[-1] = "i"
        else:
            out[-1] = dom  # minor needs its raised leading tone, or it is heard as the relative major
        return out
    if cadence == "none":
        return out
    if cadence == "half":
        out[-1] = dom
    elif cadence in ("authentic", "final"):
        if n == 1:
            out[-1] = tonic
        else:
            out[-2], out[-1] = dom, tonic
            if n >= 3 and out[-3] in (dom, "V", "V7"):
                out[-3] = "ii7" if mode == "major" else "iv"
    elif cadence == "open" and n > 1 and _is_tonic(out[-1]):
        out[-1] = dom  # the loop must lead back into bar 1, not stop on it
    return out


def _is_dominant(symbol: str) -> bool:
    return re.fullmatch(r"V(7|9|sus4)*", symbol) is not None


def _is_tonic(symbol: str) -> bool:
    return symbol.lower().startswith("i") and not symbol.lower().startswith(("ii", "iv"))


def _fit(symbols: Sequence[str], n: int) -> list[str]:
    """A template stretched or cycled to n chords."""
    return [symbols[i % len(symbols)] for i in range(n)]


def plan_harmony(
    plan: Plan,
    key: str,
    mode: str,
    language: str,
    valence: float,
    tension: float,
    slow: bool,
    rng: np.random.Generator,
    melody_bars: dict[int, np.ndarray] | None = None,
) -> list[ChordSpan]:
    """Chord spans for the whole piece. `melody_bars` (bar -> 12-bin PC weights of a given melody)
    makes those bars choose the diatonic chord that fits the melody best, within the phrase's function."""
    choice = choose_progressions(language, mode, valence, rng)
    bpb = plan.beats_per_bar
    spans: list[ChordSpan] = []
    for section in plan.sections:
        template = choice.contrast if section.role == "contrast" else choice.statement
        section_phrases = phrases(section)
        for p_index, (start_bar, n_bars) in enumerate(section_phrases):
            is_last = p_index == len(section_phrases) - 1
            cadence = section.cadence if is_last else ("half" if p_index % 2 == 0 else "authentic")
            slow_here = (slow and plan.shape == "cue" and section.energy < 0.6 and n_bars >= 4
                         and section.role != "climax")
            n_chords = n_bars // 2 if slow_here else n_bars
            symbols = _fit(template, n_chords)
            if p_index % 2 == 1 and section.role != "contrast" and n_chords >= 4:
                symbols = [*template[:2], *_fit(template[2:], n_chords - 2)]
            symbols = _colour(symbols, language, mode, valence, tension, section, rng)
            symbols = _cadence(symbols, cadence, language, mode, tension)
            if melody_bars:
                symbols = _harmonise(symbols, start_bar, n_bars, n_chords, melody_bars, key, mode, language)
            bars_per_chord = n_bars / n_chords
            for c_index, sym in enumerate(symbols):
                first_bar = start_bar + round(c_index * bars_per_chord)
                next_bar = start_bar + round((c_index + 1) * bars_per_chord)
                chord = parse_roman(sym, key, mode)
                pedal = tension > 0.7 and section.role in ("intro", "contrast") and c_index < n_chords - 1
                spans.append(ChordSpan(first_bar * bpb, (next_bar - first_bar) * bpb, chord, first_bar, pedal))
    if plan.shape == "cue":
        last = spans[-1]
        end = max(plan.length_beats, last.start + last.dur)
        spans[-1] = ChordSpan(last.start, end - last.start, last.chord, last.bar, False)
    return _split_cadential_dominants(spans, language, mode, tension, bpb)


def _colour(symbols: list[str], language: str, mode: str, valence: float, tension: float, section: Section,
            rng: np.random.Generator) -> list[str]:
    """Tension and valence colour: suspensions, sevenths, borrowed and Neapolitan chords."""
    out = list(symbols)
    if language in ("jazz", "lofi", "ambient"):
        return out
    for i, sym in enumerate(out):
        if tension > 0.55 and sym == "V" and mode == "minor":
            out[i] = "V7"
        elif tension > 0.6 and sym == "IV" and mode == "major" and section.role == "contrast" and rng.random() < 0.5:
            out[i] = "iv"  # borrowed minor subdominant
        elif tension > 0.75 and sym == "iv" and mode == "minor" and rng.random() < 0.5:
            out[i] = "bII"  # Neapolitan
        elif valence > 0.5 and sym in ("I", "IV") and language in ("pop",) and rng.random() < 0.3:
            out[i] = sym + "add9"
    return out


_DIATONIC = {"major": ("I", "ii", "iii", "IV", "V", "vi"), "minor": ("i", "iv", "V", "VI", "III", "VII")}


def _harmonise(symbols: list[str], start_bar: int, n_bars: int, n_chords: int, melody_bars: dict[int, np.ndarray],
               key: str, mode: str, language: str) -> list[str]:
    """Replace chords under a given melody by the diatonic chord that holds most of its notes.

    The first chord stays a tonic and a cadential dominant stays a dominant when they fit at least
    as well as the alternatives, so the phrase keeps its function.
    """
    out = list(symbols)
    bars_per_chord = n_bars / n_chords
    for c in range(n_chords):
        b0 = start_bar + round(c * bars_per_chord)
        b1 = start_bar + round((c + 1) * bars_per_chord)
        w = sum((melody_bars[b] for b in range(b0, b1) if b in melody_bars), np.zeros(12))
        if w.sum() <= 0:
            continue

        def score(sym: str, w: np.ndarray = w) -> float:
            pcs = parse_roman(sym, key, mode).triad_pcs
            return float(sum(w[p] for p in pcs)) / float(w.sum())

        current = score(out[c]) + 0.15
        best = max(_DIATONIC[mode], key=score)
        if score(best) > current:
            out[c] = best
    return out


def _split_cadential_dominants(spans: list[ChordSpan], language: str, mode: str, tension: float,
                               bpb: float) -> list[ChordSpan]:
    """A dominant before a tonic gets a suspension (sus4 → 3) in tense music, or a ii in jazz, over its bar."""
    out: list[ChordSpan] = []
    for i, s in enumerate(spans):
        nxt = spans[i + 1] if i + 1 < len(spans) else None
        if (s.chord.is_dominant and nxt is not None and nxt.chord.is_tonic and s.dur >= bpb and bpb >= 3
                and (tension > 0.5 or language == "jazz")):
            half = bpb / 2 if bpb == 4 else bpb * 2 / 3 if bpb == 3 else s.dur / 2
            if language == "jazz":
                ii = (0, 3, 7, 10) if mode == "major" else (0, 3, 6, 10)
                first = Chord((s.chord.root + 7) % 12, ii, "ii7" if mode == "major" else "iiø7")
            else:
                first = Chord(s.chord.root, (0, 5, 7, 10) if 10 in s.chord.intervals else (0, 5, 7), "Vsus4")
            out.append(ChordSpan(s.start, half, first, s.bar, s.pedal))
            out.append(ChordSpan(s.start + half, s.dur - half, s.chord, s.bar, s.pedal))
        else:
            out.append(s)
    return out
