"""What every host-plugin build step shares: the pins the bundled wheels follow, and the zip it ships.

`build_blender_extension.py`, `build_unreal_plugin.py` and `build_resolve_plugin.py` import these, so the
three zips bundle the same client versions the tests ran with and are written the same way (to a
temporary name, then renamed: an interrupted build never leaves a zip that looks finished).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def locked_versions() -> dict[str, str]:
    """Pins from requirements.lock (name normalised to lower_snake), so a bundled wheel matches the tests'."""
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().split():
        name, sep, version = line.partition("==")
        if sep:
            pins[name.lower().replace("-", "_")] = version
    return pins


def zip_folder(folder: Path, target: Path) -> Path:
    """`target` holding `folder` itself at its top (caches left out), written under a temporary name first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                zf.write(p, p.relative_to(folder.parent).as_posix())
    tmp.replace(target)
    return target
