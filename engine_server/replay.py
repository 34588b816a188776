"""`motif replay`: regenerate a pack from its manifest and compare, asset by asset.

Decoder output is compared by `content_sha256` (the bytes before provenance labelling), which is
what any install reproduces; the signed files are compared too, and match on the install that
signed them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine_server import pipeline
from engine_server.store import PackStore, StagedFile, sha256_file


@dataclass(frozen=True)
class ReplayRow:
    path: str
    expected: str
    got: str

    @property
    def equal(self) -> bool:
        return self.expected == self.got


def spec_from_manifest(manifest: dict[str, Any]) -> pipeline.JobSpec:
    req = manifest["request"]
    return pipeline.JobSpec(
        prompt=req.get("prompt"),
        latent=req.get("latent"),
        pins=req.get("pins", {}),
        seed=int(manifest["seed"]),
        decoders=tuple(req["decoders"]),
        quality=req.get("quality", "draft"),
        options=req.get("options", {}),
    )


def _models(manifest: dict[str, Any]) -> dict[str, Any]:
    value = manifest.get("models")
    return value if isinstance(value, dict) else {}


def replay(store: PackStore, manifest: dict[str, Any], encoder: pipeline.LatentSource | None) -> list[ReplayRow]:
    """Regenerate in a private staging folder (the store is not touched) and compare contents.

    A pack whose models name no subject map was encoded before latent v2: it replays with v1 latents."""
    if encoder is not None and "subject_map" not in _models(manifest) and hasattr(encoder, "encode_v1"):
        from engine_server.encoder import LegacyEncoder

        encoder = LegacyEncoder(encoder)  # type: ignore[arg-type]
    job = pipeline.prepare(spec_from_manifest(manifest), encoder)
    rows: list[ReplayRow] = []
    if job.pack_id != manifest["pack_id"]:
        rows.append(ReplayRow("(recipe)", manifest["pack_id"], job.pack_id))
    expected = {a["path"]: (a.get("meta") or {}).get("content_sha256", a["sha256"]) for a in manifest["assets"]
                if a["role"] != "provenance"}
    with store.staging() as staging:
        files: list[StagedFile] = pipeline.run_decoders(job, staging, lambda *_: None, lambda: False)
        got = {f.path: sha256_file(staging / f.path) for f in files}
    for path in sorted(expected.keys() | got.keys()):
        rows.append(ReplayRow(path, expected.get(path, "(absent)"), got.get(path, "(absent)")))
    return rows
