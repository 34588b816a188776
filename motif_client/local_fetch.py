"""Same-host fetch: copy the engine's store file with the kernel's copy, verify it, publish it by rename.

On one machine the FetchAsset stream moves every byte through protobuf messages, HTTP/2 frames and
Python on both sides: about a third of a raw loopback socket. An engine on this machine instead says
where the read-only store object is (LocateAsset, loopback peers only) and the client copies it.
Measured designs and the reasons are in docs/FETCH.md; in short:

- a copy, never a hard link: the user's file must be theirs to edit, and a link would share the store's
  read-only inode (editing it would corrupt every pack that holds the same content);
- the kernel copies (`os.copy_file_range`, a reflink on filesystems that support it) while a second
  thread reads back and hashes what has landed in the `.part` file: the sha256 checked is that of the
  bytes the user gets, so a store object swapped or rewritten during the copy is refused, never published;
- the file appears under its final name only by a rename once verified;
- a pack's assets are copied on a few threads at once (hashlib releases the GIL), since one sha256
  stream is the bottleneck: it is slower than the copy on one core.

Whenever this route cannot deliver (engine elsewhere, file unreadable here, bytes that do not verify),
the client falls back to the stream, which does its own verification.
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
import queue
import stat
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .channel import is_local_address
from .errors import EngineError

log = logging.getLogger("motif.client")

COPY_STEP = 1 << 20  # bytes per kernel copy and per hash update: measured best of 128 KiB to 8 MiB (docs/FETCH.md)
MAX_WORKERS = 4
# copy_file_range refusing these files (another filesystem on old kernels, no support): copy by read/write
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.EPERM}
ROUTES = ("auto", "local", "stream")

T = TypeVar("T")
Progress = Callable[[int, int], None]


class LocalCopyError(Exception):
    """The same-host route cannot deliver this asset (`mismatch`: bytes that do not verify)."""

    def __init__(self, message: str, *, mismatch: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.mismatch = mismatch


def copy_verified(src: str | os.PathLike[str], dest: Path, size: int, sha256: str,
                  progress: Progress | None = None) -> Path:
    """Copy `src` to `dest` through `dest.part`, check `size` and `sha256` of the copy, then rename.

    Raises LocalCopyError (leaving neither `dest.part` nor a new `dest`) when the file cannot be read
    here or the copy does not verify; anything `progress` raises propagates after the same clean-up.
    """
    dest = Path(dest)
    try:
        fd = os.open(src, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise LocalCopyError(f"cannot open {src} on this machine: {exc.strerror or exc}") from None
    part = dest.with_name(dest.name + ".part")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LocalCopyError(f"{src} is not a regular file")
        if info.st_size != size:
            raise LocalCopyError(f"{src} holds {info.st_size} bytes, the pack lists {size}", mismatch=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with part.open("wb", buffering=0) as out, part.open("rb", buffering=0) as back:
            got = _copy_and_hash(fd, out.fileno(), back, size, progress)
            copied = os.fstat(out.fileno()).st_size
        if copied != size or got != sha256:
            raise LocalCopyError(f"the copy of {src} does not match the pack's sha256", mismatch=True)
        os.replace(part, dest)
        return dest
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise LocalCopyError(f"copying {src} failed: {exc.strerror or exc}") from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


def _copy_and_hash(src_fd: int, out_fd: int, back: io.RawIOBase, size: int, progress: Progress | None) -> str:
    """Copy `size` bytes step by step; a helper thread reads each copied step back from the output and
    hashes it, so copy and hash overlap on two cores. Returns the hex digest of what was read back."""
    digest = hashlib.sha256()
    steps: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    failure: list[BaseException] = []

    def hash_back() -> None:
        buf = bytearray(COPY_STEP)
        view = memoryview(buf)
        try:
            while (n := steps.get()) is not None:
                while n:
                    k = back.readinto(view[: min(n, COPY_STEP)])
                    if not k:
                        raise OSError(errno.EIO, "the copy is shorter than what was written")
                    digest.update(view[:k])
                    n -= k
        except BaseException as exc:
            failure.append(exc)
            while steps.get() is not None:  # drain, so the copier never waits on a dead reader
                pass

    hasher = threading.Thread(target=hash_back, name="motif-hash", daemon=True) if size > COPY_STEP else None
    if hasher:
        hasher.start()
    done = 0
    kernel = hasattr(os, "copy_file_range")
    buf: bytearray | None = None
    try:
        while done < size:
            want = min(COPY_STEP, size - done)
            n = 0
            if kernel:
                try:
                    n = os.copy_file_range(src_fd, out_fd, want)
                except OSError as exc:
                    if exc.errno not in _NO_KERNEL_COPY:
                        raise
                kernel = n > 0  # an error, or 0 before the end (some filesystems say 0 for "cannot"): read/write
            if not n:
                buf = buf or bytearray(COPY_STEP)
                n = _read_write(src_fd, out_fd, memoryview(buf)[:want])
                if not n:
                    raise LocalCopyError(f"the store file ended after {done} of {size} bytes", mismatch=True)
            done += n
            if hasher:
                steps.put(n)
            else:
                _hash_inline(back, digest, n)
            if progress:
                progress(done, size)
    finally:
        if hasher:
            steps.put(None)
            hasher.join()
    if failure:
        raise failure[0]
    return digest.hexdigest()


def _read_write(src_fd: int, out_fd: int, view: memoryview) -> int:
    """One step by plain read and write (no kernel copy on this platform or filesystem)."""
    n = os.readv(src_fd, [view]) if hasattr(os, "readv") else _read_into(src_fd, view)
    written = 0
    while written < n:
        written += os.write(out_fd, view[written:n])
    return n


def _read_into(fd: int, view: memoryview) -> int:
    data = os.read(fd, len(view))
    view[: len(data)] = data
    return len(data)


def _hash_inline(back: io.RawIOBase, digest: Any, n: int) -> None:
    """Small files: read back and hash on this thread (a helper thread would cost more than it saves)."""
    while n:
        data = back.read(n)
        if not data:
            raise OSError(errno.EIO, "the copy is shorter than what was written")
        digest.update(data)
        n -= len(data)


class LocalRoute:
    """Whether one client may copy assets straight from its engine's store, and the copy itself.

    Tried only when the client's address stays on this machine; an engine that refuses
    (FAILED_PRECONDITION: it sees the client as remote) or predates LocateAsset (UNIMPLEMENTED) is
    remembered, so each client asks at most once.
    """

    def __init__(self, address: str, locate: Callable[[str, str], Any]) -> None:
        self._locate = locate
        try:
            local = is_local_address(address)
        except ValueError:
            local = False
        self.refused = "" if local else f"the engine at {address} is not on this machine"

    @property
    def possible(self) -> bool:
        return not self.refused

    def fetch(self, pack_id: str, path: str, dest: Path, progress: Progress | None, required: bool) -> Path | None:
        """Copy one asset to `dest`; None when the stream should be used instead (or EngineError if `required`)."""
        if self.refused:
            _refuse_if(required, path, self.refused)
            return None
        try:
            where = self._locate(pack_id, path)
        except EngineError as exc:
            if exc.code not in ("FAILED_PRECONDITION", "UNIMPLEMENTED"):
                raise
            self.refused = exc.message
            _refuse_if(required, path, exc.message)
            return None
        try:
            copy_verified(where.path, dest, int(where.bytes), where.sha256, progress)
        except LocalCopyError as exc:
            (log.warning if exc.mismatch else log.debug)("%s: same-host copy refused (%s)", path, exc.message)
            if required:
                code = "DATA_LOSS" if exc.mismatch else "FAILED_PRECONDITION"
                raise EngineError(code, f"{path}: the same-host copy was refused: {exc.message}.") from None
            return None
        log.debug("%s: copied on this machine from %s", path, where.path)
        return dest


def _refuse_if(required: bool, path: str, reason: str) -> None:
    if required:
        raise EngineError("FAILED_PRECONDITION", f"{path}: no same-host copy: {reason}")


def workers_for(count: int, local: bool) -> int:
    """Threads for a pack: a few when copying locally (hashing is the bottleneck and runs in parallel),
    one for the stream (remote hosts keep their one resumable download at a time)."""
    if not local:
        return 1
    return max(1, min(count, MAX_WORKERS, max(2, os.cpu_count() or 2)))


def run_all(items: Iterable[T], fetch: Callable[[T, Callable[[], None]], None], workers: int) -> None:
    """Call `fetch(item, check)` for every item on `workers` threads; the first error stops the rest.

    `check()` raises once another item has failed (fetchers call it from their progress), so a
    cancel raised by one progress callback ends the whole pack quickly; that first error is re-raised.
    """
    items = list(items)
    stop = threading.Event()
    errors: list[BaseException] = []

    def check() -> None:
        if stop.is_set():
            raise _Stopped

    def one(item: T) -> None:
        if stop.is_set():
            return
        try:
            fetch(item, check)
        except _Stopped:
            pass
        except BaseException as exc:
            if not stop.is_set():
                errors.append(exc)
            stop.set()

    if workers <= 1:
        for item in items:
            one(item)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="motif-fetch") as pool:
            list(pool.map(one, items))
    if errors:
        raise errors[0]


class _Stopped(Exception):
    """Another asset of the pack failed: stop this one too."""
