"""The bridge's end of the OSC conversation with Live: one UDP socket on loopback.

AbletonOSC listens on UDP 11000 and answers every query on the same address, to the sender's IP on
port 11001 (whatever port the query came from), and reports failures as `/live/error <sentence>`.
So the bridge binds its socket to 11001 and sends from it: replies from stock AbletonOSC and from
the Motif script (which answers the sender's own port) both arrive here. Messages Live starts
itself (`/motif/generate`, `/motif/hum` from the Motif script) are kept in `inbox` while a query
waits, never dropped. Floats go out as OSC doubles ('d'): note times in beats are k/480 and must
arrive exactly (both AbletonOSC and the Motif script read doubles).
"""

from __future__ import annotations

import socket
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from engine_server.errors import Unavailable

LIVE_PORT = 11000  # where AbletonOSC (and the Motif script) listen
REPLY_PORT = 11001  # where AbletonOSC answers
MAX_DATAGRAM = 65536
Message = tuple[str, tuple[Any, ...]]


def encode(address: str, args: Sequence[Any]) -> bytes:
    from pythonosc.osc_message_builder import OscMessageBuilder

    b = OscMessageBuilder(address)
    for a in args:
        if isinstance(a, bool):
            b.add_arg(a)
        elif isinstance(a, int):
            b.add_arg(a, "i")
        elif isinstance(a, float):
            b.add_arg(a, "d")
        else:
            b.add_arg(str(a), "s")
    return bytes(b.build().dgram)


def decode(data: bytes) -> list[Message]:
    """One datagram: a message, or a bundle of them (flattened)."""
    from pythonosc.osc_bundle import OscBundle
    from pythonosc.osc_message import OscMessage

    if OscBundle.dgram_is_bundle(data):
        out: list[Message] = []
        for item in OscBundle(data):
            out += decode(item.dgram) if isinstance(item, OscBundle) else [(item.address, tuple(item.params))]
        return out
    msg = OscMessage(data)
    return [(msg.address, tuple(msg.params))]


class OscLink:
    """Send OSC to Live and read its answers (and what it sends on its own)."""

    def __init__(self, live: tuple[str, int] = ("127.0.0.1", LIVE_PORT), reply_port: int = REPLY_PORT,
                 bind_host: str = "127.0.0.1") -> None:
        self.live = live
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((bind_host, reply_port))
        except OSError as exc:
            self.sock.close()
            raise Unavailable(
                f"Cannot listen for Live's replies on UDP {bind_host}:{reply_port} ({exc.strerror or exc}). Another "
                "program (another `motif live` bridge, or an AbletonOSC client) holds it: stop it, or give "
                "--reply-port 0 (only the Motif script answers there; stock AbletonOSC always answers on 11001)."
            ) from None
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.port = int(self.sock.getsockname()[1])
        self.errors: list[str] = []  # /live/error sentences not yet shown
        self.inbox: deque[Message] = deque()  # /motif/... requests Live sent on its own
        self.backlog: deque[Message] = deque(maxlen=4096)  # replies read while waiting for another one
        self.sent = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> OscLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ sending

    def send(self, address: str, *args: Any) -> None:
        self.sock.sendto(encode(address, args), self.live)
        self.sent += 1

    def send_all(self, messages: Iterable[tuple[str, Sequence[Any]]]) -> None:
        for address, args in messages:
            self.send(address, *args)

    # ------------------------------------------------------------ receiving

    def _read(self, timeout: float) -> list[Message]:
        self.sock.settimeout(timeout if timeout > 0 else 0.0)  # 0.0: non-blocking
        try:
            data, _ = self.sock.recvfrom(MAX_DATAGRAM)
        except (TimeoutError, BlockingIOError):
            return []
        except ConnectionResetError:  # Windows reports an ICMP "port unreachable" this way
            return []
        try:
            return decode(data)
        except Exception:  # not OSC: ignore, as AbletonOSC does
            return []

    def _sort(self, msg: Message) -> Message | None:
        """Errors to `errors`, Live's own requests to `inbox`; anything else is returned."""
        address, params = msg
        if address == "/live/error":
            self.errors.append(" ".join(str(p) for p in params))
            return None
        if address in ("/motif/generate", "/motif/hum"):
            self.inbox.append(msg)
            return None
        return msg

    def poll(self, timeout: float = 0.0) -> list[Message]:
        """Whatever arrived (waiting up to `timeout` for the first datagram), errors and requests sorted out."""
        out: list[Message] = list(self.backlog)
        self.backlog.clear()
        wait = 0.0 if out else timeout
        while True:
            got = self._read(wait)
            if not got:
                return out
            out += [m for m in (self._sort(x) for x in got) if m is not None]
            wait = 0.0

    def wait_for(self, want: Callable[[Message], bool], timeout: float,
                 stop: Callable[[], bool] = lambda: False) -> Message | None:
        """The first message `want` accepts within `timeout`, or None (also when `stop()` turns true)."""
        for old in list(self.backlog):
            if want(old):
                self.backlog.remove(old)
                return old
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or stop():
                return None
            for msg in self._read(min(left, 0.05)):
                kept = self._sort(msg)
                if kept is None:
                    continue
                if want(kept):
                    return kept
                self.backlog.append(kept)

    def query(self, address: str, *args: Any, timeout: float = 2.0, match: Sequence[Any] = ()) -> tuple[Any, ...]:
        """Send a query and return its reply's parameters (the reply to `address` whose first values
        equal `match`, e.g. the track index). Raises Unavailable when Live does not answer."""
        self.send(address, *args)
        got = self.wait_for(lambda m: m[0] == address and tuple(m[1][: len(match)]) == tuple(match), timeout,
                            stop=lambda: bool(self.errors))
        if got is None:
            raise Unavailable(self.errors.pop(0) if self.errors else
                              f"Live did not answer {address} within {timeout:g} s.")
        return got[1]

    def query_many(self, queries: Sequence[tuple[str, Sequence[Any]]], timeout: float = 2.0) -> list[tuple[Any, ...]]:
        """Send every query at once, then collect their replies (matched by address and first argument):
        one round trip to Live however many queries."""
        for address, args in queries:
            self.send(address, *args)
        got: list[tuple[Any, ...] | None] = [None] * len(queries)

        def slot(reply: Message) -> int | None:
            """The first unanswered query this reply answers: same address, same leading index if it had one."""
            for i, (address, args) in enumerate(queries):
                key = tuple(args[:1])
                if got[i] is None and reply[0] == address and tuple(reply[1][: len(key)]) == key:
                    return i
            return None

        deadline = time.monotonic() + timeout
        for old in list(self.backlog):
            i = slot(old)
            if i is not None:
                self.backlog.remove(old)
                got[i] = old[1]
        while any(g is None for g in got):
            if self.errors:
                raise Unavailable(self.errors.pop(0))
            left = deadline - time.monotonic()
            if left <= 0:
                missing = next(q for q, g in zip(queries, got, strict=True) if g is None)
                raise Unavailable(f"Live did not answer {missing[0]} within {timeout:g} s.")
            for msg in self._read(min(left, 0.05)):
                kept = self._sort(msg)
                if kept is None:
                    continue
                i = slot(kept)
                if i is not None:
                    got[i] = kept[1]
                else:
                    self.backlog.append(kept)
        return [g for g in got if g is not None]

    def take_errors(self) -> list[str]:
        out, self.errors = self.errors, []
        return out
