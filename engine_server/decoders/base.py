"""The one small interface every decoder implements, and the context it runs in.

A decoder reads the latent and a seed and writes standard files into a staging folder. It
declares what it reads, what it writes and what it costs, so the engine can order, estimate and
describe it without running it. Decoders never touch the pack store: the pipeline commits
their files atomically once every decoder has finished.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from engine_server.errors import Cancelled, InvalidArgument, name_list, quote
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


@dataclass(frozen=True)
class Needs:
    """What one run of a decoder asks of the machine it runs on. Only an executor that places work on a
    cluster reads it (engine_server/executors/ray_cluster.py: Ray resources): `blender` sends the decoder
    only to machines that have bpy, `gpus` is for decoders that need one (none today)."""

    cpus: float = 1.0
    gpus: float = 0.0
    blender: bool = False


def needs_of(decoder: object) -> Needs:
    """A decoder's `needs`, or one CPU and nothing else when it declares none."""
    needs = getattr(decoder, "needs", None)
    return needs if isinstance(needs, Needs) else Needs()


@runtime_checkable
class Decoder(Protocol):
    """A decoder plug-in. Implementations are plain classes registered in `registry.py`.

    A decoder may also define `warm_up(self) -> None`, which an idle worker runs once at start
    (`registry.warm_up`) to pay one-off start-up costs before the first job arrives, and `needs`
    (a `Needs`: CPUs, GPUs, Blender) for executors that place decoders on a cluster.
    """

    name: str
    summary: str
    reads: frozenset[str]  # latent fields it uses
    writes: Sequence[OutputSpec]
    after: Sequence[str]  # decoders whose outputs it consumes when they are in the same job
    placeholder: bool  # True only for stand-ins that real decoders will replace
    diagnostic: bool  # for engine checks only: hosts never offer it to an artist as a modality
    option_spec: type  # the dataclass of options it accepts (fields declared with `option`); Describe publishes it

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
        raise InvalidArgument(f"Unknown {decoder} option(s): {name_list(unknown)}. Known: {', '.join(known)}.")


# ---------------------------------------------------------------- option schemas
#
# Each decoder declares the options it accepts as a dataclass whose fields are made with `option`.
# That one declaration gives the decoder its list of known options and defaults, and gives Describe
# the schema it publishes (names, kinds, limits, docs), so hosts build requests instead of guessing.

OPTION_KINDS = ("int", "float", "bool", "string", "choice", "image", "midi", "list")


def option(default: Any, doc: str, *, kind: str = "", lo: float | None = None, hi: float | None = None,
           choices: Sequence[Any] = (), max_bytes: int = 0) -> Any:
    """A field of an options dataclass, with what Describe says about it.

    `kind` is inferred from the annotation (int, float, bool, str -> string, or choice when `choices`
    are given) unless set: "image" (base64 PNG/JPEG text), "midi" (base64 MIDI), "list" (a JSON list).
    `lo`/`hi` bound a number; `choices` lists the allowed values (strings, or numbers for an int);
    `max_bytes` is the decoded size limit of an image or MIDI file. A default of None means "none".
    """
    if kind and kind not in OPTION_KINDS:
        raise ValueError(f"option kind must be one of {', '.join(OPTION_KINDS)}; got {kind!r}")
    meta = {"doc": doc, "kind": kind, "lo": lo, "hi": hi, "choices": tuple(choices), "max_bytes": max_bytes}
    return field(default=default, metadata=meta)


def option_names(spec: type) -> tuple[str, ...]:
    """The option names an options dataclass declares, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(spec))


def option_defaults(spec: type) -> dict[str, Any]:
    """The declared defaults (options whose default is None have none and are left out)."""
    return {f.name: f.default for f in dataclasses.fields(spec) if f.default is not None}


def option_schema(spec: type) -> list[dict[str, Any]]:
    """What Describe publishes for each option: name, kind, doc, min, max, choices, default, max_bytes."""
    hints = typing.get_type_hints(spec)
    out = []
    for f in dataclasses.fields(spec):
        meta = f.metadata
        if "doc" not in meta:
            raise TypeError(f"{spec.__name__}.{f.name} must be declared with option() so Describe can publish it")
        kind = meta["kind"] or _kind_of(hints[f.name], bool(meta["choices"]))
        default = None if f.default is dataclasses.MISSING else f.default
        out.append({
            "name": f.name, "kind": kind, "doc": meta["doc"], "min": meta["lo"], "max": meta["hi"],
            "choices": [str(c) for c in meta["choices"]], "default": default, "default_json": json.dumps(default),
            "max_bytes": meta["max_bytes"],
        })
    return out


def _kind_of(annotation: Any, has_choices: bool) -> str:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]
    base = typing.get_origin(annotation) or annotation
    kinds: dict[Any, str] = {bool: "bool", int: "int", float: "float", list: "list", tuple: "list", Sequence: "list",
                             str: "choice" if has_choices else "string"}
    if base not in kinds:
        raise TypeError(f"cannot infer an option kind from {annotation!r}; pass kind=")
    return kinds[base]


def finite_number(value: Any) -> bool:
    """Whether a JSON value is a usable number: not a bool, not inf/nan, not an int past float range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int of 400 digits is valid JSON
        return False


def check_options(decoder: str, spec: type, options: Mapping[str, Any]) -> None:
    """Check options against their declaration alone (kinds, limits, choices): enough for simple decoders.

    Decoders whose options depend on each other (music's shape, video's even sizes) check further
    themselves; image, MIDI and list options are left to them.
    """
    reject_unknown_options(decoder, options, option_names(spec))
    for entry in option_schema(spec):
        name, kind = entry["name"], entry["kind"]
        if name not in options:
            continue
        value = options[name]
        what = f"{decoder} option {name}"
        if kind == "bool" and not isinstance(value, bool):
            raise InvalidArgument(f"{what} must be true or false; got {quote(value)}.")
        if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidArgument(f"{what} must be a whole number; got {quote(value)}.")
        if kind == "float" and not finite_number(value):
            raise InvalidArgument(f"{what} must be a finite number; got {quote(value)}.")
        if kind in ("string", "choice") and not isinstance(value, str):
            raise InvalidArgument(f"{what} must be text; got {quote(value)}.")
        if entry["choices"] and str(value) not in entry["choices"]:
            raise InvalidArgument(f"{what} must be one of {', '.join(entry['choices'])}; got {quote(value)}.")
        if kind in ("int", "float"):
            lo, hi = entry["min"], entry["max"]
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                bounds = (f"between {lo:g} and {hi:g}" if lo is not None and hi is not None
                          else f"at least {lo:g}" if lo is not None else f"at most {hi:g}")
                raise InvalidArgument(f"{what} must be {bounds}; got {quote(value)}.")
