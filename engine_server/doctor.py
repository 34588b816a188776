"""`motif doctor`: check every dependency and say exactly how to fix what is missing."""

from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from engine_server import config

SETUP_HINT = "run `make setup` (it installs Python packages, Debian packages and exports the models)"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    optional: bool = False


def _module(name: str, purpose: str, optional: bool = False) -> Check:
    try:
        mod = importlib.import_module(name)
    except Exception as exc:  # any import failure is a finding, not a crash
        return Check(f"python: {name}", False, f"cannot import ({exc}); needed for {purpose}", SETUP_HINT, optional)
    version = getattr(mod, "__version__", "") or getattr(mod, "version", "")
    return Check(f"python: {name}", True, f"{version} ({purpose})".strip(), optional=optional)


def _file(name: str, path_fn: Callable[[], object], fix: str) -> Check:
    from pathlib import Path

    path = Path(str(path_fn()))
    if path.exists():
        return Check(name, True, str(path))
    return Check(name, False, f"missing: {path}", fix)


def _hum_model() -> Check:
    """basic-pitch's ONNX model, installed --no-deps by setup for hummed melodies (readers/hum)."""
    from engine_server.errors import MotifError
    from engine_server.readers.hum.transcribe import model_path

    try:
        return Check("model: basic-pitch (ONNX, hummed melodies)", True, str(model_path()))
    except MotifError as exc:
        return Check("model: basic-pitch (ONNX, hummed melodies)", False, exc.message, SETUP_HINT)


def run_checks() -> Iterator[Check]:
    yield Check(
        "python", sys.version_info[:2] == (3, 11), sys.version.split()[0],
        "Motif needs Python 3.11 (bpy 5.0.1 has wheels only for 3.11)",
    )
    for name, purpose in [
        ("grpc", "the engine API"), ("onnxruntime", "the text encoder"), ("tokenizers", "the text encoder"),
        ("numpy", "everything"), ("platformdirs", "the pack store"), ("mido", "MIDI files"),
        ("fluidsynth", "rendering music"), ("soundfile", "WAV files"), ("pyloudnorm", "loudness"),
        ("PIL", "images"), ("pygltflib", "GLB files"), ("colour", "colour science"), ("av", "video encoding"),
        ("c2pa", "provenance manifests"),
    ]:
        yield _module(name, purpose)
    yield _module("bpy", "rendering concept images and clips with Blender", optional=True)
    if "torch" in sys.modules:
        yield Check("runtime", False, "torch was imported by the engine", "report a bug: the engine must serve with "
                    "onnxruntime only")
    models = config.models_dir()
    yield _file("model: text encoder (ONNX)", lambda: models / "minilm" / "model.onnx", SETUP_HINT)
    yield _file("model: latent map (ONNX)", lambda: models / "latent_map-v1.onnx", SETUP_HINT)
    yield _hum_model()
    yield _file("soundfont (General MIDI)", config.soundfont_path,
                "sudo apt-get install fluid-soundfont-gm (or set MOTIF_SOUNDFONT)")
    node = shutil.which("node")
    yield Check("node (glTF validator, tests only)", node is not None, node or "not found",
                "sudo apt-get install nodejs", optional=True)
    validator = config.node_modules_dir() / "gltf-validator"
    yield Check("npm: gltf-validator (tests only)", validator.exists(), str(validator), "npm ci", optional=True)
    try:
        from engine_server.store import PackStore

        store = PackStore(config.store_dir())
        yield Check("pack store", True, str(store.root))
    except OSError as exc:
        yield Check("pack store", False, str(exc), "set MOTIF_STORE to a writable folder")
    from engine_server.decoders import registry

    for name in registry.names():
        try:
            d = registry.get(name)
        except Exception as exc:
            yield Check(f"decoder: {name}", False, f"cannot load ({exc})", SETUP_HINT)
            continue
        kind = "PLACEHOLDER - diagnostic stand-in, not a real decoder" if d.placeholder else "real"
        default = ", default" if name in registry.DEFAULT_DECODERS else ""
        yield Check(f"decoder: {name}", True, f"{d.summary} [{kind}{default}]")
