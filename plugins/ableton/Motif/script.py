"""The Motif script's engine room: a non-blocking UDP socket read on Live's main thread, each tick.

Live's Remote Script Python must not block and should not start threads (they stall Live), so the
control surface calls `tick()` from `schedule_message` (about every 100 ms): it reads every datagram
waiting on the socket, runs each message's handler (api.py), answers on the same address, and
reports an exception as `/live/error "Error handling OSC message: <exception>"` and an unknown
address as `/live/error "Unknown OSC address: <address>"`, in AbletonOSC's words. Replies go where
AbletonOSC sends them (the sender's IP, port 11001), or to the sender's own port once it has said
`/motif/hello` (the bridge). Listening is on 127.0.0.1 only: nothing beyond this computer can drive
the set.

A push is one transaction: between `/motif/push/begin <token>` and `/motif/push/end <token>` the
messages are only collected; at the end they run in one go inside `begin_undo_step` /
`end_undo_step` (one undo step in Live's Edit menu), and if one fails, everything the push made is
deleted and every value it replaced is put back before the step closes; the bridge hears
`/motif/push/end <token> ok <count>` or `... error <sentence>`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import Live

from .api import LiveApi
from .osc import Message, decode, encode
from .triggers import Triggers

SCRIPT_VERSION = "0.1.0"
LISTEN_HOST = "127.0.0.1"
LISTEN_PORT = int(os.environ.get("MOTIF_LIVE_PORT", "11000"))  # AbletonOSC's port: select one of the two
REPLY_PORT = int(os.environ.get("MOTIF_LIVE_REPLY_PORT", "11001"))

def capabilities() -> str:
    """What this Live can do for a push. Audio clips from files and arrangement clips need Live 12.0.5
    (ClipSlot.create_audio_clip, Track.create_audio_clip / create_midi_clip); older Lives get MIDI only."""
    caps = ["session", "undo", "triggers", "hum"]
    if hasattr(Live.ClipSlot.ClipSlot, "create_audio_clip"):
        caps.append("audio")
    if hasattr(Live.Track.Track, "create_midi_clip") and hasattr(Live.Track.Track, "create_audio_clip"):
        caps.append("arrangement")
    return " ".join(caps)
BRIDGE_TIMEOUT_S = 10.0  # a bridge not heard from for this long is gone (it says hello every 2 s)
SCAN_EVERY_TICKS = 10  # trigger names: about once a second
MAX_MESSAGES_PER_TICK = 20000
TRANSACTION_TIMEOUT_S = 30.0


@dataclass
class _Transaction:
    token: str
    sender: tuple[str, int]
    started: float
    messages: list[Message] = field(default_factory=list)


class MotifScript:
    def __init__(self, song: Callable[[], Live.Song.Song], show_message: Callable[[str], None], *,
                 host: str = LISTEN_HOST, port: int = LISTEN_PORT, reply_port: int = REPLY_PORT,
                 log: Callable[[str], None] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._song = song
        self._say = show_message
        self._log = log or (lambda text: None)
        self._clock = clock
        self.host, self.port, self.reply_port = host, port, reply_port
        self.api = LiveApi(song, show_message)
        self.triggers = Triggers(song, show_message, self._to_bridge)
        self.sock: socket.socket | None = None
        self.bridges: dict[tuple[str, int], float] = {}  # bridge address -> when it last said hello
        self._last_sender: tuple[str, int] | None = None
        self._tx: _Transaction | None = None
        self._ticks = 0

    # ------------------------------------------------------------ socket

    def open(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.sock = sock
        self.port = int(sock.getsockname()[1])

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _reply_to(self, sender: tuple[str, int]) -> tuple[str, int]:
        return sender if sender in self.bridges else (sender[0], self.reply_port)

    def send(self, to: tuple[str, int], address: str, args: tuple[Any, ...]) -> None:
        if self.sock is None:
            return
        try:
            self.sock.sendto(encode(address, args), to)
        except OSError as exc:  # nobody listening: nothing more to do, as AbletonOSC
            self._log(f"Motif: cannot send {address} to {to}: {exc}")

    def _to_bridge(self, address: str, args: tuple[Any, ...]) -> bool:
        now = self._clock()
        live = [a for a, seen in self.bridges.items() if now - seen < BRIDGE_TIMEOUT_S]
        if not live:
            return False
        self.send(max(live, key=lambda a: self.bridges[a]), address, args)
        return True

    # ------------------------------------------------------------ the tick

    def tick(self) -> None:
        """Called on Live's main thread by the control surface's schedule_message loop."""
        self._ticks += 1
        handled = 0
        while self.sock is not None and handled < MAX_MESSAGES_PER_TICK:
            try:
                data, sender = self.sock.recvfrom(65536)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ECONNRESET, None):
                    self._log(f"Motif: socket error {exc}")
                break
            self._last_sender = sender
            try:
                messages = decode(data)
            except Exception as exc:
                self.send(self._reply_to(sender), "/live/error", (f"Error parsing OSC message: {exc}",))
                continue
            for address, params in messages:
                handled += 1
                try:
                    self.handle(address, params, sender)
                except Exception as exc:  # a malformed Motif message: say so, keep ticking
                    self.send(self._reply_to(sender), "/live/error", (f"Error handling OSC message: {exc}",))
        if self._tx is not None and self._clock() - self._tx.started > TRANSACTION_TIMEOUT_S:
            tx, self._tx = self._tx, None
            self.send(self._reply_to(tx.sender), "/live/error",
                      (f"Motif: push {tx.token} never ended; {len(tx.messages)} messages dropped",))
        if self._ticks % SCAN_EVERY_TICKS == 0:
            try:
                self.triggers.scan()
            except Exception as exc:  # a set changing under the scan: try again next time
                self._log(f"Motif: trigger scan failed: {exc}")

    def handle(self, address: str, params: tuple[Any, ...], sender: tuple[str, int]) -> None:
        if address == "/motif/hello":
            self.bridges[sender] = self._clock()
            app = Live.Application.get_application()
            self.send(sender, address, (SCRIPT_VERSION, app.get_major_version(), app.get_minor_version(),
                                        capabilities()))
            return
        if address == "/motif/push/begin":
            self._tx = _Transaction(str(params[0]) if params else "", sender, self._clock())
            return
        if address == "/motif/push/end":
            self._commit(str(params[0]) if params else "", sender)
            return
        if self._tx is not None and address != "/live/test":
            self._tx.messages.append((address, params))
            return
        if address == "/live/test":
            self._say("Motif: received OSC OK")
            self.send(self._reply_to(sender), "/live/test", ("ok",))
            return
        if address == "/motif/trigger/done":
            self.triggers.done(int(params[0]), str(params[1]) == "ok", str(params[2]) if len(params) > 2 else "")
            return
        handler = self.api.handlers.get(address)
        if handler is None:
            self.send(self._reply_to(sender), "/live/error", (f"Unknown OSC address: {address}",))
            return
        try:
            reply = handler(params)
        except Exception as exc:
            self._log(f"Motif: {address} {params!r}: {exc!r}")
            self.send(self._reply_to(sender), "/live/error", (f"Error handling OSC message: {exc}",))
            return
        if reply is not None:
            self.send(self._reply_to(sender), address, reply)

    # ------------------------------------------------------------ push transactions

    def _commit(self, token: str, sender: tuple[str, int]) -> None:
        tx, self._tx = self._tx, None
        to = self._reply_to(sender)
        if tx is None or tx.token != token:
            self.send(to, "/motif/push/end", (token, "error", "no push with this token was begun"))
            return
        song = self._song()
        self.api.journal = []
        failed: str | None = None
        song.begin_undo_step()
        try:
            for address, params in tx.messages:
                handler = self.api.handlers.get(address)
                if handler is None:
                    failed = f"Unknown OSC address: {address}"
                    break
                try:
                    reply = handler(params)
                except Exception as exc:
                    failed = f"{address}: {exc}"
                    break
                if reply is not None:
                    self.send(to, address, reply)
            if failed is not None:
                self._rollback(song, self.api.journal)
        finally:
            self.api.journal = None
            song.end_undo_step()
        if failed is None:
            self.send(to, "/motif/push/end", (token, "ok", len(tx.messages)))
            return
        self._log(f"Motif: push {token} failed: {failed}")
        self._say(f"Motif: the push failed and was taken back: {failed}")
        self.send(to, "/live/error", (f"Error handling OSC message: {failed}",))
        self.send(to, "/motif/push/end", (token, "error", failed))

    def _rollback(self, song: Live.Song.Song, journal: list[tuple[Any, ...]]) -> None:
        """Undo a failed push by hand: values back, then what it made deleted (newest first)."""
        for entry in reversed(journal):
            if entry[0] == "set":
                with contextlib.suppress(Exception):  # on an object the rollback deletes anyway
                    setattr(entry[1], entry[2], entry[3])
        for entry in reversed(journal):
            if entry[0] != "made":
                continue
            obj = entry[1]
            with contextlib.suppress(ValueError):
                tracks = list(song.tracks)
                if obj in tracks:
                    song.delete_track(tracks.index(obj))
                    continue
                scenes = list(song.scenes)
                if obj in scenes:
                    song.delete_scene(scenes.index(obj))
