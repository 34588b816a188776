"""Build the Motif plugin for Unreal Engine 5: dist/Motif-<version>-UE5.zip.

    python scripts/build_unreal_plugin.py                               # every platform (make unreal-plugin)
    python scripts/build_unreal_plugin.py --platforms Linux --out /tmp/x
    python scripts/build_unreal_plugin.py --stage-only                  # build/unreal_plugin/Motif, no wheels, no zip

Steps: vendor the client library into plugins/unreal/vendor (scripts/vendor_client.py), stage
plugins/unreal/Motif with the copy as Content/Python/motif_unreal/vendor, and for each Unreal
platform unpack the wheels of grpcio and protobuf (versions from requirements.lock) and grpcio's
typing_extensions for Unreal's Python 3.11 into Content/Python/<Win64|Mac|Linux>/Lib/site-packages,
the folder Unreal adds to sys.path for that platform (its "Python plugin dependency" docs). Wheels
come from `pip download --only-binary=:all:` at build time into build/wheels/unreal/<platform>/ (a
cache; offline rebuilds reuse it); nothing is downloaded when the plugin runs. Each platform's
folder is complete on its own (pure wheels are copied into each), so two copies of a package can
never meet on one sys.path.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import vendor_client  # noqa: E402 - a sibling script
from plugin_build import locked_versions, zip_folder  # noqa: E402 - a sibling script

SOURCE = ROOT / "plugins" / "unreal" / "Motif"
VENDOR = ROOT / "plugins" / "unreal" / "vendor"
DESCRIPTOR = SOURCE / "Motif.uplugin"
WHEEL_CACHE = ROOT / "build" / "wheels" / "unreal"
STAGE = ROOT / "build" / "unreal_plugin"
PYTHON_VERSION = "3.11"
ABI = "cp311"
# Unreal platform folder -> pip --platform tag (grpcio publishes universal2 for macOS: Intel and Apple silicon)
PLATFORMS: dict[str, str] = {
    "Win64": "win_amd64",
    "Mac": "macosx_11_0_universal2",
    "Linux": "manylinux_2_17_x86_64",
}
PACKAGES = ("grpcio", "protobuf", "typing_extensions")  # typing_extensions: grpcio imports it


def log(msg: str) -> None:
    print(f"build_unreal_plugin: {msg}", flush=True)


def descriptor() -> dict:
    return json.loads(DESCRIPTOR.read_text(encoding="utf-8"))


def version() -> str:
    return str(descriptor()["VersionName"])


def _wheel_for(folder: Path, dist: str, ver: str) -> Path | None:
    found = sorted(folder.glob(f"{dist}-{ver}-*.whl"))
    return found[0] if found else None


def fetch_wheels(platform: str, *, python_version: str = PYTHON_VERSION, cache: Path = WHEEL_CACHE,
                 tag: str | None = None) -> list[Path]:
    """The wheels one platform needs, from the cache or `pip download` (one call per platform).

    The keywords let another host's build (scripts/build_resolve_plugin.py) fetch for its own Pythons."""
    pins = locked_versions()
    folder = cache / platform
    abi = "cp" + python_version.replace(".", "")
    wanted = {dist: pins[dist] for dist in PACKAGES}
    missing = [d for d, v in wanted.items() if _wheel_for(folder, d, v) is None]
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
               "--only-binary=:all:", "--platform", tag or PLATFORMS[platform], "--python-version", python_version,
               "--implementation", "cp", "--abi", abi, "--dest", str(folder),
               *(f"{d}=={wanted[d]}" for d in missing)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"build_unreal_plugin: pip download for {platform} failed:\n{proc.stderr.strip()}")
    wheels = []
    for dist, ver in wanted.items():
        wheel = _wheel_for(folder, dist, ver)
        if wheel is None:
            raise SystemExit(f"build_unreal_plugin: no {dist}=={ver} wheel for {platform} "
                             f"({tag or PLATFORMS[platform]})")
        wheels.append(wheel)
    if missing:
        log(f"{platform}: fetched {', '.join(w.name for w in wheels)}")
    return wheels


def unpack(wheels: list[Path], site_packages: Path) -> None:
    """Install wheels the simple way a wheel allows: unzip into site-packages (no scripts, no compiling)."""
    site_packages.mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(site_packages)


def stage(platforms: list[str], out: Path = STAGE) -> Path:
    """out/Motif: the plugin folder as a project's Plugins/ holds it."""
    vendor_client.vendor(VENDOR)
    plugin = out / "Motif"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(SOURCE, plugin, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "vendor"))
    python = plugin / "Content" / "Python"
    shutil.copytree(VENDOR, python / "motif_unreal" / "vendor", ignore=shutil.ignore_patterns("__pycache__", "*.pyc",
                                                                                              ".*"))
    for platform in platforms:
        unpack(fetch_wheels(platform), python / platform / "Lib" / "site-packages")
    return plugin


def zip_plugin(plugin: Path, out_dir: Path) -> Path:
    """dist/Motif-<version>-UE5.zip with the Motif/ folder at its top (unzip into <Project>/Plugins/)."""
    return zip_folder(plugin, out_dir / f"Motif-{version()}-UE5.zip")


def check_descriptor() -> None:
    """The descriptor fields Unreal and the issue need (a typo here only shows in the editor)."""
    d = descriptor()
    for key in ("FileVersion", "Version", "VersionName", "FriendlyName", "Category", "CanContainContent", "Plugins"):
        if key not in d:
            raise SystemExit(f"build_unreal_plugin: Motif.uplugin has no {key}")
    if d["FileVersion"] != 3 or d["CanContainContent"] is not True:
        raise SystemExit("build_unreal_plugin: Motif.uplugin needs FileVersion 3 and CanContainContent true")
    enabled = {p["Name"] for p in d["Plugins"] if p.get("Enabled")}
    if "PythonScriptPlugin" not in enabled:
        raise SystemExit("build_unreal_plugin: Motif.uplugin must enable PythonScriptPlugin")


def build(platforms: list[str], out_dir: Path, stage_dir: Path = STAGE) -> Path:
    check_descriptor()
    plugin = stage(platforms, stage_dir)
    target = zip_plugin(plugin, out_dir)
    log(f"built {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target} "
        f"({target.stat().st_size / 1e6:.1f} MB; platforms: {', '.join(platforms)})")
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--platforms", default=",".join(PLATFORMS), help="comma-separated: Win64,Mac,Linux")
    ap.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default dist/)")
    ap.add_argument("--stage-only", action="store_true", help="stage build/unreal_plugin/Motif without wheels or zip")
    ap.add_argument("--fetch-only", action="store_true",
                    help="only fill the wheel cache (make setup does this for Linux, so tests build offline)")
    args = ap.parse_args(argv)
    if args.fetch_only:
        for platform in [p.strip() for p in args.platforms.split(",") if p.strip()]:
            fetch_wheels(platform)
        return 0
    if args.stage_only:
        log(f"staged {stage([])}")
        return 0
    platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown or not platforms:
        ap.error(f"unknown platform(s) {', '.join(unknown)}; known: {', '.join(PLATFORMS)}")
    build(platforms, args.out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
