"""`motif verify`: check a pack's files against pack.json and their C2PA manifests.

Says exactly what is wrong: a missing, truncated or edited file, a C2PA manifest that no longer
matches its bytes, one stripped, or one re-signed by a key other than this install's Motif key.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine_server.provenance.keys import SigningIdentity
from engine_server.provenance.label import EMBEDDED_TYPES, RECIPE_LABEL, SIDECAR_TYPE, _context
from engine_server.store import MANIFEST_NAME, sha256_file

_EXPLAIN = {
    "assertion.dataHash.mismatch": "its bytes changed after signing",
    "assertion.bmffHash.mismatch": "its bytes changed after signing",
    "claimSignature.mismatch": "the C2PA signature does not match the claim",
    "signingCredential.untrusted": "it was signed by a key other than this install's Motif key",
}


@dataclass(frozen=True)
class Finding:
    path: str
    ok: bool
    message: str


def verify_pack(folder: Path, identity: SigningIdentity | None = None) -> list[Finding]:
    """One finding per asset (and per problem); `ok` is False for anything a user must know."""
    manifest_path = folder / MANIFEST_NAME
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        return [Finding(MANIFEST_NAME, False, f"no {MANIFEST_NAME} in {folder}: this is not a Motif pack folder")]
    except json.JSONDecodeError as exc:
        return [Finding(MANIFEST_NAME, False, f"{MANIFEST_NAME} is not valid JSON ({exc}); it was edited or cut")]
    identity = identity or SigningIdentity.load()
    ctx = _context(identity, trust=True)
    findings: list[Finding] = []
    listed = {MANIFEST_NAME}
    for asset in manifest.get("assets", []):
        rel = asset["path"]
        listed.add(rel)
        findings.append(_check_file(folder, asset))
        if (folder / rel).is_file() and asset["media_type"] != SIDECAR_TYPE:
            findings.append(_check_c2pa(folder, asset, manifest["pack_id"], ctx))
    for extra in sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()):
        if extra not in listed:
            findings.append(Finding(extra, False, "is not listed in pack.json (added after the pack was made)"))
    return findings


def _check_file(folder: Path, asset: dict[str, Any]) -> Finding:
    rel = asset["path"]
    path = folder / rel
    if not path.is_file():
        return Finding(rel, False, "is missing")
    size = path.stat().st_size
    if size != asset["bytes"]:
        how = "truncated" if size < asset["bytes"] else "grown"
        return Finding(rel, False, f"was {how}: {size:,} bytes, pack.json says {asset['bytes']:,}")
    if sha256_file(path) != asset["sha256"]:
        return Finding(rel, False, "was edited: its sha256 differs from pack.json")
    return Finding(rel, True, "bytes match pack.json")


def _check_c2pa(folder: Path, asset: dict[str, Any], pack_id: str, ctx: Any) -> Finding:
    import c2pa

    rel = asset["path"]
    fmt = EMBEDDED_TYPES.get(asset["media_type"])
    sidecar_rel = (asset.get("meta") or {}).get("sidecar")
    data = (folder / rel).read_bytes()
    try:
        if fmt:
            reader = c2pa.Reader(fmt, io.BytesIO(data), context=ctx)
        else:
            if not sidecar_rel or not (folder / sidecar_rel).is_file():
                return Finding(rel, False, "has no C2PA sidecar (.c2pa) next to it")
            reader = c2pa.Reader("application/octet-stream", io.BytesIO(data),
                                 manifest_data=(folder / sidecar_rel).read_bytes(), context=ctx)
    except Exception as exc:  # the SDK raises its own error types for absent or broken manifests
        where = "embedded" if fmt else "sidecar"
        return Finding(rel, False, f"has no readable C2PA manifest ({where}): {exc}")
    report = json.loads(reader.json())
    state = reader.get_validation_state()
    codes = [s.get("code", "") for s in report.get("validation_status", []) or []]
    if state != "Trusted":
        reasons = sorted({_EXPLAIN.get(c, c) for c in codes}) or [f"validation state {state}"]
        return Finding(rel, False, f"C2PA check failed: {'; '.join(reasons)}")
    active = report["manifests"][report["active_manifest"]]
    recipe = next((a["data"] for a in active.get("assertions", []) if a.get("label") == RECIPE_LABEL), None)
    if recipe is None or recipe.get("pack_id") != pack_id:
        return Finding(rel, False, "its C2PA manifest belongs to another pack (recipe pack id differs)")
    return Finding(rel, True, f"C2PA manifest trusted ({'embedded' if fmt else 'sidecar'}), recipe matches")
