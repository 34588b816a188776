"""The shared host kit (`motif_client`), as the build vendors it into this plugin, and its wheels.

`scripts/build_resolve_plugin.py` copies the one client package into `motif_resolve/vendor/` (never
edit the copy) and unpacks grpcio/protobuf wheels per platform and Python into
`Fusion/Motif/site-packages/<platform>-<cpXY>/`: Resolve runs scripts with the Python installed on the
machine (or, from 21.1, its own), so the folder matching the running interpreter is added here.
"""

from __future__ import annotations

import site
import sys
from pathlib import Path
from typing import TYPE_CHECKING

PLUGIN_DIR = Path(__file__).resolve().parent.parent  # <Support>/Fusion/Motif
PLATFORMS = {"win32": "win", "darwin": "mac", "linux": "linux"}


def wheel_dir(plugin_dir: Path = PLUGIN_DIR) -> Path:
    """site-packages/<platform>-cp<major><minor> for the running interpreter."""
    plat = PLATFORMS.get(sys.platform, "linux")
    return plugin_dir / "site-packages" / f"{plat}-cp{sys.version_info[0]}{sys.version_info[1]}"


def ensure_wheel_paths(plugin_dir: Path = PLUGIN_DIR) -> list[Path]:
    """Add the bundled wheels for this Python when they exist and are not on sys.path yet."""
    p = wheel_dir(plugin_dir)
    if p.is_dir() and str(p) not in sys.path:
        site.addsitedir(str(p))
        return [p]
    return []


ensure_wheel_paths()

if TYPE_CHECKING:
    from motif_client import packinfo, rules, runner, tasks, timeline_score
    from motif_client.client import MotifClient
else:
    try:
        from .vendor.motif_client import packinfo, rules, runner, tasks, timeline_score
        from .vendor.motif_client.client import MotifClient
    except ImportError as exc:
        raise ImportError(
            "The Motif client library or its grpcio/protobuf wheels for this Python "
            f"({sys.version_info[0]}.{sys.version_info[1]}) are missing from the plugin ({exc}). Install it from "
            "the zip built by `make resolve-plugin` (`motif install resolve`)."
        ) from exc

__all__ = ["MotifClient", "ensure_wheel_paths", "packinfo", "rules", "runner", "tasks", "timeline_score"]
