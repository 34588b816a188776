"""Host-free supervisor for a local `motif serve` child process that dies with its host.

Every plugin offers "Start local engine": `start_local` checks the address, leaves an engine that
already listens there alone, and otherwise starts one as a child of the host. Linux: the child asks
the kernel for SIGTERM when its parent dies (prctl PR_SET_PDEATHSIG, set in `preexec_fn` via
ctypes), so even a crashed host leaves no engine behind. The death signal fires when the *thread*
that forked the child exits, so `start()` must be called from the main thread. Elsewhere the child
is terminated at `stop()` and at interpreter exit (atexit).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path

from .channel import is_loopback, parse_address

PR_SET_PDEATHSIG = 1
# Host variables that would make the engine's Python load the host's modules.
_STRIP_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONNOUSERSITE", "PYTHONEXECUTABLE")

_live: weakref.WeakSet[LocalEngine] = weakref.WeakSet()


class EngineStartError(RuntimeError):
    """The engine could not be started; the message says why and what to do."""


def split_command(command: str) -> list[str]:
    """The user's engine command ("motif", or "/path/to/python -m <the engine's cli module>") as argv."""
    argv = shlex.split(command, posix=os.name != "nt")
    if not argv:
        raise EngineStartError("The engine command is empty: set it to `motif` (or the full path to it) "
                               "in the Motif preferences.")
    exe = argv[0]
    found = exe if os.path.isabs(exe) and os.path.exists(exe) else shutil.which(exe)
    if not found:
        raise EngineStartError(
            f"Cannot find the engine command {exe!r}. Install the Motif engine (`pip install motif`, "
            "or `make setup` in a checkout) and set the full path to `motif` in the Motif preferences."
        )
    return [found, *argv[1:]]


def _die_with_parent(parent_pid: int) -> None:  # pragma: no cover - runs in the forked child
    """preexec_fn: SIGTERM this child when the process that started it goes away."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


class LocalEngine:
    """One `motif serve` child on `address`, its output logged to `log_path`."""

    def __init__(
        self,
        command: Sequence[str],
        address: str,
        log_path: Path,
        token: str | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.argv = [*command, "serve", "--address", address]
        self.address = address
        self.log_path = Path(log_path)
        self._token = token
        self._extra_env = dict(extra_env or {})
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.running():
            return
        if threading.current_thread() is not threading.main_thread():
            raise EngineStartError("Start the local engine from the main thread (its death signal follows "
                                   "the thread that started it).")
        env = {k: v for k, v in os.environ.items() if k not in _STRIP_ENV}
        env.update(self._extra_env)
        if self._token:
            env["MOTIF_TOKEN"] = self._token  # not on the command line, where `ps` would show it
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, object] = {}
        if sys.platform.startswith("linux"):
            parent = os.getpid()
            kwargs["preexec_fn"] = lambda: _die_with_parent(parent)
        elif os.name == "nt":
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        with self.log_path.open("ab") as log:
            try:
                self.proc = subprocess.Popen(
                    self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                    close_fds=True, **kwargs,  # type: ignore[call-overload]
                )
            except OSError as exc:
                raise EngineStartError(f"Cannot start the local engine ({shlex.join(self.argv)}): {exc}.") from None
        _live.add(self)

    def exit_reason(self) -> str:
        """Why the child is not running, in words, with the last line it logged."""
        if self.proc is None:
            return "The local engine was not started."
        code = self.proc.poll()
        if code is None:
            return ""
        tail = self.log_tail(1)
        return f"The local engine exited with code {code}" + (f": {tail}" if tail else ".")

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def stop(self, timeout_s: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        _live.discard(self)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout_s)


def listening(host: str, port: int, timeout_s: float = 0.3) -> bool:
    """Does something accept connections on host:port (an engine started by hand, say)?"""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def start_local(command: str, address: str, log_path: Path, token: str | None = None,
                store_dir: str | None = None) -> LocalEngine | None:
    """Start `command serve` on `address` (this computer only); None when something already listens there.

    Raises EngineStartError with a sentence for a remote or malformed address or a missing command.
    Call it from the host's main thread (see the module docstring).
    """
    try:
        host, port = parse_address(address)
    except ValueError as exc:
        raise EngineStartError(str(exc)) from None
    if not is_loopback(host):
        raise EngineStartError(f"A local engine listens on this computer only; set the address to "
                               f"127.0.0.1:PORT instead of {address}.")
    if listening(host, port):
        return None
    engine = LocalEngine(split_command(command), address.strip(), log_path, token=token,
                         extra_env={"MOTIF_STORE": store_dir} if store_dir else None)
    engine.start()
    return engine


@atexit.register
def stop_all() -> None:
    """Interpreter exit (Blender closing): no engine outlives its host."""
    for engine in list(_live):
        engine.stop(timeout_s=2.0)
