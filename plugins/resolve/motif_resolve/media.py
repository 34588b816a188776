"""Media Pool work shared by both jobs: bins, importing files once, tagging clips with the pack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import faults

BIN = "Motif"


def sub_bin(pool: Any, parent: Any, name: str) -> tuple[Any, bool]:
    """The bin `name` under `parent`, made if missing: (folder, made_now)."""
    for folder in parent.GetSubFolderList() or []:
        if folder.GetName() == name:
            return folder, False
    folder = pool.AddSubFolder(parent, name)
    if not folder:
        raise faults.ResolveFault(f"Resolve refused to make the bin {name!r} in the Media Pool.")
    return folder, True


def _path_of(item: Any) -> str:
    return str(item.GetClipProperty("File Path") or "")


def import_files(pool: Any, folder: Any, files: Sequence[Path]) -> tuple[list[Any], list[Any]]:
    """Each file as a Media Pool item in `folder` (one already there is reused): (items in order, made now).
    A file Resolve cannot read raises ResolveFault after the items made here are deleted again."""
    have = {str(Path(_path_of(i)).resolve()): i for i in folder.GetClipList() or [] if _path_of(i)}
    wanted = [str(Path(f).resolve()) for f in files]
    missing = [f for f in wanted if f not in have]
    made: list[Any] = []
    if missing:
        if not pool.SetCurrentFolder(folder):
            raise faults.ResolveFault("Resolve refused to open the Motif bin in the Media Pool.")
        made = [i for i in pool.ImportMedia(missing) or [] if i]
        got = {str(Path(_path_of(i)).resolve()): i for i in made}
        unread = [Path(f).name for f in missing if f not in got]
        if unread:
            if made:
                pool.DeleteClips(made)
            raise faults.ResolveFault(faults.unreadable_media(unread))
        have.update(got)
    return [have[f] for f in wanted], made


def tag(items: Sequence[Any], manifest: Mapping[str, Any], role: Sequence[str]) -> None:
    """Prompt, seed and pack id in each clip's Comments/Description/Keywords (shown in the Metadata panel)
    and as third-party metadata (kept with the project, read by scripts)."""
    request = manifest.get("request") or {}
    prompt = str(request.get("prompt") or "")
    seed = str(manifest.get("seed", request.get("seed", "")))
    pack = str(manifest.get("pack_id", ""))
    for item, kind in zip(items, role, strict=True):
        item.SetMetadata({"Comments": f"Motif {kind} — prompt: {prompt or '(none)'}; seed: {seed}; pack: {pack}",
                          "Description": prompt, "Keywords": f"Motif,{kind}"})
        item.SetThirdPartyMetadata({"Motif.PackId": pack, "Motif.Prompt": prompt, "Motif.Seed": seed,
                                    "Motif.Role": kind})
