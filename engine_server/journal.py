"""A job's durable record in the store: what was asked (`job.json`) and everything it said (`events.jsonl`).

Jobs outlive the RPC that started them and the engine process that ran them, so every event a watcher
could see is appended to an append-only journal before it is shown, with a gap-free `seq`. The
journal is fsync'd at stage boundaries (queued, a new stage, each asset, the end), so after a crash
or power loss a re-attaching client may miss at most a few intermediate progress ticks, never an
asset or the outcome. At start the engine reads every journal back; a job whose journal has no end
was running when the engine died and is marked `interrupted` (an end event with a sentence).

Layout: `<store>/jobs/<job_id>/job.json` (written once, atomically) and `events.jsonl` (one JSON
object a line: seq, t, kind, data).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine_server.store import canonical_json, fsync_dir, write_atomic

JOB_FILE = "job.json"
EVENTS_FILE = "events.jsonl"
# Kinds after which a job is over, and the states an ended job can be in.
TERMINAL_KINDS = frozenset({"done", "error"})
STATES = ("queued", "running", "done", "failed", "cancelled", "interrupted")


@dataclass(frozen=True)
class JournalEvent:
    """One event of a job, as watchers see it: kind is queued | progress | asset | done | error."""

    seq: int
    kind: str
    data: Mapping[str, Any]
    t: float

    def to_line(self) -> bytes:
        return (json.dumps({"seq": self.seq, "t": self.t, "kind": self.kind, "data": self.data},
                           sort_keys=True, separators=(",", ":")) + "\n").encode()


class Journal:
    """Append-only event log of one job. Thread-safe; the in-memory list mirrors the file."""

    def __init__(self, folder: Path, events: list[JournalEvent] | None = None) -> None:
        self.folder = folder
        self.events: list[JournalEvent] = events or []
        self._lock = threading.Lock()
        self._last_stage = ""

    @classmethod
    def create(cls, folder: Path, record: Mapping[str, Any]) -> Journal:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / JOB_FILE, canonical_json(dict(record)).encode())
        (folder / EVENTS_FILE).touch()
        fsync_dir(folder)
        fsync_dir(folder.parent)
        return cls(folder)

    @classmethod
    def load(cls, folder: Path) -> tuple[dict[str, Any], Journal]:
        """Read a job back. A torn last line (killed mid-write) is dropped and cut from the file."""
        record = json.loads((folder / JOB_FILE).read_text())
        events: list[JournalEvent] = []
        path = folder / EVENTS_FILE
        raw = path.read_bytes() if path.exists() else b""
        good = 0
        for line in raw.splitlines(keepends=True):
            try:
                item = json.loads(line)
                if not line.endswith(b"\n") or item["seq"] != len(events):
                    raise ValueError("torn or out-of-order line")
            except (ValueError, KeyError):
                break
            events.append(JournalEvent(item["seq"], item["kind"], item["data"], item["t"]))
            good += len(line)
        if good != len(raw):
            with path.open("r+b") as fh:
                fh.truncate(good)
                os.fsync(fh.fileno())
        return record, cls(folder, events)

    @property
    def next_seq(self) -> int:
        return len(self.events)

    @property
    def ended(self) -> bool:
        return bool(self.events) and self.events[-1].kind in TERMINAL_KINDS

    def append(self, kind: str, data: Mapping[str, Any]) -> JournalEvent:
        """Write one event (fsync'd at stage boundaries) and return it with its seq."""
        with self._lock:
            event = JournalEvent(len(self.events), kind, dict(data), round(time.time(), 3))
            stage = str(data.get("stage", "")) if kind == "progress" else ""
            boundary = kind != "progress" or stage != self._last_stage
            self._last_stage = stage or self._last_stage
            with (self.folder / EVENTS_FILE).open("ab") as fh:
                fh.write(event.to_line())
                if boundary:
                    fh.flush()
                    os.fsync(fh.fileno())
            self.events.append(event)
            return event

    def since(self, from_seq: int) -> list[JournalEvent]:
        with self._lock:
            return self.events[from_seq:]


def job_folders(jobs_root: Path) -> Iterator[Path]:
    """Every job folder with a complete job.json (a folder killed before that is swept by the store)."""
    if not jobs_root.is_dir():
        return
    for d in jobs_root.iterdir():
        if d.is_dir() and (d / JOB_FILE).is_file():
            yield d

