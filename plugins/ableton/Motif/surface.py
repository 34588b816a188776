"""The control surface Live instantiates: it only owns the script and its schedule_message tick.

Built on `ableton.v2.control_surface.ControlSurface`, the framework AbletonOSC uses on Live 11 and 12
(it is Live's own, not part of `Live` or its stubs). Only a real Live exercises this file; the tests
run `MotifScript` directly (docs/ABLETON.md says what was verified where).
"""

from __future__ import annotations

from typing import Any

import Live
from ableton.v2.control_surface import ControlSurface

from .script import MotifScript


class MotifSurface(ControlSurface):  # type: ignore[misc]
    def __init__(self, c_instance: Any) -> None:
        ControlSurface.__init__(self, c_instance)
        self._motif = MotifScript(lambda: Live.Application.get_application().get_document(), self.show_message,
                                  log=self.log_message)
        try:
            self._motif.open()
            self.show_message(f"Motif: listening for OSC on {self._motif.host}:{self._motif.port}")
        except OSError as exc:
            self.show_message(f"Motif: cannot listen on UDP {self._motif.host}:{self._motif.port} ({exc}). "
                              "Is AbletonOSC selected as another control surface? Keep one of the two.")
        self.schedule_message(1, self._tick)

    def _tick(self) -> None:
        try:
            self._motif.tick()
        finally:
            self.schedule_message(1, self._tick)

    def disconnect(self) -> None:
        self._motif.close()
        ControlSurface.disconnect(self)
