"""Where things live on disk. One place, read when asked (never at import)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

REPO_ROOT = Path(__file__).resolve().parent.parent


def models_dir() -> Path:
    """Exported ONNX models and their data files (made by `scripts/setup.sh`)."""
    return Path(os.environ.get("MOTIF_MODELS_DIR", REPO_ROOT / "models"))


def store_dir() -> Path:
    """The content-addressed pack store (override with MOTIF_STORE for tests and studios)."""
    env = os.environ.get("MOTIF_STORE")
    return Path(env) if env else Path(platformdirs.user_data_dir("motif", "motif")) / "store"


def soundfont_path() -> Path:
    """General MIDI SoundFont from Debian's fluid-soundfont-gm (MIT)."""
    return Path(os.environ.get("MOTIF_SOUNDFONT", "/usr/share/sounds/sf2/FluidR3_GM.sf2"))


def node_modules_dir() -> Path:
    return REPO_ROOT / "node_modules"
