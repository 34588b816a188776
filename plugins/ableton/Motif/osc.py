"""OSC datagrams in and out, with the python-osc copy bundled in vendor/ by the build step.

python-osc (pure Python, public domain) is what AbletonOSC bundles too; Live's Python has no pip,
so `make ableton-script` copies the package from the venv into vendor/ with its imports made
relative (a private copy: every Remote Script shares one interpreter).
"""

from __future__ import annotations

from typing import Any

try:
    from .vendor.pythonosc.osc_bundle import OscBundle
    from .vendor.pythonosc.osc_message import OscMessage
    from .vendor.pythonosc.osc_message_builder import OscMessageBuilder
except ImportError as exc:  # the source folder, not the built one
    raise ImportError("Motif: python-osc is not bundled in this folder. Build the Remote Script with "
                      "`make ableton-script` and copy dist/ableton/Motif (docs/ABLETON.md).") from exc

Message = tuple[str, tuple[Any, ...]]


def decode(data: bytes) -> list[Message]:
    """One datagram: a message or a bundle of them, flattened in order."""
    if OscBundle.dgram_is_bundle(data):
        out: list[Message] = []
        for item in OscBundle(data):
            out += decode(item.dgram) if isinstance(item, OscBundle) else [(item.address, tuple(item.params))]
        return out
    msg = OscMessage(data)
    return [(msg.address, tuple(msg.params))]


def encode(address: str, args: tuple[Any, ...]) -> bytes:
    """Types inferred as AbletonOSC's replies have them (int, float32, string, true/false, nil)."""
    builder = OscMessageBuilder(address)
    for a in args:
        builder.add_arg(a)
    return bytes(builder.build().dgram)
