"""Motif client library: the one module all plugins vendor (see scripts/vendor_client.py).

Only grpcio, protobuf and the generated stubs in `motif_pb/`; no engine imports.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .channel import DEFAULT_ADDRESS, is_local_address, is_loopback, parse_address
    from .client import Event, MotifClient
    from .errors import EngineError

__all__ = ["DEFAULT_ADDRESS", "EngineError", "Event", "MotifClient", "is_local_address", "is_loopback",
           "parse_address"]
_HOME = {"DEFAULT_ADDRESS": "channel", "is_local_address": "channel", "is_loopback": "channel",
         "parse_address": "channel", "EngineError": "errors", "Event": "client", "MotifClient": "client"}


def __getattr__(name: str) -> Any:
    """The names above, imported on first use: `motif_client.rules` (the seed rule the engine's decoder
    workers check) then costs no grpc or protobuf import (~60 ms and ~17 MB per worker)."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value
    return value
