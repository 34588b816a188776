"""Named crash points for the crash-safety tests: `MOTIF_FAILPOINT=NAME[:N]` makes the process SIGKILL
itself the N-th time (default the first) it passes `hit(NAME)`.

A kill -9 sent from outside lands at a random instruction; these land it exactly inside the narrow
windows that matter (between placing an object and publishing its pack, between publishing and
journaling the end), so the tests can show the store survives every one of them. Inert (one dict
lookup) unless the variable is set.
"""

from __future__ import annotations

import os
import signal
import threading

_lock = threading.Lock()
_counts: dict[str, int] = {}


def hit(name: str) -> None:
    spec = os.environ.get("MOTIF_FAILPOINT")
    if not spec:
        return
    wanted, _, nth = spec.partition(":")
    if wanted != name:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        if _counts[name] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
