"""The built Motif Remote Script running over the stub-generated Live stand-in, for tests and the bench.

    with LiveHarness(build_dir / "Motif") as live:      # ticks on its own thread, like Live's main thread
        push over UDP to ("127.0.0.1", live.port) …
        with live.paused():                             # no tick runs while the test reads the set
            song = live.song

Live calls a Remote Script's `schedule_message(1, …)` callback about every 100 ms; `tick_s` is that
period (0.1 by default: what a real Live gives). The script package is imported from the built
folder (its bundled python-osc included) under a fresh name per harness, after the stand-in is
installed as `Live`, so each harness has its own Live.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import itertools
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from live_standin import build_live, default_set, install  # noqa: E402 - after the path is set
from live_stubspec import Spec, read_spec  # noqa: E402

_names = itertools.count(1)
_spec: Spec | None = None


def load_script(folder: Path) -> ModuleType:
    """Import a Motif script folder as a fresh package; returns its `script` module."""
    name = f"motif_live_script_{next(_names)}"
    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    return importlib.import_module(f"{name}.script")


class LiveHarness:
    def __init__(self, script_dir: Path, palette: Sequence[int], *, tick_s: float = 0.1, default: bool = True,
                 reply_port: int = 11001, stub_root: Path | None = None) -> None:
        global _spec
        _spec = _spec or read_spec(stub_root)
        self.live = build_live(_spec, palette)
        install(self.live)
        self.song: Any = default_set(self.live) if default else self.live.Application.get_application().get_document()
        self.module = load_script(script_dir)
        self.messages: list[str] = []
        self.script = self.module.MotifScript(lambda: self.live.Application.get_application().get_document(),
                                              self.messages.append, port=0, reply_port=reply_port)
        self.tick_s = tick_s
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0
        self.longest_tick_s = 0.0  # the most time one tick held Live's main thread

    @property
    def port(self) -> int:
        return int(self.script.port)

    def start(self) -> LiveHarness:
        self.script.open()
        self._thread = threading.Thread(target=self._loop, name="live-main-thread", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self.lock:
                started = time.perf_counter()
                self.script.tick()
                self.longest_tick_s = max(self.longest_tick_s, time.perf_counter() - started)
                self.ticks += 1
            self._stop.wait(self.tick_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.script.close()

    def __enter__(self) -> LiveHarness:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @contextlib.contextmanager
    def paused(self) -> Iterator[Any]:
        with self.lock:
            yield self.song


def main(argv: list[str]) -> int:
    """`python -S live_harness.py BUILT_MOTIF_DIR LIVE_STUBS_DIR`: run the script over the stand-in until
    stdin closes (without site-packages the stubs' folder is given, not found through pip's metadata).

    Prints `port N` once listening, and at the end the imported top-level modules (to show that no
    grpc, protobuf or site-packages module was needed)."""
    with LiveHarness(Path(argv[0]), [0x808080] * 70, stub_root=Path(argv[1])) as live:
        print(f"port {live.port}", flush=True)
        sys.stdin.read()
        with live.paused() as song:
            print("tracks " + "|".join(t.name for t in song.tracks), flush=True)
    print("modules " + " ".join(sorted({m.split(".")[0] for m in sys.modules})), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
