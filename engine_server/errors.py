"""Domain errors. Each carries the gRPC status it maps to and a sentence a person understands.

Raise these anywhere in the engine; the server's single error mapper turns them into statuses,
and the CLI prints their message. Anything else that escapes is an internal bug.
"""

from __future__ import annotations


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


class DecoderFailed(MotifError):
    """A decoder raised or its worker died; the job fails, the server stays up."""

    code = "INTERNAL"


ERRORS_BY_CODE: dict[str, type[MotifError]] = {
    cls.code: cls
    for cls in (InvalidArgument, NotFound, OutOfRange, Cancelled, DeadlineExceeded, Unavailable,
                FailedPrecondition, ResourceExhausted, DecoderFailed)
}


def error_from_code(code: str, message: str) -> MotifError:
    """Rebuild a domain error that crossed a process boundary."""
    return ERRORS_BY_CODE.get(code, DecoderFailed)(message)
