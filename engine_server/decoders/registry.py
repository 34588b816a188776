"""Which decoders exist. Each entry is imported lazily so a job only loads what it runs."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from engine_server.decoders.base import Decoder
from engine_server.errors import InvalidArgument

# name -> "module:Class". Order is the default run order; `after` on each decoder refines it.
_ENTRIES: dict[str, str] = {
    "probe": "engine_server.decoders.probe:ProbeDecoder",
    "mesh": "engine_server.decoders.mesh:MeshDecoder",
    "music": "engine_server.decoders.music:MusicDecoder",
    "image": "engine_server.decoders.image:ImageDecoder",
    "video": "engine_server.decoders.video:VideoDecoder",
}
# Decoders a plain Generate runs when the request names none.
DEFAULT_DECODERS: tuple[str, ...] = ("mesh", "music", "image", "video")

_cache: dict[str, Decoder] = {}


def names() -> list[str]:
    return list(_ENTRIES)


def get(name: str) -> Decoder:
    if name not in _ENTRIES:
        raise InvalidArgument(f"Unknown decoder {name!r}. Available decoders: {', '.join(_ENTRIES)}.")
    if name not in _cache:
        module_name, _, attr = _ENTRIES[name].partition(":")
        _cache[name] = getattr(importlib.import_module(module_name), attr)()
    return _cache[name]


def resolve(requested: Iterable[str]) -> list[Decoder]:
    """Decoders for a request, in an order where each runs after those it consumes."""
    wanted = list(dict.fromkeys(requested)) or list(DEFAULT_DECODERS)
    if not wanted:
        raise InvalidArgument("No decoder was requested and no default decoders are installed.")
    decoders = [get(n) for n in wanted]
    ordered: list[Decoder] = []
    remaining = decoders[:]
    while remaining:
        for d in remaining:
            if not any(dep in wanted and dep not in {o.name for o in ordered} for dep in d.after):
                ordered.append(d)
                remaining.remove(d)
                break
        else:  # pragma: no cover - registry bug, not user input
            raise RuntimeError("decoder dependencies form a cycle")
    return ordered
