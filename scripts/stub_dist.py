"""Find one file of an installed host-API stub distribution, for the plugins' generated stand-ins.

The Unreal, Resolve and Live stand-ins (plugins/*/testing/) are generated from the published stub
packages pinned in requirements.lock. They read the stub as text (never import it), so they locate
the file through the distribution's metadata and refuse a version other than the one they model.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path


def installed_stub_file(dist_name: str, version: str, relpath: str) -> Path:
    """`relpath` (posix, as the wheel lists it) inside the installed `dist_name`=`version`."""
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit(f"{dist_name}=={version} is not installed: run `make setup` "
                         "(it is pinned in requirements.lock).") from None
    if dist.version != version:
        raise SystemExit(f"{dist_name} {dist.version} is installed; the stand-in is written for {version}.")
    for f in dist.files or []:
        if f.as_posix() == relpath:
            return Path(str(dist.locate_file(f)))
    raise SystemExit(f"{dist_name} has no {relpath}")
