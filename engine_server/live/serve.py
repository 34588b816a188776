"""The engine side of the bridge: generate or fetch a pack through the job runner, then push it.

`motif live generate` and `motif live push <pack id>` wait for one pack; `motif live serve` keeps
running beside Live: every clip or scene the Motif script reports as `motif: <prompt>` becomes a
Generate (client "live"), queued one after another, its progress in Live's status bar, its pack
pushed into the set and the clip renamed `motif ✓ …` (or `motif ✗ …` with the reason). With
`--push-feed` every music pack another host makes (the engine's pack feed) lands in the set too.
The runner is motif_client's `JobRunner` with its thread worker: this is a plain process, so engine
streams may block a thread; the loop itself only polls (the runner's queue, then the UDP socket).
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine_server.errors import MotifError, Unavailable, error_from_code
from engine_server.live.bridge import BRIDGE_VERSION, LiveInfo, PushResult, push
from engine_server.live.link import OscLink
from motif_client.runner import GenerateSpec, JobRunner, UIEvent

HEARTBEAT_S = 2.0  # the Motif script forgets a bridge it has not heard from for 10 s
LIVE_GONE_S = 6.0
STATUS_EVERY_S = 0.25  # at most four status-bar messages a second


@dataclass
class Request:
    kind: str  # generate | hum | fetch
    trigger: int | None = None  # the Motif script's trigger id, answered with /motif/trigger/done
    prompt: str = ""
    scene: int | None = None  # a scene named `motif: …`: the pack fills that scene
    path: str = ""  # hum: the recording
    pack_id: str = ""  # fetch: a pack from the feed


def takes_hum(describe: Mapping[str, Any] | None) -> bool:
    """Whether the engine reads a hummed melody (GenerateRequest.hum; Describe's "hum" capability)."""
    return "hum" in (describe or {}).get("capabilities", [])


def no_hum_sentence(path: str, prompt: str, address: str) -> str:
    return (f"The engine at {address} cannot take a hummed melody: it predates hummed-melody input (update it). "
            f"The recording {path} was not used; name an empty MIDI clip `motif: {prompt}` to generate from the "
            "prompt alone.")


def wait_for_pack(runner: JobRunner, say: Callable[[str], None], status: Callable[[str], None] | None = None,
                  stop: Callable[[], bool] = lambda: False) -> tuple[Path, dict[str, Any]]:
    """Follow the runner's current task to its pack; raise the engine's sentence as a MotifError."""
    shown = ""
    while True:
        for ev in runner.poll():
            if ev.kind == "pack":
                return Path(str(ev.data["pack_dir"])), dict(ev.data["manifest"])
            if ev.kind in ("error", "cancelled"):
                raise error_from_code(ev.code or "CANCELLED", ev.message)
            text = progress_text(ev)
            if text and text != shown:
                shown = text
                say(text)
                if status:
                    status(f"Motif: {text}")
        if stop():
            raise MotifError("stopped")
        time.sleep(0.05)


def progress_text(ev: UIEvent) -> str:
    if ev.kind in ("queued", "progress", "download"):
        return f"{ev.fraction * 100:3.0f}% {ev.message}"
    if ev.kind == "status":
        return ev.message
    return ""


class LiveServer:
    """`motif live serve`: Live asks (clip and scene names), the engine makes, the set receives."""

    def __init__(self, link: OscLink, runner: JobRunner, *, engine_address: str, spec: GenerateSpec,
                 mode: str = "session", push_feed: bool = False, say: Callable[[str], None] = print) -> None:
        self.link = link
        self.runner = runner
        self.engine_address = engine_address
        self.spec = spec  # seed, decoders, quality and options every request from Live uses
        self.mode = mode
        self.push_feed = push_feed
        self.say = say
        self.queue: deque[Request] = deque()
        self.current: Request | None = None
        self.describe: dict[str, Any] | None = None
        self.info: LiveInfo | None = None
        self.pushed: list[PushResult] = []
        self._pushed_ids: set[str] = set()
        self._heard = 0.0
        self._hello_at = 0.0
        self._gone_told = False
        self._status_at = 0.0

    # ------------------------------------------------------------ the loop

    def run(self, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        self.say(f"motif live serve: engine {self.engine_address}, Live at {self.link.live[0]}:{self.link.live[1]}; "
                 "waiting for Live… (Ctrl-C stops)")
        self.runner.describe(context={"startup": True})
        if self.push_feed:
            self.runner.watch_feed(last=0)
        try:
            while not stop.is_set():
                self.step(0.05)
        finally:
            self.runner.stop_feed()

    def step(self, wait: float = 0.0) -> None:
        now = time.monotonic()
        if now - self._hello_at >= HEARTBEAT_S:
            self._hello_at = now
            if self.info is None or self.info.motif:  # the Motif script learns where the bridge listens
                self.link.send("/motif/hello", BRIDGE_VERSION)
            if self.info is None:  # /live/test shows "received OSC OK" in Live: only until Live answers
                self.link.send("/live/test")
            elif not self.info.motif:
                self.link.send("/live/application/get/version")
        for address, params in self.link.poll(wait):
            self._heard_from_live(address, params)
        self._stock_detect()
        for error in self.link.take_errors():  # outside a push (a push reports its own)
            self.say(f"Live reported: {error}")
        if self._heard and time.monotonic() - self._heard > LIVE_GONE_S and not self._gone_told:
            self._gone_told = True
            self.say("Live stopped answering; waiting for it to come back.")
        while self.link.inbox:
            self._request(*self.link.inbox.popleft())
        for ev in self.runner.poll():
            self._event(ev)
        if self.current is None and self.queue and not self.runner.busy:
            self._start(self.queue.popleft())

    def _heard_from_live(self, address: str, params: tuple[Any, ...]) -> None:
        if address not in ("/live/test", "/motif/hello", "/live/application/get/version"):
            return
        self._heard = time.monotonic()
        self._gone_told = False
        if address == "/motif/hello" and (self.info is None or not self.info.motif):
            self.info = LiveInfo.from_hello(params)
            self.say(f"{self.info.describe()} is listening: name an empty MIDI clip or a scene `motif: <prompt>` "
                     "in Live to generate.")

    def _stock_detect(self) -> None:
        """Stock AbletonOSC answers /live/test and refuses /motif/hello with a /live/error."""
        said_no = [e for e in self.link.errors if "/motif/hello" in e]
        if not said_no:
            return
        self.link.errors = [e for e in self.link.errors if "/motif/hello" not in e]
        if self.info is None:
            self.info = LiveInfo(False)
            self.say("Live answers with stock AbletonOSC: clip-name triggers, stems and undo need the Motif script "
                     "(docs/ABLETON.md); --push-feed still pushes MIDI and tempo.")

    def _status(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._status_at >= STATUS_EVERY_S:
            self._status_at = now
            self.link.send("/live/api/show_message", text[:200])

    # ------------------------------------------------------------ requests

    def _request(self, address: str, params: tuple[Any, ...]) -> None:
        try:
            if address == "/motif/generate":
                trigger, prompt, kind, scene = params[0], str(params[1]), str(params[2]), int(params[3])
                req = Request("generate", int(trigger), prompt, scene if kind == "scene" else None)
            else:  # /motif/hum <id> <file> <prompt> <track> <slot>
                req = Request("hum", int(params[0]), str(params[2]), None, str(params[1]))
        except (IndexError, ValueError, TypeError):
            self.say(f"ignored a malformed {address} {params!r} from Live")
            return
        self.say(f"Live asks for “{req.prompt}”" + (f" (hummed: {req.path})" if req.kind == "hum" else ""))
        ahead = len(self.queue) + (self.current is not None)
        if ahead:
            self._status(f"Motif: “{req.prompt}” queued ({ahead} ahead)", force=True)
        self.queue.append(req)

    def _start(self, req: Request) -> None:
        self.current = req
        spec = self.spec
        try:
            if req.kind == "fetch":
                self.runner.fetch(req.pack_id, context={"request": req})
                return
            options = {k: dict(v) for k, v in spec.options.items()}
            hum = self._hum_payload(req) if req.kind == "hum" else None
            self.runner.generate(GenerateSpec(req.prompt, spec.seed, dict(spec.pins), list(spec.decoders),
                                              spec.quality, options, hum=hum), context={"request": req})
        except MotifError as exc:
            self._finish(False, exc.message)
        except Exception as exc:  # the runner's Busy or a bad spec: answer Live, keep serving
            self._finish(False, str(exc))

    def _hum_payload(self, req: Request) -> tuple[str, bytes]:
        """The recorded clip's file, for the engine's hum input (it transcribes and checks the audio)."""
        from motif_client.client import MAX_HUM_BYTES

        if not takes_hum(self.describe):
            raise Unavailable(no_hum_sentence(req.path, req.prompt, self.engine_address) if self.describe is not None
                              else f"The engine at {self.engine_address} has not answered yet; start it with "
                                   "`motif serve`, then name the clip again.")
        try:
            data = Path(req.path).read_bytes()
        except OSError as exc:
            raise Unavailable(f"Cannot read the recording {req.path}: {exc.strerror or exc}.") from None
        if len(data) > MAX_HUM_BYTES:
            raise Unavailable(f"The recording {req.path} is {len(data):,} bytes; the engine takes at most "
                              f"{MAX_HUM_BYTES:,}. Record a shorter melody.")
        return Path(req.path).name, data

    def _event(self, ev: UIEvent) -> None:
        if ev.kind == "described":
            self.describe = dict(ev.data.get("describe", {}))
            return
        if ev.kind == "feed":
            self._feed(dict(ev.data.get("pack", {})))
            return
        if ev.kind == "feed_error":
            self.say(ev.message)
            return
        req = self.current
        if ev.kind == "error" and req is None:  # the startup Describe
            self.say(f"{ev.message} (requests from Live fail until the engine answers)")
            return
        if req is None:
            return
        text = progress_text(ev)
        if text:
            self._status(f"Motif: {text} — “{req.prompt or req.pack_id[:8]}”")
        if ev.kind == "pack":
            self._push(req, Path(str(ev.data["pack_dir"])), dict(ev.data["manifest"]))
        elif ev.kind in ("error", "cancelled"):
            self._finish(False, ev.message)

    def _feed(self, summary: dict[str, Any]) -> None:
        pack_id = str(summary.get("pack_id", ""))
        if (not self.push_feed or "music" not in summary.get("decoders", []) or summary.get("client") == "live"
                or pack_id in self._pushed_ids):
            return
        self.say(f"the feed has “{summary.get('prompt', '')}” from {summary.get('client') or 'a client'}; "
                 "fetching it for Live")
        self.queue.append(Request("fetch", None, str(summary.get("prompt", "")), pack_id=pack_id))

    def _push(self, req: Request, pack_dir: Path, manifest: dict[str, Any]) -> None:
        try:
            result = push(self.link, pack_dir, manifest, mode=self.mode, scene=req.scene, info=self.info,
                          say=self.say)
        except MotifError as exc:
            self._finish(False, exc.message)
            return
        self.pushed.append(result)
        self._pushed_ids.add(str(manifest.get("pack_id", "")))
        self._finish(True, result.summary())

    def _finish(self, ok: bool, text: str) -> None:
        req, self.current = self.current, None
        self.say(("pushed " if ok else "failed: ") + text)
        self._status(f"Motif: {text}" if ok else f"Motif ✗ {text}", force=True)
        if req is not None and req.trigger is not None:
            self.link.send("/motif/trigger/done", req.trigger, "ok" if ok else "error", text[:500])


def default_out_dir() -> Path:
    """Where packs for Live are downloaded (Live plays the stems from there, so they must stay)."""
    env = os.environ.get("MOTIF_LIVE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_music_dir()) / "Motif"
