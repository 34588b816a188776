"""`motif install resolve`: put the Resolve plugin where Resolve looks for scripts, per OS.

The zip built by `make resolve-plugin` holds one `Fusion/` folder laid out as Resolve's per-user
Fusion folder (Scripts/Utility/Motif.py and Motif/); this copies it there, replacing an earlier Motif
install and nothing else. Folders (Resolve's README, "Scripting" section; hosts.md §3):
Windows `%APPDATA%\\Blackmagic Design\\DaVinci Resolve\\Support\\Fusion`, macOS
`~/Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion`, Linux
`~/.local/share/DaVinciResolve/Fusion`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine_server.errors import MotifError

ROOT = Path(__file__).resolve().parent.parent
SYSTEMS = {"win32": "windows", "darwin": "mac", "linux": "linux"}


class InstallError(MotifError):
    code = "FAILED_PRECONDITION"


def resolve_fusion_dir(system: str, env: Mapping[str, str] | None = None) -> Path:
    """Resolve's per-user Fusion folder on `system` (windows, mac, linux)."""
    env = os.environ if env is None else env
    if system == "windows":
        appdata = env.get("APPDATA")
        if not appdata:
            raise InstallError("APPDATA is not set: cannot find Resolve's Support folder.")
        return Path(appdata) / "Blackmagic Design" / "DaVinci Resolve" / "Support" / "Fusion"
    home = Path(env.get("HOME") or Path.home())
    if system == "mac":
        return home / "Library" / "Application Support" / "Blackmagic Design" / "DaVinci Resolve" / "Fusion"
    return home / ".local" / "share" / "DaVinciResolve" / "Fusion"


def default_zip() -> Path:
    found = sorted((ROOT / "dist").glob("Motif-*-Resolve.zip"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise InstallError("No Resolve plugin is built: run `make resolve-plugin` (it writes "
                           "dist/Motif-<version>-Resolve.zip), or give one with --from.")
    return found[-1]


def install_resolve(zip_path: Path, fusion_dir: Path) -> list[Path]:
    """Copy the zip's Fusion/ tree into `fusion_dir`; returns the two things installed."""
    try:
        zf = zipfile.ZipFile(zip_path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InstallError(f"{zip_path} is not a Motif Resolve plugin zip ({exc}).") from None
    with zf, tempfile.TemporaryDirectory(prefix="motif-install-") as tmp:
        names = zf.namelist()
        if "Fusion/Scripts/Utility/Motif.py" not in names or not any(
                n.startswith("Fusion/Motif/motif_resolve/") for n in names):
            raise InstallError(f"{zip_path} is not a Motif Resolve plugin zip (no Fusion/Scripts/Utility/Motif.py).")
        if any(n.startswith("/") or ".." in Path(n).parts for n in names):
            raise InstallError(f"{zip_path} has paths outside its Fusion/ folder; refusing it.")
        zf.extractall(tmp)
        src = Path(tmp) / "Fusion"
        plugin, script = fusion_dir / "Motif", fusion_dir / "Scripts" / "Utility" / "Motif.py"
        script.parent.mkdir(parents=True, exist_ok=True)
        fresh = fusion_dir / ".Motif.installing"
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.copytree(src / "Motif", fresh)
        if plugin.exists():
            if not (plugin / "motif_resolve").is_dir():
                shutil.rmtree(fresh, ignore_errors=True)
                raise InstallError(f"{plugin} exists and is not Motif's: move it away first.")
            shutil.rmtree(plugin)
        fresh.rename(plugin)
        shutil.copy2(src / "Scripts" / "Utility" / "Motif.py", script)
    return [script, plugin]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("install", help="install a host plugin into its host's folder (resolve)")
    p.add_argument("host", choices=["resolve"], help="the host: resolve (DaVinci Resolve, Workspace › Scripts)")
    p.add_argument("--from", dest="zip", type=Path, help="the plugin zip (default: the newest in dist/)")
    p.add_argument("--os", dest="system", choices=sorted(set(SYSTEMS.values())),
                   default=SYSTEMS.get(sys.platform, "linux"), help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    fusion = resolve_fusion_dir(args.system)
    script, plugin = install_resolve(args.zip or default_zip(), fusion)
    print(f"Installed Motif for DaVinci Resolve:\n  {script}\n  {plugin}\n"
          "Restart Resolve, then open Workspace › Scripts › Motif (Python scripting needs Resolve Studio "
          "from 21.1; see docs/RESOLVE.md).")
    return 0
