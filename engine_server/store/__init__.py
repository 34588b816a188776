"""The pack store: content-addressed files and one manifest per pack, written atomically.

Layout under the store root:

    objects/<sha256[:2]>/<sha256>   every file once, by content (read-only)
    packs/<pack_id>/pack.json       the manifest
    packs/<pack_id>/<role>/<name>   hard links to the objects, under readable names
    staging/<job_id>/               where decoders write; removed after every job
    signatures/<key>                which signed object a (signing key, content, recipe) became
    jobs/<job_id>/                  each job's request and event journal (engine_server.journal)
    origins/<pack_id>.json          who first asked for a pack (client name, job), for the pack feed
    commits/<id>.json               objects a commit is placing; removed when the pack is published

A pack directory appears only by a single rename once all its files and its manifest are in
place, so a reader never sees a half-written pack, whatever happens to the writer. Objects are
fsync'd before they are renamed into place. A process killed mid-commit leaves an intent file
naming the objects it placed; the next `sweep` removes those no pack references, so no stray file
outlives a crash.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from engine_server import failpoints
from engine_server.errors import InvalidArgument, NotFound, quote

MANIFEST_NAME = "pack.json"
_HASH_BLOCK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def canonical_json(data: Any) -> str:
    """The one JSON form used for hashing and for pack.json (stable key order, no spaces drift)."""
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class StagedFile:
    """A finished file in a staging folder, with what the manifest says about it."""

    role: str
    path: str
    media_type: str
    decoder: str
    meta: dict[str, Any]


class PackStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.packs = root / "packs"
        self.staging_root = root / "staging"
        self.signatures = root / "signatures"
        self.jobs = root / "jobs"
        self.origins = root / "origins"
        self.commits = root / "commits"
        for d in (self.objects, self.packs, self.staging_root, self.signatures, self.jobs, self.origins,
                  self.commits):
            d.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------ writing

    def clean_stale(self) -> int:
        """Remove everything a killed writer can leave: staging folders, half-made pack folders,
        temp files of interrupted atomic writes, job folders killed before their job.json, and the
        objects of a commit that never published its pack. Returns how many things were removed."""
        removed = 0
        for d in list(self.staging_root.iterdir()) + [p for p in self.packs.iterdir() if p.name.startswith(".")]:
            shutil.rmtree(d, ignore_errors=True)
            removed += 1
        for folder in (self.signatures, self.jobs, self.origins, self.commits, self.objects):
            for tmp in folder.rglob(".*.tmp"):
                tmp.unlink(missing_ok=True)
                removed += 1
        for d in self.jobs.iterdir():
            if d.is_dir() and not (d / "job.json").is_file():
                shutil.rmtree(d, ignore_errors=True)
                removed += 1
        for origin in self.origins.glob("*.json"):  # recorded just before a commit that never published
            if not (self.packs / origin.stem).is_dir():
                origin.unlink(missing_ok=True)
                removed += 1
        intents = list(self.commits.glob("*.json"))
        if intents:
            referenced = {a["sha256"] for m, _ in self.list() for a in m["assets"]}
            for intent in intents:
                try:
                    record = json.loads(intent.read_text())
                except (OSError, ValueError):
                    record = {}
                if process_alive(record.get("pid")):
                    continue  # another process is committing right now
                placed = record.get("objects", [])
                for digest in placed:
                    if digest not in referenced and self._object_path(digest).exists():
                        self._object_path(digest).unlink()
                        removed += 1
                intent.unlink(missing_ok=True)
        return removed

    @contextmanager
    def staging(self, job_id: str | None = None) -> Iterator[Path]:
        """A private folder for one job's decoders; always removed afterwards."""
        path = self.staging_root / (job_id or uuid.uuid4().hex)
        path.mkdir(parents=True, exist_ok=False)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def commit(self, pack_id: str, staging: Path, files: Sequence[StagedFile], manifest: dict[str, Any]) -> dict:
        """Move staged files into the store and publish the pack with one rename.

        `manifest` is completed here with an `assets` list (bytes and sha256 per file).
        Returns the final manifest. If the pack already exists (same recipe), the existing one wins:
        it has the same bytes by construction.
        """
        final_dir = self.packs / pack_id
        if final_dir.exists():
            return self.get(pack_id)
        tmp_dir = self.packs / f".{pack_id}.{uuid.uuid4().hex[:8]}"
        tmp_dir.mkdir()
        intent = self.commits / f"{tmp_dir.name[1:]}.json"
        placed: list[str] = []
        try:
            assets = []
            for f in files:
                rel = safe_relpath(f.path)
                src = staging / rel
                if not src.is_file():
                    raise FileNotFoundError(f"decoder {f.decoder} reported {f.path} but did not write it")
                digest = sha256_file(src)
                size = src.stat().st_size
                obj = self._object_path(digest)
                if not obj.exists():
                    obj.parent.mkdir(parents=True, exist_ok=True)
                    placed.append(digest)  # named in the intent before it exists, so a crash leaves no orphan
                    record = {"pack_id": pack_id, "pid": os.getpid(), "objects": placed}
                    write_atomic(intent, json.dumps(record).encode())
                    os.chmod(src, 0o444)
                    _fsync_file(src)
                    os.replace(src, obj)
                    failpoints.hit("commit.object_placed")
                link = tmp_dir / rel
                link.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(obj, link)
                except OSError:
                    shutil.copyfile(obj, link)
                entry = {"role": f.role, "path": rel, "media_type": f.media_type, "bytes": size,
                         "sha256": digest, "decoder": f.decoder}
                if f.meta:
                    entry["meta"] = f.meta
                assets.append(entry)
            manifest = {**manifest, "pack_id": pack_id, "assets": assets}
            write_atomic(tmp_dir / MANIFEST_NAME, canonical_json(manifest).encode())
            fsync_dir(tmp_dir)
            failpoints.hit("commit.manifest_written")
            try:
                os.rename(tmp_dir, final_dir)
            except OSError:
                if not final_dir.exists():
                    raise
                shutil.rmtree(tmp_dir, ignore_errors=True)  # another job published the same pack first
            fsync_dir(self.packs)
            failpoints.hit("commit.published")
            intent.unlink(missing_ok=True)
            return self.get(pack_id)
        except BaseException:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise

    def _object_path(self, digest: str) -> Path:
        return self.objects / digest[:2] / digest

    def local_file(self, pack_id: str, relpath: str) -> tuple[Path, dict[str, Any]]:
        """The file a reader on this machine may copy for an asset (LocateAsset), with its manifest entry:
        the read-only content-addressed object, never rewritten once placed; else the pack's own file."""
        path, entry = self.asset_path(pack_id, relpath)
        obj = self._object_path(str(entry["sha256"]))
        return (obj if obj.is_file() else path), entry

    def link_object(self, digest: str | None, dest: Path) -> bool:
        """Put the stored object `digest` at `dest` (replacing it); False if there is no such object."""
        obj = self._object_path(digest) if digest else None
        if obj is None or not obj.is_file():
            return False
        tmp = dest.with_name(dest.name + ".link")
        tmp.unlink(missing_ok=True)
        try:
            os.link(obj, tmp)
        except OSError:
            shutil.copyfile(obj, tmp)
        os.replace(tmp, dest)
        return True

    def record_origin(self, pack_id: str, origin: dict[str, Any]) -> None:
        """Remember who first asked for a pack (outside pack.json, whose bytes depend only on the recipe)."""
        path = self.origins / f"{pack_id}.json"
        if not path.exists():
            write_atomic(path, canonical_json(origin).encode())

    def origin(self, pack_id: str) -> dict[str, Any]:
        path = self.origins / f"{pack_id}.json"
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            return {}

    def signature_lookup(self, key: str) -> dict[str, Any] | None:
        path = self.signatures / key[:2] / key
        return json.loads(path.read_text()) if path.is_file() else None

    def signature_remember(self, key: str, record: dict[str, Any]) -> None:
        write_atomic(self.signatures / key[:2] / key, canonical_json(record).encode())

    # ------------------------------------------------------------ reading

    def exists(self, pack_id: str) -> bool:
        return _valid_pack_id(pack_id) and (self.packs / pack_id / MANIFEST_NAME).is_file()

    def get(self, pack_id: str) -> dict[str, Any]:
        if not _valid_pack_id(pack_id):
            raise InvalidArgument(f"{quote(pack_id)} is not a pack id (expected hex digits, e.g. from `motif packs`).")
        path = self.packs / pack_id / MANIFEST_NAME
        if not path.is_file():
            raise NotFound(f"There is no pack {pack_id} in the store at {self.root}.")
        return json.loads(path.read_text())

    def manifest_text(self, pack_id: str) -> str:
        self.get(pack_id)
        return (self.packs / pack_id / MANIFEST_NAME).read_text()

    def pack_dir(self, pack_id: str) -> Path:
        self.get(pack_id)
        return self.packs / pack_id

    def asset_path(self, pack_id: str, relpath: str) -> tuple[Path, dict[str, Any]]:
        """The file behind an asset and its manifest entry; NotFound for anything not listed."""
        manifest = self.get(pack_id)
        for entry in manifest["assets"]:
            if entry["path"] == relpath:
                return self.packs / pack_id / entry["path"], entry
        if relpath == MANIFEST_NAME:
            path = self.packs / pack_id / MANIFEST_NAME
            return path, {"path": MANIFEST_NAME, "bytes": path.stat().st_size, "sha256": sha256_file(path)}
        raise NotFound(f"Pack {pack_id} has no asset {quote(relpath)}.")

    def list(self) -> list[tuple[dict[str, Any], float]]:
        """(manifest, stored-at time) for every pack, newest first."""
        out = []
        for d in self.packs.iterdir():
            m = d / MANIFEST_NAME
            if not d.name.startswith(".") and m.is_file():
                out.append((json.loads(m.read_text()), m.stat().st_mtime))
        out.sort(key=lambda item: item[1], reverse=True)
        return out

    def export(self, pack_id: str, dest: Path) -> Path:
        """Copy a pack (manifest and files under their readable names) to `dest/<pack_id>`."""
        src = self.pack_dir(pack_id)
        target = dest / pack_id
        if target.exists():
            shutil.rmtree(target)
        tmp = dest / f".{pack_id}.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(src, tmp)
        for p in tmp.rglob("*"):
            if p.is_file():
                os.chmod(p, 0o644)
        os.rename(tmp, target)
        return target


def process_alive(pid: Any) -> bool:
    """Whether another process with this pid is running (ours is never 'another')."""
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_file(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in `folder` survive power loss."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def safe_relpath(relpath: str) -> str:
    """A relative posix path that cannot leave its folder."""
    p = PurePosixPath(relpath)
    if p.is_absolute() or not p.parts or any(part in ("..", "") for part in p.parts):
        raise InvalidArgument(f"{quote(relpath)} is not a safe relative path.")
    return p.as_posix()


def _valid_pack_id(pack_id: str) -> bool:
    return 8 <= len(pack_id) <= 64 and all(c in "0123456789abcdef" for c in pack_id)
