"""Same-host fetch: copy the engine's store file here, verify the copy, publish it by rename.

On one machine the FetchAsset stream moves every byte through protobuf messages, HTTP/2 frames and
Python on both sides: a third to a half of a raw loopback socket. An engine on this machine instead
says where the read-only store object is (LocateAsset, loopback peers only) and the client copies it.
Measured designs and the reasons are in docs/FETCH.md; in short:

- a copy, never a hard link: the user's file must be theirs to edit, and a link would share the store's
  read-only inode (editing it would corrupt every pack that holds the same content);
- what is hashed is the copy, never a second read of the store file, so an object swapped or rewritten
  during the copy is refused; the file appears under its final name only by a rename once verified;
- one sha256 stream is slower than the copy, so hashing is what to spread over the cores. A lone copy
  lets the kernel copy (`os.copy_file_range`: a reflink on filesystems that can) while a second thread
  reads the `.part` back and hashes it; a pack's assets are copied a few at a time, each on one thread
  that reads a step into its own buffer, hashes it and writes it (hashlib releases the GIL).

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
                  progress: Progress | None = None, *, overlap: bool = True) -> Path:
    """Copy `src` to `dest` through `dest.part`, check `size` and `sha256` of the copy, then rename.

    `overlap` (a lone copy, two cores): the kernel copies on this thread while a second one reads the
    `.part` back and hashes it. Without it (copies side by side already keep the cores busy), this
    thread reads each step into its own buffer, hashes it and writes it: the hash is of exactly the
    bytes written. Either way the check is on the copy's bytes, never on a second read of `src`.
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
            overlap = overlap and size > COPY_STEP  # one step: a helper thread would cost more than it saves
            copier = _Copier(fd, out.fileno(), kernel=overlap)
            got = _copy(copier, _ReadBack(back) if overlap else None, size, progress)
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


def _copy(copier: _Copier, readback: _ReadBack | None, size: int, progress: Progress | None) -> str:
    """Copy `size` bytes step by step and return the sha256 of the copy: of each step as read back from
    the output by a helper thread (`readback`), else of each step's buffer as it is written."""
    helper = _Helper(readback.consume) if readback else None
    digest = readback.digest if readback else hashlib.sha256()
    done = 0
    try:
        while done < size:
            n = copier.step(min(COPY_STEP, size - done))
            if not n:
                raise LocalCopyError(f"the store file ended after {done} of {size} bytes", mismatch=True)
            done += n
            if helper:
                helper.put(n)
            else:
                digest.update(copier.written(n))
            if progress:
                progress(done, size)
    finally:
        if helper:
            helper.close()
    if helper and helper.error:
        raise helper.error
    return digest.hexdigest()


class _Copier:
    """One step of the copy: the kernel's copy where asked and it works, else read into a buffer and write."""

    def __init__(self, src_fd: int, out_fd: int, *, kernel: bool) -> None:
        self.src_fd, self.out_fd = src_fd, out_fd
        self.kernel = kernel and hasattr(os, "copy_file_range")
        self.buf = memoryview(bytearray(0 if self.kernel else COPY_STEP))

    def step(self, want: int) -> int:
        if self.kernel:
            try:
                n = os.copy_file_range(self.src_fd, self.out_fd, want)
            except OSError as exc:
                if exc.errno not in _NO_KERNEL_COPY:
                    raise
                n = 0
            if n:
                return n
            self.kernel = False  # refused, or 0 before the end (some filesystems' way of saying "cannot")
            self.buf = memoryview(bytearray(COPY_STEP))
        view = self.buf[:want]
        n = os.readv(self.src_fd, [view]) if hasattr(os, "readv") else _read_into(self.src_fd, view)
        written = 0
        while written < n:
            written += os.write(self.out_fd, view[written:n])
        return n

    def written(self, n: int) -> memoryview:
        """The bytes the last read-and-write step wrote (our own buffer: nothing else can change them)."""
        return self.buf[:n]


def _read_into(fd: int, view: memoryview) -> int:
    data = os.read(fd, len(view))
    view[: len(data)] = data
    return len(data)


class _ReadBack:
    """Hashes the output file as it grows, reading back each copied step: the bytes the user will get."""

    def __init__(self, back: io.FileIO) -> None:
        self.back = back
        self.digest = hashlib.sha256()
        self.view = memoryview(bytearray(COPY_STEP))

    def consume(self, n: int) -> None:
        while n:
            k = self.back.readinto(self.view[: min(n, COPY_STEP)])
            if not k:
                raise OSError(errno.EIO, "the copy is shorter than what was written")
            self.digest.update(self.view[:k])  # releases the GIL: copy and hash run on two cores
            n -= k


class _Helper:
    """A thread that runs `work(n)` for each step handed to it, in order; its first error is kept."""

    def __init__(self, work: Callable[[int], None]) -> None:
        self.work = work
        self.steps: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="motif-hash", daemon=True)
        self.thread.start()

    def put(self, n: int) -> None:
        self.steps.put(n)

    def close(self) -> None:
        self.steps.put(None)
        self.thread.join()

    def _run(self) -> None:
        while (n := self.steps.get()) is not None:
            if self.error is None:
                try:
                    self.work(n)
                except BaseException as exc:
                    self.error = exc


class LocalRoute:
    """Whether one client may copy assets straight from its engine's store, and the copy itself.

    Tried only when the client's address stays on this machine; an engine that refuses
    (FAILED_PRECONDITION: it sees the client as remote) or predates LocateAsset (UNIMPLEMENTED) is
    remembered, so each client asks at most once. A copy that starts alone hashes on a second thread;
    copies side by side (a pack) take one thread each, which measured faster (docs/FETCH.md).
    """

    def __init__(self, address: str, locate: Callable[[str, str], Any]) -> None:
        self._locate = locate
        self._lock = threading.Lock()
        self._copying = 0
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
        with self._lock:
            alone = self._copying == 0
            self._copying += 1
        try:
            copy_verified(where.path, dest, int(where.bytes), where.sha256, progress, overlap=alone)
        except LocalCopyError as exc:
            (log.warning if exc.mismatch else log.debug)("%s: same-host copy refused (%s)", path, exc.message)
            if required:
                code = "DATA_LOSS" if exc.mismatch else "FAILED_PRECONDITION"
                raise EngineError(code, f"{path}: the same-host copy was refused: {exc.message}.") from None
            return None
        finally:
            with self._lock:
                self._copying -= 1
        log.debug("%s: copied on this machine from %s", path, where.path)
        return dest


def _refuse_if(required: bool, path: str, reason: str) -> None:
    if required:
        raise EngineError("FAILED_PRECONDITION", f"{path}: no same-host copy: {reason}")


def workers_for(count: int, local: bool) -> int:
    """Threads for a pack: when copying locally, one more than the cores (hashing is the bottleneck and
    runs in parallel; the extra thread covers each asset's LocateAsset round trip), at most MAX_WORKERS;
    one for the stream (remote hosts keep their one resumable download at a time)."""
    if not local:
        return 1
    return max(1, min(count, MAX_WORKERS, (os.cpu_count() or 1) + 1))


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
