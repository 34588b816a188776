"""The shared host kit (`motif_client`), as the build vendors it into this plugin.

`scripts/build_unreal_plugin.py` runs scripts/vendor_client.py to copy the one client package into
`motif_unreal/vendor/` (never edit the copy), and unpacks grpcio/protobuf wheels for Unreal's
Python 3.11 into `Content/Python/<Win64|Mac|Linux>/Lib/site-packages` (compiled, per platform) and
`Content/Python/Lib/site-packages` (pure). Unreal adds those folders to sys.path when it loads the
plugin; `ensure_wheel_paths` adds them too when they exist and are missing (an editor that only
knows one of the documented layouts, or a test interpreter). The type checker reads the source
package itself: the same files, byte for byte.
"""

from __future__ import annotations

import site
import sys
from pathlib import Path
from typing import TYPE_CHECKING

PYTHON_DIR = Path(__file__).resolve().parent.parent  # <Plugin>/Content/Python
PLATFORM_DIRS = {"win32": "Win64", "darwin": "Mac", "linux": "Linux"}


def platform_dir() -> str:
    return PLATFORM_DIRS.get(sys.platform, "Linux")


def wheel_paths(python_dir: Path = PYTHON_DIR) -> list[Path]:
    """The bundled site-packages folders for this platform, platform-specific first."""
    return [python_dir / platform_dir() / "Lib" / "site-packages", python_dir / "Lib" / "site-packages"]


def ensure_wheel_paths(python_dir: Path = PYTHON_DIR) -> list[Path]:
    """Add the bundled site-packages that exist and are not on sys.path yet (after what is there:
    an interpreter that already has grpcio keeps its own). Returns what was added."""
    added = []
    for p in wheel_paths(python_dir):
        if p.is_dir() and str(p) not in sys.path:
            site.addsitedir(str(p))
            added.append(p)
    return added


ensure_wheel_paths()

if TYPE_CHECKING:
    from motif_client import channel, glb, level_plan, packinfo, rules, runner, tasks
    from motif_client.client import MotifClient
else:
    try:
        from .vendor.motif_client import channel, glb, level_plan, packinfo, rules, runner, tasks
        from .vendor.motif_client.client import MotifClient
    except ImportError as exc:
        raise ImportError(
            "The Motif client library or its grpcio/protobuf wheels are missing from this plugin "
            f"({exc}). Install the plugin from the zip built by `make unreal-plugin`."
        ) from exc

__all__ = ["MotifClient", "channel", "ensure_wheel_paths", "glb", "level_plan", "packinfo", "rules", "runner",
           "tasks"]
