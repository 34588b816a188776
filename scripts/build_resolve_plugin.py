"""Build the Motif plugin for DaVinci Resolve: dist/Motif-<version>-Resolve.zip.

    python scripts/build_resolve_plugin.py                                  # every platform and Python
    python scripts/build_resolve_plugin.py --platforms linux --pythons 3.11 --out /tmp/x
    python scripts/build_resolve_plugin.py --stage-only                     # build/resolve_plugin/Fusion, no wheels

The zip holds one `Fusion/` folder, laid out as Resolve's per-user Support/Fusion folder is:
`Fusion/Scripts/Utility/Motif.py` (the entry under Workspace › Scripts) and `Fusion/Motif/` (the
`motif_resolve` package with the vendored client in `motif_resolve/vendor/motif_client`, and grpcio,
protobuf and typing_extensions unpacked per platform and Python in
`site-packages/<win|mac|linux>-cp<XY>/`). Resolve runs scripts with the Python on the machine (3.6+,
64-bit; 21.1 may bring its own), so wheels come for several Pythons; `motif_resolve/kit.py` adds the
folder of the running one. Wheels are fetched with the Unreal build's `fetch_wheels` (versions from
requirements.lock, cached in build/wheels/resolve/); nothing is downloaded when the plugin runs.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import build_unreal_plugin  # noqa: E402 - a sibling script: its wheel fetching and unpacking
import vendor_client  # noqa: E402 - a sibling script
from plugin_build import zip_folder  # noqa: E402 - a sibling script

SOURCE = ROOT / "plugins" / "resolve"
VENDOR = SOURCE / "vendor"
WHEEL_CACHE = ROOT / "build" / "wheels" / "resolve"
STAGE = ROOT / "build" / "resolve_plugin"
PLATFORMS: dict[str, str] = {  # plugin folder prefix -> pip --platform tag
    "win": "win_amd64",
    "mac": "macosx_11_0_universal2",
    "linux": "manylinux_2_17_x86_64",
}
PYTHONS = ("3.11", "3.12", "3.13")


def log(msg: str) -> None:
    print(f"build_resolve_plugin: {msg}", flush=True)


def version() -> str:
    text = (SOURCE / "motif_resolve" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if not found:
        raise SystemExit("build_resolve_plugin: motif_resolve/__init__.py has no __version__")
    return found.group(1)


def stage(platforms: list[str], pythons: list[str], out: Path = STAGE) -> Path:
    """out/Fusion: the per-user Fusion folder's part that Motif owns."""
    vendor_client.vendor(VENDOR)
    fusion = out / "Fusion"
    shutil.rmtree(out, ignore_errors=True)
    utility = fusion / "Scripts" / "Utility"
    utility.mkdir(parents=True)
    shutil.copy2(SOURCE / "Motif.py", utility / "Motif.py")
    plugin = fusion / "Motif"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    shutil.copytree(SOURCE / "motif_resolve", plugin / "motif_resolve", ignore=skip)
    shutil.copytree(VENDOR, plugin / "motif_resolve" / "vendor", ignore=skip)
    for platform in platforms:
        for py in pythons:
            build_unreal_plugin.unpack(fetch(platform, py), plugin / "site-packages" / wheel_key(platform, py))
    return fusion


def wheel_key(platform: str, python: str) -> str:
    """site-packages/<platform>-cp<XY>: the folder motif_resolve/kit.py picks for the running Python."""
    return f"{platform}-cp{python.replace('.', '')}"


def fetch(platform: str, python: str) -> list[Path]:
    return build_unreal_plugin.fetch_wheels(wheel_key(platform, python), python_version=python, cache=WHEEL_CACHE,
                                            tag=PLATFORMS[platform])


def zip_plugin(fusion: Path, out_dir: Path) -> Path:
    """dist/Motif-<version>-Resolve.zip with the Fusion/ folder at its top."""
    return zip_folder(fusion, out_dir / f"Motif-{version()}-Resolve.zip")


def build(platforms: list[str], pythons: list[str], out_dir: Path, stage_dir: Path = STAGE) -> Path:
    target = zip_plugin(stage(platforms, pythons, stage_dir), out_dir)
    log(f"built {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target} "
        f"({target.stat().st_size / 1e6:.1f} MB; {', '.join(platforms)} × Python {', '.join(pythons)})")
    return target


def _listed(text: str, known: tuple[str, ...] | list[str], what: str, ap: argparse.ArgumentParser) -> list[str]:
    values = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in values if v not in known]
    if unknown or not values:
        ap.error(f"unknown {what} {', '.join(unknown)}; known: {', '.join(known)}")
    return values


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--platforms", default=",".join(PLATFORMS), help="comma-separated: win,mac,linux")
    ap.add_argument("--pythons", default=",".join(PYTHONS), help="comma-separated Python versions")
    ap.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default dist/)")
    ap.add_argument("--stage-only", action="store_true", help="stage build/resolve_plugin/Fusion without wheels")
    ap.add_argument("--fetch-only", action="store_true",
                    help="only fill the wheel cache (make setup does this for linux/3.11, so tests build offline)")
    args = ap.parse_args(argv)
    if args.stage_only:
        log(f"staged {stage([], [])}")
        return 0
    platforms = _listed(args.platforms, list(PLATFORMS), "platform(s)", ap)
    pythons = _listed(args.pythons, PYTHONS, "Python(s)", ap)
    if args.fetch_only:
        for platform in platforms:
            for py in pythons:
                fetch(platform, py)
        return 0
    build(platforms, pythons, args.out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
