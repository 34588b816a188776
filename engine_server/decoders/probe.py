"""Diagnostic decoder: writes the latent it received as JSON and nothing else.

It exists to measure the engine's own overhead (bench/engine.py) and to test the job machinery
without paying for real decoding. It is never part of a default pack.
"""

from __future__ import annotations

import json

from engine_server.decoders.base import Asset, DecodeContext, DecodeRequest, OutputSpec, reject_unknown_options


class ProbeDecoder:
    name = "probe"
    summary = "diagnostic: echoes the latent as JSON (no real content)"
    reads = frozenset({"seed"})
    writes = (OutputSpec("probe", "application/json", "the latent and options as received"),)
    after: tuple[str, ...] = ()
    placeholder = True

    def validate(self, request: DecodeRequest) -> None:
        reject_unknown_options("probe", request.options, ("sleep_s", "crash", "steps"))

    def estimate_seconds(self, request: DecodeRequest) -> float:
        return float(request.options.get("sleep_s", 0.0))

    def decode(self, request: DecodeRequest, ctx: DecodeContext) -> list[Asset]:
        import os
        import time

        steps = int(request.options.get("steps", 1))
        sleep_s = float(request.options.get("sleep_s", 0.0))
        for i in range(steps):
            if request.options.get("crash") and i == steps // 2:
                os._exit(3)  # simulate a decoder that takes its process down
            if sleep_s:
                time.sleep(sleep_s / steps)
            ctx.progress((i + 1) / steps, f"probe step {i + 1}/{steps}")
        path = ctx.path("probe/latent.json")
        payload = {"seed": request.seed, "quality": request.quality, "latent": request.latent.to_dict()}
        path.write_text(json.dumps(payload, sort_keys=True, indent=1))
        return [Asset("probe", "probe/latent.json", "application/json")]
