"""Diagnostic decoder: writes the latent it received as JSON and nothing else.

It exists to measure the engine's own overhead (bench/engine.py) and to test the job machinery
without paying for real decoding. It is never part of a default pack, and Describe marks it
`diagnostic` so no host offers it to an artist as a modality.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from engine_server.decoders.base import (
    Asset,
    DecodeContext,
    DecodeRequest,
    OutputSpec,
    check_options,
    option,
)

MAX_SLEEP_S = 600.0
MAX_STEPS = 1000
MAX_HOLD_MB = 8192
SLEEP_SLICE_S = 0.05  # a cancel is noticed within this long, however long the probe was asked to wait


@dataclass(frozen=True)
class ProbeOptionSpec:
    """Options of the probe decoder (what Describe publishes)."""

    sleep_s: float = option(0.0, "seconds to wait in all, standing in for a slow decoder", lo=0.0, hi=MAX_SLEEP_S)
    steps: int = option(1, "progress events to report (the wait is split between them)", lo=1, hi=MAX_STEPS)
    crash: bool = option(False, "end the worker process halfway, to test that a dying decoder fails only its job")
    hold_mb: int = option(0, "MiB of memory to fill and hold while waiting, to test a node running out of memory",
                          lo=0, hi=MAX_HOLD_MB)


class ProbeDecoder:
    name = "probe"
    summary = "diagnostic: echoes the latent as JSON (no real content)"
    reads = frozenset({"seed"})
    writes = (OutputSpec("probe", "application/json", "the latent and options as received"),)
    after: tuple[str, ...] = ()
    placeholder = True
    diagnostic = True
    option_spec = ProbeOptionSpec

    def validate(self, request: DecodeRequest) -> None:
        check_options("probe", ProbeOptionSpec, request.options)

    def estimate_seconds(self, request: DecodeRequest) -> float:
        return float(request.options.get("sleep_s", 0.0))

    def decode(self, request: DecodeRequest, ctx: DecodeContext) -> list[Asset]:
        import os
        import time

        steps = int(request.options.get("steps", 1))
        sleep_s = float(request.options.get("sleep_s", 0.0))
        held = b"\x01" * (int(request.options.get("hold_mb", 0)) << 20)  # filled, so every page is really in use
        for i in range(steps):
            if request.options.get("crash") and i == steps // 2:
                os._exit(3)  # simulate a decoder that takes its process down
            end = time.monotonic() + sleep_s / steps
            while (left := end - time.monotonic()) > 0:
                time.sleep(min(left, SLEEP_SLICE_S))
                ctx.check_cancelled()
            ctx.progress((i + 1) / steps, f"probe step {i + 1}/{steps}")
        del held
        path = ctx.path("probe/latent.json")
        payload = {"seed": request.seed, "quality": request.quality, "latent": request.latent.to_dict()}
        path.write_text(json.dumps(payload, sort_keys=True, indent=1))
        return [Asset("probe", "probe/latent.json", "application/json")]
