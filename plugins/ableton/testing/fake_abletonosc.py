"""A stand-in for stock AbletonOSC (ideoforms/AbletonOSC, master 0ca6821) as its README documents it.

A python-osc UDP server (python-osc's own Dispatcher and BlockingOSCUDPServer, nothing of the Motif
script) on 127.0.0.1: getters answer on their own address to the sender's IP at the reply port
(AbletonOSC: always 11001), with the object's indices first; setters and methods answer nothing;
an unknown address answers `/live/error "Unknown OSC address: <address>"` and a handler that raises
answers `/live/error "Error handling OSC message: <exception>"` (AbletonOSC's log handler strips
everything up to the first ": "). No `/motif/...` address exists here, and nothing loads audio files.
The set is a plain in-memory model, independent of the stub-generated stand-in.

`fail_on[address] = "sentence"` makes that address raise, to test a push that fails halfway.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_server import BlockingOSCUDPServer


class FakeAbletonOSC:
    def __init__(self, reply_port: int = 11001, midi: int = 2, audio: int = 2, scenes: int = 8) -> None:
        self.reply_port = reply_port
        self.tempo = 120.0
        self.signature = [4, 4]
        self.scenes: list[str] = [""] * scenes
        self.tracks: list[dict[str, Any]] = []
        for i in range(midi + audio):
            kind = "midi" if i < midi else "audio"
            self._insert(len(self.tracks), kind, f"{i + 1}-{'MIDI' if kind == 'midi' else 'Audio'}")
        self.fail_on: dict[str, str] = {}
        self.received: list[tuple[str, tuple[Any, ...]]] = []
        self.messages: list[str] = []  # /live/api/show_message texts
        d = Dispatcher()
        table = self._table()
        self.addresses = frozenset(table)  # every address this fake answers (all in AbletonOSC's README)
        for address, fn in table.items():
            d.map(address, self._wrap(address, fn), needs_reply_address=True)
        d.set_default_handler(self._unknown, needs_reply_address=True)
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), d)
        self.port = int(self.server.server_address[1])
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ server

    def start(self) -> FakeAbletonOSC:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-abletonosc", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeAbletonOSC:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _send(self, client: tuple[str, int], address: str, args: tuple[Any, ...]) -> None:
        b = OscMessageBuilder(address)
        for a in args:
            b.add_arg(a)
        self.server.socket.sendto(b.build().dgram, (client[0], self.reply_port))

    def _wrap(self, address: str, fn: Callable[..., tuple[Any, ...] | None]) -> Callable[..., None]:
        def handler(client: tuple[str, int], addr: str, *args: Any) -> None:
            self.received.append((addr, args))
            try:
                if addr in self.fail_on:
                    raise RuntimeError(self.fail_on[addr])
                reply = fn(*args)
            except Exception as exc:
                self._send(client, "/live/error", (f"Error handling OSC message: {exc}",))
                return
            if reply is not None:
                self._send(client, addr, reply)

        return handler

    def _unknown(self, client: tuple[str, int], address: str, *args: Any) -> None:
        self.received.append((address, args))
        self._send(client, "/live/error", (f"Unknown OSC address: {address}",))

    # ------------------------------------------------------------ the documented API (the part a push uses)

    def _insert(self, at: int, kind: str, name: str) -> None:
        self.tracks.insert(at, {"kind": kind, "name": name, "color_index": 0, "mute": False,
                                "slots": [None] * len(self.scenes)})

    def _clip(self, t: int, s: int) -> dict[str, Any]:
        clip = self.tracks[int(t)]["slots"][int(s)]
        if clip is None:
            raise AttributeError("'NoneType' object has no attribute 'add_new_notes'")
        return clip  # type: ignore[no-any-return]

    def _table(self) -> dict[str, Callable[..., tuple[Any, ...] | None]]:
        def create_track(kind: str) -> Callable[..., None]:
            def make(index: int = -1) -> None:
                at = len(self.tracks) if int(index) == -1 else int(index)
                if not 0 <= at <= len(self.tracks):
                    raise IndexError("list index out of range")
                self._insert(at, kind, f"{len(self.tracks) + 1}-{'MIDI' if kind == 'midi' else 'Audio'}")

            return make

        def delete_track(index: int) -> None:
            self.tracks.pop(int(index))

        def create_scene(index: int = -1) -> None:
            at = len(self.scenes) if int(index) == -1 else int(index)
            self.scenes.insert(at, "")
            for t in self.tracks:
                t["slots"].insert(at, None)

        def delete_scene(index: int) -> None:
            self.scenes.pop(int(index))
            for t in self.tracks:
                t["slots"].pop(int(index))

        def set_track(prop: str) -> Callable[..., None]:
            def set_(t: int, value: Any) -> None:
                self.tracks[int(t)][prop] = value

            return set_

        def create_clip(t: int, s: int, length: float) -> None:
            track = self.tracks[int(t)]
            if track["kind"] != "midi":
                raise RuntimeError("MIDI clips can only be created on MIDI tracks")
            if track["slots"][int(s)] is not None:
                raise RuntimeError("Clip slot is not empty")
            track["slots"][int(s)] = {"name": "", "length": float(length), "notes": []}

        def add_notes(t: int, s: int, *flat: Any) -> None:
            clip = self._clip(t, s)
            for i in range(0, len(flat), 5):
                pitch, start, duration, velocity, mute = flat[i : i + 5]
                clip["notes"].append((int(pitch), float(start), float(duration), float(velocity), bool(mute)))

        def get_notes(t: int, s: int, *span: Any) -> tuple[Any, ...]:
            out: list[Any] = []
            for n in sorted(self._clip(t, s)["notes"], key=lambda n: (n[1], n[0])):
                out += list(n)
            return (t, s, *out)

        def set_clip_name(t: int, s: int, name: str) -> None:
            self._clip(t, s)["name"] = name

        def set_scene_name(s: int, name: str) -> None:
            self.scenes[int(s)] = name

        def track_names(*rng: Any) -> tuple[Any, ...]:
            lo, hi = (int(rng[0]), int(rng[1])) if len(rng) == 2 else (0, len(self.tracks))
            return tuple(t["name"] for t in self.tracks[lo : len(self.tracks) if hi == -1 else hi])

        def sig(i: int) -> Callable[[int], None]:
            def set_(value: int) -> None:
                self.signature[i] = int(value)

            return set_

        def set_tempo(bpm: float) -> None:
            self.tempo = float(bpm)

        def show(text: str) -> None:
            self.messages.append(text)

        return {
            "/live/test": lambda *a: ("ok",),
            "/live/application/get/version": lambda *a: (12, 3),
            "/live/api/show_message": show,
            "/live/song/set/tempo": set_tempo,
            "/live/song/get/tempo": lambda *a: (self.tempo,),
            "/live/song/set/signature_numerator": sig(0),
            "/live/song/set/signature_denominator": sig(1),
            "/live/song/get/signature_numerator": lambda *a: (self.signature[0],),
            "/live/song/get/signature_denominator": lambda *a: (self.signature[1],),
            "/live/song/get/num_tracks": lambda *a: (len(self.tracks),),
            "/live/song/get/num_scenes": lambda *a: (len(self.scenes),),
            "/live/song/get/track_names": track_names,
            "/live/song/create_midi_track": create_track("midi"),
            "/live/song/create_audio_track": create_track("audio"),
            "/live/song/delete_track": delete_track,
            "/live/song/create_scene": create_scene,
            "/live/song/delete_scene": delete_scene,
            "/live/scene/get/name": lambda s: (s, self.scenes[int(s)]),
            "/live/scene/set/name": set_scene_name,
            "/live/scene/set/color_index": lambda s, c: None,
            "/live/track/set/name": set_track("name"),
            "/live/track/set/color_index": set_track("color_index"),
            "/live/track/set/mute": set_track("mute"),
            "/live/track/get/name": lambda t: (t, self.tracks[int(t)]["name"]),
            "/live/clip_slot/create_clip": create_clip,
            "/live/clip/set/name": set_clip_name,
            "/live/clip/add/notes": add_notes,
            "/live/clip/get/notes": get_notes,
        }
