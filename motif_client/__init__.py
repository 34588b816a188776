"""Motif client library: the one module all plugins vendor (see scripts/vendor_client.py).

Only grpcio, protobuf and the generated stubs in `motif_pb/`; no engine imports.
"""

from .channel import is_local_address, is_loopback, parse_address
from .client import DEFAULT_ADDRESS, EngineError, Event, MotifClient

__all__ = ["DEFAULT_ADDRESS", "EngineError", "Event", "MotifClient", "is_local_address", "is_loopback",
           "parse_address"]
