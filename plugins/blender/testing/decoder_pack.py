"""Write a pack with the engine's real decoders called directly (not through the engine), for
importer tests while a decoder is written but not yet listed in engine_server/decoders/registry.py.

    python plugins/blender/testing/decoder_pack.py OUT_DIR mesh,music [--prompt TEXT] [--seed N]

The files are exactly what the decoders write; pack.json follows the engine's manifest shape
(assets with role, path, media type, bytes, sha256 and the decoder's metadata). Decoders that are
missing or fail are reported and left out. Not shipped in the extension.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
CLASSES = {
    "mesh": "engine_server.decoders.mesh:MeshDecoder",
    "music": "engine_server.decoders.music:MusicDecoder",
    "image": "engine_server.decoders.image:ImageDecoder",
    "video": "engine_server.decoders.video:VideoDecoder",
}


def build(out: Path, decoders: list[str], prompt: str, seed: int, options: dict[str, Any]) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from engine_server.decoders.base import Asset, DecodeContext, DecodeRequest
    from engine_server.encoder import get_encoder

    latent = get_encoder().encode(prompt, seed)
    out.mkdir(parents=True, exist_ok=True)
    upstream: dict[str, list[Asset]] = {}
    entries: list[dict[str, Any]] = []
    made: list[str] = []
    skipped: dict[str, str] = {}
    for name in decoders:
        module, _, cls = CLASSES[name].partition(":")
        try:
            decoder = getattr(importlib.import_module(module), cls)()
            ctx = DecodeContext(out, lambda f, m: None, lambda: False, upstream)
            assets = decoder.decode(DecodeRequest(latent=latent, seed=seed, options=options.get(name, {})), ctx)
        except Exception as exc:  # a decoder still being written: leave it out, say why
            skipped[name] = f"{type(exc).__name__}: {exc}"
            continue
        upstream[name] = assets
        made.append(name)
        for a in assets:
            p = out / a.path
            entry: dict[str, Any] = {"role": a.role, "path": a.path, "media_type": a.media_type,
                                     "bytes": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
            if a.meta:
                entry["meta"] = dict(a.meta)
            entries.append(entry)
    request = {"prompt": prompt, "pins": {}, "decoders": made, "quality": "draft", "options": {}}
    pack_id = hashlib.sha256(json.dumps([request, seed, [e["sha256"] for e in entries]]).encode()).hexdigest()[:24]
    manifest = {"schema": "motif.pack/1", "pack_id": pack_id, "engine": {"name": "motif", "version": "decoders"},
                "models": {}, "request": request, "seed": seed, "latent": latent.to_dict(), "assets": entries,
                "provenance": {"machine_generated": True}, "replay": {"command": "decoder_pack.py"},
                "skipped": skipped}
    (out / "pack.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("decoders", help="comma-separated: mesh,music,image,video")
    ap.add_argument("--prompt", default="abandoned cyberpunk marketplace at dusk with rain")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--options", default="{}", help='per-decoder options JSON, e.g. {"mesh": {"texture_size": 512}}')
    args = ap.parse_args(argv)
    m = build(args.out, [d for d in args.decoders.split(",") if d], args.prompt, args.seed, json.loads(args.options))
    print(json.dumps({"pack_id": m["pack_id"], "made": m["request"]["decoders"], "skipped": m["skipped"],
                      "roles": sorted({a["role"] for a in m["assets"]})}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
