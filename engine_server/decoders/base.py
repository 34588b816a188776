"""The one small interface every decoder implements, and the context it runs in.

A decoder reads the latent and a seed and writes standard files into a staging folder. It
declares what it reads, what it writes and what it costs, so the engine can order, estimate and
describe it without running it. Decoders never touch the pack store: the pipeline commits
their files atomically once every decoder has finished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from engine_server.errors import Cancelled, InvalidArgument
from engine_server.latent import Latent

QUALITIES = ("draft", "final")


@dataclass(frozen=True)
class OutputSpec:
    """A kind of file a decoder writes."""

    role: str  # mesh | image | video | music | stem | midi | kit | ...
    media_type: str
    description: str


@dataclass(frozen=True)
class Asset:
    """One file a decoder wrote, relative to the staging folder."""

    role: str
    path: str  # posix, relative, e.g. "mesh/crate.glb"
    media_type: str
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DecodeRequest:
    """Everything a decoder may read: the latent, the seed, the quality and its own options."""

    latent: Latent
    seed: int
    quality: str = "draft"
    options: Mapping[str, Any] = field(default_factory=dict)


ProgressFn = Callable[[float, str], None]


class DecodeContext:
    """Where a decoder writes, how it reports progress, and how it learns it was cancelled.

    `upstream` holds the assets of decoders that ran before it (e.g. the image decoder stages
    the mesh decoder's kit).
    """

    def __init__(
        self,
        out_dir: Path,
        progress: ProgressFn,
        is_cancelled: Callable[[], bool],
        upstream: Mapping[str, Sequence[Asset]] | None = None,
    ) -> None:
        self.out_dir = out_dir
        self._progress = progress
        self._is_cancelled = is_cancelled
        self.upstream: Mapping[str, Sequence[Asset]] = upstream or {}

    def progress(self, fraction: float, message: str) -> None:
        """Report progress within this decoder (0..1) and stop promptly if cancelled."""
        self.check_cancelled()
        self._progress(min(max(fraction, 0.0), 1.0), message)

    def check_cancelled(self) -> None:
        if self._is_cancelled():
            raise Cancelled("The job was cancelled.")

    def path(self, relpath: str) -> Path:
        """Absolute path for a file this decoder is about to write (parent folders created)."""
        target = self.out_dir / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        return target


@runtime_checkable
class Decoder(Protocol):
    """A decoder plug-in. Implementations are plain classes registered in `registry.py`.

    A decoder may also define `warm_up(self) -> None`, which an idle worker runs once at start
    (`registry.warm_up`) to pay one-off start-up costs before the first job arrives.
    """

    name: str
    summary: str
    reads: frozenset[str]  # latent fields it uses
    writes: Sequence[OutputSpec]
    after: Sequence[str]  # decoders whose outputs it consumes when they are in the same job
    placeholder: bool  # True only for stand-ins that real decoders will replace

    def validate(self, request: DecodeRequest) -> None:
        """Reject an unplayable request with InvalidArgument before any work."""

    def estimate_seconds(self, request: DecodeRequest) -> float:
        """Rough cost on a 2-core machine, for queue estimates and Describe."""

    def decode(self, request: DecodeRequest, ctx: DecodeContext) -> list[Asset]:
        """Write files under ctx.out_dir and return them."""


def reject_unknown_options(decoder: str, options: Mapping[str, Any], known: Iterable[str]) -> None:
    """InvalidArgument naming the options a decoder does not know, and those it does (typos are common)."""
    known = list(known)
    unknown = set(options) - set(known)
    if unknown:
        raise InvalidArgument(f"Unknown {decoder} option(s): {', '.join(sorted(unknown))}. Known: {', '.join(known)}.")
