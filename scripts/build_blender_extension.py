"""Build the Motif Blender extension: dist/motif_blender-<version>-<platform>.zip, one per platform.

    python scripts/build_blender_extension.py                      # every platform (make blender-extension)
    python scripts/build_blender_extension.py --platforms linux-x64 --out /tmp/x

Steps: vendor the client library (scripts/vendor_client.py), fetch the binary wheels the client
needs (grpcio, protobuf and grpcio's typing_extensions, versions from requirements.lock) for
Blender's Python (cp311) with `pip download --only-binary=:all:` into build/wheels (a cache; never
at run time), stage plugins/blender/motif_blender + vendor + wheels under build/, then let Blender's
own extension tool (bl_pkg/cli/blender_ext.py, shipped in the bpy wheel) validate the package and
build one zip per platform (--split-platforms). Every zip is validated again.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import vendor_client  # noqa: E402 - a sibling script
from plugin_build import locked_versions  # noqa: E402 - a sibling script

SOURCE = ROOT / "plugins" / "blender" / "motif_blender"
VENDOR = ROOT / "plugins" / "blender" / "vendor"
WHEEL_CACHE = ROOT / "build" / "wheels"
STAGE = ROOT / "build" / "blender_extension"
PYTHON_VERSION = "3.11"
ABI = "cp311"
# Blender platform -> pip --platform tags to try (first hit wins). grpcio publishes universal2 for macOS.
PLATFORMS: dict[str, tuple[str, ...]] = {
    "linux-x64": ("manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    "linux-arm64": ("manylinux_2_17_aarch64", "manylinux2014_aarch64"),
    "windows-x64": ("win_amd64",),
    "windows-arm64": ("win_arm64",),
    "macos-x64": ("macosx_11_0_x86_64", "macosx_10_14_x86_64"),
    "macos-arm64": ("macosx_11_0_arm64",),
}
BINARY = ("grpcio",)  # one wheel per platform
PURE = ("protobuf", "typing_extensions")  # one wheel for all
MARKER = re.compile(r"^# @wheels@.*$", re.MULTILINE)


def log(msg: str) -> None:
    print(f"build_blender_extension: {msg}", flush=True)


def manifest() -> dict:
    with (SOURCE / "blender_manifest.toml").open("rb") as fh:
        return tomllib.load(fh)


def blender_ext_cli() -> Path:
    """bl_pkg's command line tool inside the installed bpy wheel."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("build_blender_extension: bpy is not installed in this Python; run `make setup`.")
    base = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(base.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        raise SystemExit(f"build_blender_extension: no bl_pkg/cli/blender_ext.py under {base}")
    return found[-1]


def _wheel_name(dist: str) -> str:
    return dist.lower().replace("-", "_")


def _cached(dist: str, version: str, tags: tuple[str, ...] | None) -> Path | None:
    prefix = f"{_wheel_name(dist)}-{version}-"
    for p in sorted(WHEEL_CACHE.glob(f"{prefix}*.whl")):
        plat = p.stem.split("-")[-1]
        if tags is None and plat == "any":
            return p
        if tags is not None and plat != "any" and f"{ABI}-{ABI}" in p.name and _platform_matches(plat, tags):
            return p
    return None


def _platform_matches(wheel_platform: str, tags: tuple[str, ...]) -> bool:
    """Does a wheel's (possibly compressed) platform tag serve one of `tags`? universal2 serves macOS."""
    parts = wheel_platform.split(".")
    for tag in tags:
        if tag in parts:
            return True
        if tag.startswith("macosx_") and any(p.startswith("macosx_") and p.endswith("_universal2") for p in parts):
            return True
    return False


def fetch_wheel(dist: str, version: str, tags: tuple[str, ...] | None) -> Path | None:
    """One wheel from PyPI into build/wheels (reused when present). None if none is published."""
    hit = _cached(dist, version, tags)
    if hit:
        return hit
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    for tag in tags or ("manylinux_2_17_x86_64",):
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--python-version", PYTHON_VERSION, "--implementation", "cp", "--abi", ABI, "--platform", tag,
               "--dest", str(WHEEL_CACHE), f"{dist}=={version}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        hit = _cached(dist, version, tags) if proc.returncode == 0 else None
        if hit:
            log(f"fetched {hit.name}")
            return hit
        errors.append(f"--platform {tag}: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
    if tags is None:
        log(f"no wheel for {dist}=={version}: {'; '.join(errors)}")
    return None


def collect_wheels(platforms: list[str]) -> tuple[list[Path], list[str]]:
    """Wheels for the platforms, and the platforms that have none (they are left out)."""
    pins = locked_versions()
    wheels: list[Path] = []
    missing: list[str] = []
    for dist in PURE:
        wheel = fetch_wheel(dist, pins[_wheel_name(dist)], None)
        if wheel is None:
            raise SystemExit(f"build_blender_extension: no wheel for {dist}=={pins[_wheel_name(dist)]}")
        wheels.append(wheel)
    served: list[str] = []
    for platform in platforms:
        got = [fetch_wheel(dist, pins[_wheel_name(dist)], PLATFORMS[platform]) for dist in BINARY]
        if any(w is None for w in got):
            missing.append(platform)
            continue
        served.append(platform)
        wheels += [w for w in got if w is not None and w not in wheels]
    return wheels, missing


def stage(platforms: list[str], wheels: list[Path]) -> Path:
    """build/blender_extension/motif_blender: the package as Blender will install it."""
    vendor_client.vendor(VENDOR)
    pkg = STAGE / "motif_blender"
    shutil.rmtree(STAGE, ignore_errors=True)
    shutil.copytree(SOURCE, pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "vendor", "wheels"))
    shutil.copytree(VENDOR, pkg / "vendor", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
    (pkg / "wheels").mkdir()
    for w in wheels:
        shutil.copy2(w, pkg / "wheels" / w.name)
    text = (SOURCE / "blender_manifest.toml").read_text(encoding="utf-8")
    listed = ", ".join(f'"./wheels/{w.name}"' for w in wheels)
    if not MARKER.search(text):
        raise SystemExit("build_blender_extension: blender_manifest.toml lost its '# @wheels@' line")
    text = MARKER.sub(lambda _m: f"wheels = [{listed}]", text)
    text = re.sub(r"^platforms = \[.*\]$", "platforms = [" + ", ".join(f'"{p}"' for p in platforms) + "]",
                  text, flags=re.MULTILINE)
    (pkg / "blender_manifest.toml").write_text(text, encoding="utf-8")
    return pkg


def run_cli(*args: str) -> str:
    proc = subprocess.run([sys.executable, str(blender_ext_cli()), *args], capture_output=True, text=True,
                          check=False)
    out = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 or "FATAL_ERROR" in out:
        raise SystemExit(f"build_blender_extension: blender_ext {args[0]} failed:\n{out}")
    return out


def build(platforms: list[str], out_dir: Path) -> list[Path]:
    wheels, missing = collect_wheels(platforms)
    for p in missing:
        log(f"skipping {p}: grpcio publishes no cp311 wheel for it")
    platforms = [p for p in platforms if p not in missing]
    if not platforms:
        raise SystemExit("build_blender_extension: no platform left to build")
    m = manifest()
    pkg = stage(platforms, wheels)
    log(run_cli("validate", str(pkg)).splitlines()[-1])
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir / f"{m['id']}-{m['version']}.zip"
    for old in out_dir.glob(f"{m['id']}-{m['version']}-*.zip"):
        old.unlink()
    run_cli("build", "--source-dir", str(pkg), "--output-filepath", str(base), "--split-platforms")
    zips = sorted(out_dir.glob(f"{m['id']}-{m['version']}-*.zip"))
    for z in zips:
        run_cli("validate", str(z))
        log(f"built and validated {z.relative_to(ROOT) if z.is_relative_to(ROOT) else z} "
            f"({z.stat().st_size / 1e6:.1f} MB)")
    return zips


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--platforms", default=",".join(p for p in PLATFORMS if p != "windows-arm64"),
                    help="comma-separated Blender platforms (default: all with grpcio wheels)")
    ap.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default dist/)")
    args = ap.parse_args(argv)
    platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown:
        ap.error(f"unknown platform(s) {', '.join(unknown)}; known: {', '.join(PLATFORMS)}")
    build(platforms, args.out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
