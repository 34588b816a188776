"""The shared pack feed: every pack that appears in the store, announced to every watching host.

Hosts (Blender, Unreal, Resolve, Live) show packs made from any of them. A pack can reach the store
from this engine's jobs (which poke the feed at once) or from another process writing to the same
store (`motif generate` in-process), so the feed also looks at the packs folder twice a second; a
pack is announced once, when its folder first appears, whoever made it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

from engine_server.store import MANIFEST_NAME, PackStore

POLL_S = 0.5


def pack_summary(store: PackStore, manifest: dict[str, Any], created_unix: float) -> dict[str, Any]:
    """The one row a host shows for a pack (ListPacks, WatchPacks, `motif packs`)."""
    request = manifest.get("request", {})
    return {
        "pack_id": manifest["pack_id"],
        "prompt": request.get("prompt", ""),
        "seed": int(manifest.get("seed", 0)),
        "created_unix": created_unix,
        "asset_count": len(manifest["assets"]),
        "client": str(store.origin(manifest["pack_id"]).get("client", "")),
        "decoders": list(request.get("decoders", [])),
        "quality": str(request.get("quality", "")),
    }


class Subscription:
    """One watcher's queue of pack summaries; `close` ends it."""

    def __init__(self, feed: PackFeed) -> None:
        self._feed = feed
        self._sent: set[str] = set()
        self.queue: queue.Queue[dict[str, Any]] = queue.Queue()

    def next(self, timeout: float) -> dict[str, Any] | None:
        """The next summary not sent yet, or None after `timeout` seconds with nothing new."""
        while True:
            try:
                summary = self.queue.get(timeout=timeout)
            except queue.Empty:
                return None
            if summary["pack_id"] not in self._sent:
                self._sent.add(summary["pack_id"])
                return summary

    def close(self) -> None:
        self._feed._unsubscribe(self)


class PackFeed:
    def __init__(self, store: PackStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self._known = set(self._pack_names())
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="motif-pack-feed", daemon=True)
        self._thread.start()

    def subscribe(self, last: int = 0) -> Subscription:
        """A new watcher; it first gets the newest `last` packs already stored (oldest of them first)."""
        sub = Subscription(self)
        with self._lock:
            if last:
                for manifest, created in reversed(self.store.list()[:last]):
                    sub.queue.put(pack_summary(self.store, manifest, created))
            self._subs.append(sub)
        return sub

    def poke(self, pack_id: str = "") -> None:
        """A pack was just committed here: look now rather than at the next poll."""
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=2)

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def _pack_names(self) -> Iterator[str]:
        for d in self.store.packs.iterdir():
            if not d.name.startswith("."):
                yield d.name

    def _watch(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(POLL_S)
            self._wake.clear()
            new = [name for name in self._pack_names() if name not in self._known]
            for name in sorted(new, key=lambda n: (self.store.packs / n / MANIFEST_NAME).stat().st_mtime):
                self._known.add(name)
                try:
                    manifest = self.store.get(name)
                    created = (self.store.packs / name / MANIFEST_NAME).stat().st_mtime
                except Exception:  # a folder that is not a pack: nothing to announce
                    continue
                summary = pack_summary(self.store, manifest, created)
                with self._lock:
                    for sub in self._subs:
                        sub.queue.put(summary)
