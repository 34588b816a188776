"""The shared host kit (`motif_client`), as the build vendors it into this extension.

`scripts/vendor_client.py` copies the one client package into `vendor/` (never edit the copy). The
type checker reads the source package itself: the same files, byte for byte.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from motif_client import channel, engine_process, packinfo, rules, runner, tasks
    from motif_client.client import MotifClient
else:
    try:
        from .vendor.motif_client import channel, engine_process, packinfo, rules, runner, tasks
        from .vendor.motif_client.client import MotifClient
    except ImportError as exc:
        raise ImportError(
            "The Motif client library or its grpcio/protobuf wheels are missing from this extension "
            f"({exc}). Reinstall the extension zip built by `make blender-extension` for this platform."
        ) from exc

__all__ = ["MotifClient", "channel", "engine_process", "packinfo", "rules", "runner", "tasks"]
