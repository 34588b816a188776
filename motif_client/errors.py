"""The one error type of the client library (its own module so channel.py and client.py share it)."""

from __future__ import annotations


class EngineError(Exception):
    """A failed call: `code` is the gRPC status name, `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{message} [{code}]")
        self.code = code
        self.message = message
