"""Small rules that the engine, the CLI and every host plugin must agree on, each stated once here.

This package never imports the engine, so the engine imports these (as it imports the proto
conversions) rather than the other way round. Plain Python only: hosts without numpy use them too.
"""

from __future__ import annotations

SEED_MAX = 2**32 - 1  # seeds are uint64 on the wire but 32-bit in every decoder's random generator


def seed_problem(seed: object) -> str | None:
    """Why `seed` is not a seed, as a sentence; None when it is one."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        return f"The seed must be a whole number from 0 to {SEED_MAX}; got {_shown(seed)}."
    if not 0 <= seed <= SEED_MAX:
        return f"The seed must be between 0 and {SEED_MAX}; got {_shown(seed)}."
    return None


def _shown(value: object, limit: int = 40) -> str:
    """A bad value as a sentence quotes it: a short prefix only (a sentence travels in 16 KiB of
    gRPC metadata, and a pasted 200 KB field must not fill it)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def parse_seed(text: str) -> int:
    """A seed typed as text (a command line, a text field); ValueError with the sentence otherwise."""
    try:
        value: object = int(text.strip(), 10)
    except ValueError:
        value = text
    problem = seed_problem(value)
    if problem:
        raise ValueError(problem)
    assert isinstance(value, int)
    return value


def srgb_to_linear(c: float) -> float:
    """One sRGB component (0..1) to linear light, for hosts that set colours in linear space.

    The engine's numpy version (its oklab module) is the same curve over arrays; the client
    package stays numpy-free, so the two share the test in tests/test_blender_core.py instead."""
    return c / 12.92 if c <= 0.04045 else ((max(c, 0.0) + 0.055) / 1.055) ** 2.4


def hex_to_linear(color: str) -> tuple[float, float, float]:
    """'#rrggbb' to linear RGB."""
    h = color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4))
    return (srgb_to_linear(r), srgb_to_linear(g), srgb_to_linear(b))

