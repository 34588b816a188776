"""What the Motif window does, without the window: the kit's `Host` for Resolve and the two actions.

Engine calls run on the kit's worker thread (`JobRunner`); every Resolve call happens in `tick()` and
the actions, which the window calls on Resolve's UI thread (its queued Tick event and buttons). The
timeline is read when the button is pressed (on the UI thread) and sent as OTIO; the pack that comes
back is placed by `ScoreJob` a slice per tick.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import faults, timeline
from .kit import MotifClient, rules, runner, tasks
from .kit import timeline_score as ts
from .score import PackJob, ScoreJob

CLIENT_NAME = "resolve"
DEFAULT_ADDRESS = "127.0.0.1:50051"
SCORE_DECODERS = ("music", "score")


def client_factory(address: str, token: str | None, timeout_s: float) -> MotifClient:
    """The vendored client; runs on the worker thread and touches no Resolve API."""
    return MotifClient(address, token=token, timeout_s=timeout_s, client_name=CLIENT_NAME)


class Controller:
    """One Motif window's state: status, progress, the pack feed, the messages shown."""

    def __init__(self, resolve: Any, address: str = DEFAULT_ADDRESS, token: str | None = None,
                 cache_dir: Path | None = None, on_change: Callable[[], None] | None = None,
                 worker: runner.Worker | None = None) -> None:
        self.resolve = resolve
        cache = cache_dir or Path(tempfile.gettempdir()) / "motif-resolve-cache"
        self.runner = runner.JobRunner(client_factory, address, token, cache_dir=cache, client_name=CLIENT_NAME,
                                       worker=worker)
        self.session = tasks.TaskSession(self, self.runner)
        self.on_change = on_change or (lambda: None)
        self.messages: list[tuple[str, str]] = []  # (level, sentence), newest last
        self.engine_text = "Engine: not asked yet"
        self.last_job: Any = None

    # ------------------------------------------------------------ actions (UI thread)

    def check_engine(self) -> None:
        self._start(lambda: self.session.start("describe", {"action": "describe"}))

    def score_timeline(self, prompt: str = "", seed: str | int = 0) -> bool:
        """Read the current timeline and ask the engine for its score; False (with a message) if refused."""
        try:
            seed_value = rules.parse_seed(str(seed)) if str(seed).strip() else 0
            project, tl = timeline.current(self.resolve)
            desc = timeline.describe(project, tl)
        except (faults.ResolveFault, ValueError) as exc:
            self.notify("ERROR", str(exc))
            return False
        spec = runner.GenerateSpec(prompt=prompt.strip() or None, seed=seed_value, decoders=SCORE_DECODERS,
                                   edit=runner.EditSpec(ts.otio_file_name(desc), ts.to_otio(desc)))
        return self._start(lambda: self.session.start(
            "generate", {"action": "score", "timeline": tl, "desc": desc}, spec=spec))

    def import_pack(self, pack_id: str) -> bool:
        pack_id = pack_id.strip()
        if not pack_id:
            self.notify("ERROR", "Pick a pack in the feed or type its id, then press Import pack.")
            return False
        try:
            timeline.current_project(self.resolve)
        except faults.ResolveFault as exc:
            self.notify("ERROR", str(exc))
            return False
        return self._start(lambda: self.session.start("fetch", {"action": "import"}, pack_id=pack_id))

    def cancel(self) -> bool:
        return self.session.cancel()

    def watch_feed(self) -> bool:
        return self.session.watch_feed()

    def tick(self) -> float | None:
        return self.session.tick()

    def shutdown(self) -> None:
        self.session.shutdown()

    def _start(self, start: Callable[[], int]) -> bool:
        try:
            start()
        except (runner.Busy, ValueError) as exc:
            self.notify("WARNING", str(exc))
            return False
        self.on_change()
        return True

    # ------------------------------------------------------------ the kit's Host

    def notify(self, level: str, message: str) -> None:
        self.messages.append((level, message))
        print(f"Motif {level.lower()}: {message}")
        self.on_change()

    def refresh(self, progress_text: str | None) -> None:
        self.on_change()

    def on_event(self, ev: runner.UIEvent, context: Mapping[str, Any]) -> None:
        if ev.kind in ("describe", "described"):
            info = dict(ev.data.get("describe") or {})
            if info:
                self.engine_text = f"Engine: {info.get('engine_version', 'ready')} at {self.runner.address}"
        elif ev.kind == "error" and ev.code in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
            self.engine_text = f"Engine: not reachable at {self.runner.address}"

    def begin_import(self, pack_dir: Path, manifest: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
        if context.get("action") == "score":
            self.last_job = ScoreJob(self.resolve, context["timeline"], pack_dir, manifest)
        else:
            self.last_job = PackJob(self.resolve, pack_dir, manifest)
        return self.last_job

    def imported(self, job: Any, manifest: Mapping[str, Any], pack_dir: Path, context: Mapping[str, Any]) -> str:
        return str(job.summary())

    def remember_job(self, context: Mapping[str, Any], job: Mapping[str, Any] | None) -> None:
        """Resolve keeps no per-project Python state across a crash here: nothing to remember."""

    # ------------------------------------------------------------ what the window shows

    @property
    def status(self) -> tasks.Status:
        return self.session.status

    def feed_rows(self) -> list[tuple[str, str, str]]:
        """(full pack id, prompt, seed) per feed pack: the id is what Import needs, the window shortens it."""
        return [(str(p.get("pack_id", "")), str(p.get("prompt", "") or "(edit)"), str(p.get("seed", "")))
                for p in self.session.status.feed]
