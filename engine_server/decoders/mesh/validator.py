"""Run the Khronos glTF validator (npm `gltf-validator`, via scripts/validate_gltf.mjs) on GLB files.

Used by the tests and the benchmark; the engine never needs Node at run time. One Node process checks
a whole batch of files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine_server.config import REPO_ROOT, node_modules_dir
from engine_server.errors import FailedPrecondition

SCRIPT = REPO_ROOT / "scripts" / "validate_gltf.mjs"


@dataclass(frozen=True)
class Report:
    path: str
    errors: int
    warnings: int
    infos: int
    hints: int
    triangles: int | None
    messages: list[dict[str, Any]] = field(default_factory=list)

    def codes(self, severity: str | None = None) -> list[str]:
        return [m["code"] for m in self.messages if severity is None or m["severity"] == severity]


def available() -> bool:
    return shutil.which("node") is not None and (node_modules_dir() / "gltf-validator").is_dir()


def validate(paths: Sequence[Path | str], timeout: float = 300.0) -> list[Report]:
    """Validator reports for each file, in order."""
    if not available():
        raise FailedPrecondition("The glTF validator needs Node.js and `npm install` (node_modules/gltf-validator).")
    if not paths:
        return []
    proc = subprocess.run(
        ["node", str(SCRIPT), *map(str, paths)],
        capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT, check=False,
    )
    reports = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        reports.append(Report(
            path=r["path"],
            errors=int(r.get("numErrors", 0)),
            warnings=int(r.get("numWarnings", 0)),
            infos=int(r.get("numInfos", 0)),
            hints=int(r.get("numHints", 0)),
            triangles=r.get("totalTriangleCount"),
            messages=list(r.get("messages", [])) + ([{"code": "FATAL", "severity": "error", "message": r["fatal"]}]
                                                   if "fatal" in r else []),
        ))
    if len(reports) != len(paths):
        raise RuntimeError(f"validator returned {len(reports)} reports for {len(paths)} files: {proc.stderr[-2000:]}")
    return reports
