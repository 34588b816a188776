"""Motif for DaVinci Resolve: Workspace › Scripts › Motif.

This file goes in Resolve's Fusion/Scripts/Utility folder (`motif install resolve` puts it there);
the plugin itself, with the vendored client and its wheels, is in Fusion/Motif beside Scripts. Resolve
runs this file with `resolve`, `fusion` and `bmd` defined; all it does is find the plugin and open
the Motif window, or say why it cannot.
"""

import os
import sys


def _plugin_dir() -> str:
    """<Support>/Fusion/Motif: beside this script's Scripts folder, else where `motif install resolve` puts it
    (Resolve may run a script without __file__)."""
    script = globals().get("__file__") or (sys.argv[0] if sys.argv and sys.argv[0] else "")
    if script:
        here = os.path.dirname(os.path.abspath(script))  # <Support>/Fusion/Scripts/Utility
        found = os.path.normpath(os.path.join(here, os.pardir, os.pardir, "Motif"))
        if os.path.isdir(found):
            return found
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        base = os.path.join(os.environ.get("APPDATA", home), "Blackmagic Design", "DaVinci Resolve", "Support")
    elif sys.platform == "darwin":
        base = os.path.join(home, "Library", "Application Support", "Blackmagic Design", "DaVinci Resolve")
    else:
        base = os.path.join(home, ".local", "share", "DaVinciResolve")
    return os.path.join(base, "Fusion", "Motif")


def _run() -> None:
    folder = os.environ.get("MOTIF_RESOLVE_DIR") or _plugin_dir()
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        from motif_resolve import app
    except ImportError as exc:
        print(f"Motif: the plugin is not installed next to this script ({folder}): {exc}. "
              "Run `motif install resolve`.")
        return
    app.main(globals())


_run()
