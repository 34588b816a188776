"""Input readers: files given with a prompt (an edit, a sketch, a hummed melody) and what each contributes.

Every reader has the same small shape, so the pipeline treats them alike:

1. `read(raw)` checks and analyses its file **once**, in the job's preparation, before any work: a bad
   file is an InvalidArgument with a sentence, and nothing is queued or written;
2. the `Reading` it returns then contributes, in this order, (a) a base latent when the request has no
   prompt (`base`), (b) its fold into the latent (`fold`, before the user's pins, so pins win), (c) the
   decoders' options it implies, computed from the final latent (`options`; options the request gives
   explicitly win), and (d) what pack.json records about it (`record`, under `request.<name>`), so a
   pack says what its inputs were and what was derived from them.

Readers are registered by name in `READERS` (imported lazily, like decoders). The sketch keeps its
older route (an image decoder option, `pipeline._fold_sketch`); new readers come through here.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

from engine_server.errors import InvalidArgument, name_list
from engine_server.latent import Latent

READERS: dict[str, str] = {
    "edit": "engine_server.readers.edit:read_edit",
    "hum": "engine_server.readers.hum:read_hum",
}


class Reading(Protocol):
    """What one input reader found in its file."""

    name: str  # the reader's name, also the key of its record in pack.json's request
    decoders: tuple[str, ...]  # decoders to run when the request names none

    def base(self) -> Latent | None:
        """A latent to start from when the request has no prompt (None: a prompt is needed)."""

    def fold(self, latent: Latent, pinned: frozenset[str], prompted: bool = True) -> Latent:
        """The latent with this input's contribution folded in (fields in `pinned` are left alone);
        `prompted` says whether the latent came from a prompt (or a full latent) rather than `base`."""

    def options(self, latent: Latent) -> dict[str, dict[str, Any]]:
        """Decoder options implied by this input, from the job's final latent."""

    def record(self) -> dict[str, Any]:
        """What pack.json records: the input's identity, what was read and what was derived."""


def read_inputs(inputs: Mapping[str, Any]) -> list[Reading]:
    """Read every input of a request (raises InvalidArgument, before any work, when one is unusable)."""
    unknown = set(inputs) - set(READERS)
    if unknown:
        raise InvalidArgument(f"Unknown input(s): {name_list(unknown)}. Known: {', '.join(READERS)}.")
    out = []
    for name in READERS:
        if name in inputs and inputs[name] is not None:
            module, _, attr = READERS[name].partition(":")
            out.append(getattr(importlib.import_module(module), attr)(inputs[name]))
    return out


def merge_options(given: Mapping[str, Mapping[str, Any]], derived: Mapping[str, Mapping[str, Any]]
                  ) -> dict[str, dict[str, Any]]:
    """Derived options under the request's own: what the user set explicitly wins, key by key."""
    out = {k: dict(v) for k, v in derived.items()}
    for name, opts in given.items():
        out.setdefault(name, {}).update(opts)
    return out
