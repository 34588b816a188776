"""Generate from inside Live: a clip or scene named `motif: <prompt>` asks the bridge for a pack.

Once a second the script looks over the set's clip and scene names (property reads only). An empty
MIDI clip or a scene named `motif: <prompt>` becomes `/motif/generate <id> <prompt> <kind> <scene>`
to the bridge (`motif live serve`); a recorded audio clip named `motif: <prompt>` becomes
`/motif/hum <id> <file> <prompt>` (a hummed melody to seed the pack). The name turns into
`motif … <prompt>` at once (so it is sent once), then `motif ✓ …` or `motif ✗ …` when the bridge
reports back with `/motif/trigger/done`; rename it to `motif: …` again to retry.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import Live

PREFIX = "motif:"
WORKING, DONE, FAILED = "motif … ", "motif ✓ ", "motif ✗ "


@dataclass
class Trigger:
    kind: str  # clip | scene | hum
    target: Any  # the Live clip or scene
    prompt: str


def prompt_of(name: str) -> str | None:
    """The prompt of a `motif: <prompt>` name (any case), or None."""
    if name[: len(PREFIX)].lower() != PREFIX:
        return None
    return name[len(PREFIX):].strip()


class Triggers:
    def __init__(self, song: Callable[[], Live.Song.Song], show_message: Callable[[str], None],
                 send: Callable[[str, tuple[Any, ...]], bool]) -> None:
        self._song = song
        self._say = show_message
        self._send = send  # to the bridge; False when no bridge listens
        self.pending: dict[int, Trigger] = {}
        self._ids = itertools.count(1)
        self._told: set[tuple[int, str]] = set()  # (object id, name) already answered with a sentence

    def scan(self) -> int:
        """Look for new triggers; returns how many were sent."""
        song = self._song()
        sent = 0
        for t, track in enumerate(song.tracks):
            for s, slot in enumerate(track.clip_slots):
                if slot.has_clip:
                    sent += self._clip(slot.clip, t, s)
        for s, scene in enumerate(song.scenes):
            prompt = prompt_of(scene.name)
            if prompt is not None and self._ready(scene, scene.name, prompt):
                sent += self._fire(Trigger("scene", scene, prompt), ("/motif/generate", (prompt, "scene", s)))
        return sent

    def _clip(self, clip: Live.Clip.Clip, t: int, s: int) -> int:
        name = clip.name
        prompt = prompt_of(name)
        if prompt is None or not self._ready(clip, name, prompt):
            return 0
        if clip.is_audio_clip:
            return self._fire(Trigger("hum", clip, prompt), ("/motif/hum", (clip.file_path, prompt, t, s)))
        if clip.get_notes_extended(0, 128, -8192.0, 16384.0):
            self._tell(clip, name, f"Motif: the clip “{name}” already has notes; name an empty MIDI clip "
                                   "`motif: <prompt>` to generate.")
            return 0
        return self._fire(Trigger("clip", clip, prompt), ("/motif/generate", (prompt, "clip", s)))

    def _ready(self, target: Any, name: str, prompt: str) -> bool:
        if not prompt:
            self._tell(target, name, "Motif: type a prompt after “motif:”, e.g. “motif: lofi rain at night”.")
            return False
        return True

    def _tell(self, target: Any, name: str, text: str) -> None:
        key = (id(target), name)
        if key not in self._told:
            self._told.add(key)
            self._say(text)

    def _fire(self, trigger: Trigger, message: tuple[str, tuple[Any, ...]]) -> int:
        trigger_id = next(self._ids)
        address, args = message
        if not self._send(address, (trigger_id, *args)):
            self._tell(trigger.target, trigger.target.name,
                       f"Motif: run `motif live serve` in a terminal beside Live to generate “{trigger.prompt}”.")
            return 0
        self.pending[trigger_id] = trigger
        trigger.target.name = WORKING + trigger.prompt
        self._say(f"Motif: asked for “{trigger.prompt}”…")
        return 1

    def done(self, trigger_id: int, ok: bool, text: str) -> None:
        """The bridge's answer: rename the clip (a scene that worked already carries the pack's name)."""
        trigger = self.pending.pop(int(trigger_id), None)
        if trigger is None:
            return
        if not (ok and trigger.kind == "scene"):
            with contextlib.suppress(Exception):  # the clip was deleted meanwhile
                trigger.target.name = (DONE if ok else FAILED) + trigger.prompt
        self._say(text if text.startswith("Motif") else f"Motif: {text}")
