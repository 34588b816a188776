"""Motif for Ableton Live: a MIDI Remote Script (control surface) that builds Motif packs into the set.

Live loads this folder from the User Library's Remote Scripts (docs/ABLETON.md) and calls
`create_instance`. The script speaks OSC over UDP on 127.0.0.1:11000 — AbletonOSC's documented
addresses plus `/motif/...` extensions — to `motif live`, the bridge outside Live that talks to the
engine (Live's Python cannot load grpcio). Everything runs on Live's main thread, a few messages per
tick of `schedule_message`, never blocking Live.
"""

from __future__ import annotations

from typing import Any


def create_instance(c_instance: Any) -> Any:
    """Live's entry point for a Remote Script."""
    from .surface import MotifSurface

    return MotifSurface(c_instance)
