"""Which decoders exist. Each entry is imported lazily so a job only loads what it runs."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable

from engine_server.decoders.base import Decoder
from engine_server.errors import InvalidArgument, quote

# name -> "module:Class". Order is the default run order; `after` on each decoder refines it.
_ENTRIES: dict[str, str] = {
    "probe": "engine_server.decoders.probe:ProbeDecoder",
    "mesh": "engine_server.decoders.mesh:MeshDecoder",
    "music": "engine_server.decoders.music:MusicDecoder",
    "image": "engine_server.decoders.image:ImageDecoder",
    "video": "engine_server.decoders.video:VideoDecoder",
    "score": "engine_server.decoders.score:ScoreDecoder",  # score to picture: score.otio (after music)
}
# Decoders a plain Generate runs when the request names none.
DEFAULT_DECODERS: tuple[str, ...] = ("mesh", "music", "image", "video")

_cache: dict[str, Decoder] = {}
log = logging.getLogger("motif.decoders")


def names() -> list[str]:
    return list(_ENTRIES)


def get(name: str) -> Decoder:
    if name not in _ENTRIES:
        raise InvalidArgument(f"Unknown decoder {quote(name)}. Available decoders: {', '.join(_ENTRIES)}.")
    if name not in _cache:
        module_name, _, attr = _ENTRIES[name].partition(":")
        _cache[name] = getattr(importlib.import_module(module_name), attr)()
    return _cache[name]


def warm_up() -> list[str]:
    """Import every decoder and run its optional `warm_up()` (a worker does this while idle, so the
    user's first job does not pay start-up costs). A failure is logged, never raised: the job that
    needs that decoder will report it properly. Returns the decoders that warmed up."""
    warmed = []
    for name in _ENTRIES:
        try:
            hook = getattr(get(name), "warm_up", None)
            if hook is not None:
                hook()
            warmed.append(name)
        except Exception:
            log.warning("decoder %s could not warm up; its first job will say why", name, exc_info=True)
    return warmed


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
