"""Domain errors. Each carries the gRPC status it maps to and a sentence a person understands.

Raise these anywhere in the engine; the server's single error mapper turns them into statuses,
and the CLI prints their message. Anything else that escapes is an internal bug.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable


class MotifError(Exception):
    """Base class: `code` is a grpc.StatusCode name."""

    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(MotifError):
    code = "INVALID_ARGUMENT"


class NotFound(MotifError):
    code = "NOT_FOUND"


class OutOfRange(MotifError):
    code = "OUT_OF_RANGE"


class Cancelled(MotifError):
    code = "CANCELLED"


class DeadlineExceeded(MotifError):
    code = "DEADLINE_EXCEEDED"


class Unavailable(MotifError):
    code = "UNAVAILABLE"


class FailedPrecondition(MotifError):
    code = "FAILED_PRECONDITION"


class ResourceExhausted(MotifError):
    code = "RESOURCE_EXHAUSTED"


class Aborted(MotifError):
    """The engine stopped under a job (killed, crashed, shut down): the job is interrupted and resumable."""

    code = "ABORTED"


class DecoderFailed(MotifError):
    """A decoder raised or its worker died; the job fails, the server stays up."""

    code = "INTERNAL"


ERRORS_BY_CODE: dict[str, type[MotifError]] = {
    cls.code: cls
    for cls in (InvalidArgument, NotFound, OutOfRange, Cancelled, DeadlineExceeded, Unavailable,
                FailedPrecondition, ResourceExhausted, Aborted, DecoderFailed)
}


def error_from_code(code: str, message: str) -> MotifError:
    """Rebuild a domain error that crossed a process boundary."""
    return ERRORS_BY_CODE.get(code, DecoderFailed)(message)


# ---------------------------------------------------------------- echoing input in sentences

QUOTE_CHARS = 60  # of a bad value repeated in a sentence
MAX_MESSAGE_BYTES = 2048  # of a whole sentence (gRPC sends it as percent-encoded metadata, 16 KiB in all)


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """A bad value as a sentence shows it: its repr, cut to a short prefix (and its length) when long.

    Errors repeat bad input so people can fix it; a 200 KB field repeated whole would overflow gRPC's
    16 KiB metadata limit and the sentence would never arrive. Every echo of input goes through here.
    """
    if isinstance(value, str | bytes | bytearray):
        head = repr(value[:limit])
        if len(value) <= limit:
            return head
        unit = "characters" if isinstance(value, str) else "bytes"
        return f"{head}… ({len(value):,} {unit})"
    try:
        text = _REPR.repr(value)
    except (ValueError, RecursionError):  # e.g. an int of more than 4,300 digits
        return "a number too long to show" if isinstance(value, int) else "a value too large to show"
    return text if len(text) <= limit else f"{text[:limit]}…"


def name_list(values: Iterable[object], limit: int = 8) -> str:
    """Names from a request (unknown keys, fields) joined for a sentence: sorted, each clipped, at most `limit`."""
    items = sorted({clip(str(v), 40) for v in values})
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit:,} more"


def clip_message(message: str, limit: int = MAX_MESSAGE_BYTES) -> str:
    """A sentence short enough for gRPC's status metadata (the last guard, after `quote`)."""
    raw = message.encode("utf-8")
    if len(raw) <= limit:
        return message
    return raw[:limit].decode("utf-8", errors="ignore") + f"… (message cut at {limit:,} of {len(raw):,} bytes)"


def clip(text: str, limit: int = 120) -> str:
    """A text from outside (an exception's message, a name) cut to `limit` characters for a sentence."""
    return text if len(text) <= limit else f"{text[:limit]}…"


def _bounded_repr() -> reprlib.Repr:
    """reprlib stops early on long containers, so a huge list costs no more to show than a short one."""
    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlong, r.maxlevel = QUOTE_CHARS, QUOTE_CHARS, 40, 3
    r.maxlist = r.maxtuple = r.maxset = r.maxdict = 6
    return r


_REPR = _bounded_repr()
