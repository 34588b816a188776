"""Motif's per-project settings, kept as JSON in the project's Saved/Motif folder.

Plain values the menus and the importer read (engine address and token, default seed and quality,
the content folder packs land in, whether to place the kit in the level, a studio's own master
material). They are edited in a details view (dialogs.edit_settings) and checked before saving, so
a bad address or folder is refused with a sentence, not discovered at the next Generate.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import unreal

from .kit import channel, level_plan, rules

FILE = "settings.json"
JOB_FILE = "job.json"
QUALITIES = ("draft", "final")


@dataclass
class Settings:
    address: str = channel.DEFAULT_ADDRESS
    token: str = ""
    ca_file: str = ""  # the engine's CA (`motif trust`), for an engine on another machine with TLS
    default_seed: int = 0
    quality: str = "draft"
    destination_root: str = level_plan.DEFAULT_ROOT
    place_in_level: bool = True
    master_material: str = ""  # a studio's own parent material (parameter names: docs/UNREAL.md); empty: Motif's


def folder() -> Path:
    """<Project>/Saved/Motif: settings, the remembered job, downloaded packs, import work files."""
    return Path(str(unreal.Paths.project_saved_dir())) / "Motif"


def packs_dir() -> Path:
    return folder() / "packs"


def work_dir(pack_id: str) -> Path:
    return folder() / "import" / level_plan.asset_name("", pack_id)


def load() -> Settings:
    """The saved settings; defaults for anything missing or unreadable (reported once in the log)."""
    path = folder() / FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        unreal.log_warning(f"Motif: {path} is unreadable ({exc}); using default settings.")
        return Settings()
    known = {f.name for f in fields(Settings)}
    values = {k: v for k, v in (data if isinstance(data, dict) else {}).items() if k in known}
    try:
        return Settings(**values)
    except TypeError:
        return Settings()


def problems(s: Settings) -> list[str]:
    """Why these settings cannot be used, as sentences (empty when they can)."""
    out = []
    try:
        channel.parse_address(s.address)
    except ValueError as exc:
        out.append(str(exc))
    problem = rules.seed_problem(s.default_seed)
    if problem:
        out.append(problem)
    if s.quality not in QUALITIES:
        out.append(f"Quality must be one of {', '.join(QUALITIES)}; got {s.quality!r}.")
    problem = level_plan.root_problem(s.destination_root)
    if problem:
        out.append(problem)
    if s.ca_file and not Path(s.ca_file).is_file():
        out.append(f"The CA file {s.ca_file} does not exist (get it with `motif trust` on the engine's machine).")
    if s.master_material and not s.master_material.startswith("/"):
        out.append(f"The master material must be a content path such as /Game/Materials/M_Studio; got "
                   f"{s.master_material!r}.")
    return out


def save(s: Settings) -> Path:
    """Write atomically; ValueError with the problems when the settings are not usable."""
    found = problems(s)
    if found:
        raise ValueError(" ".join(found))
    return _write(folder() / FILE, asdict(s))


def load_job() -> dict[str, Any] | None:
    """The job Motif was following when the editor last closed or crashed ({job_id, seq, prompt})."""
    try:
        data = json.loads((folder() / JOB_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("job_id") else None


def save_job(job: dict[str, Any] | None) -> None:
    path = folder() / JOB_FILE
    if job is None:
        path.unlink(missing_ok=True)
    else:
        _write(path, job)


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
    return path
