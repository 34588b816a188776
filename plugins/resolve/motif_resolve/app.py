"""The Motif window (Fusion UIManager, as Resolve scripts make windows) and the connection to Resolve.

Buttons call the controller on Resolve's UI thread, and the kit's task session is ticked there too, so
Resolve never waits on the engine. No UIManager timer ticks it: `ui.Timer` is in neither fusionscript.pyi
nor the host API checker's list of UIManager names, while `ui.QueueEvent(element, event, info)` is
documented ("calls the element's event handler for 'event'", delivered by the dispatcher's RunLoop on the
UI thread). So the kit's `Waker` thread queues a Clicked event on a hidden Tick button whenever the
engine's worker posts an event or the delay the last tick asked for passes; that handler ticks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from . import faults

RETRY_S = 0.1  # after a tick that raised: the next one this much later, so the window keeps updating


def connect(env: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """(resolve, fusion, bmd) from the script's globals (Workspace › Scripts defines them), else through
    `bmd.scriptapp`; ResolveFault pointing to the OTIO route when Python scripting is unavailable."""
    bmd = env.get("bmd")
    resolve = env.get("resolve")
    if resolve is None and bmd is not None:
        try:
            resolve = bmd.scriptapp("Resolve")
        except Exception:
            resolve = None
    if resolve is None:
        raise faults.ResolveFault(faults.scripting_unavailable())
    fusion = env.get("fusion") or resolve.Fusion()
    return resolve, fusion, bmd


def main(env: Mapping[str, Any]) -> None:
    """Workspace › Scripts › Motif."""
    try:
        resolve, fusion, bmd = connect(env)
    except faults.ResolveFault as exc:
        print(f"Motif: {exc}")
        return
    if fusion is None or bmd is None:
        print("Motif: " + faults.scripting_unavailable())
        return
    Window(resolve, fusion, bmd).run()


class Window:
    """Engine status, prompt, seed, Score this timeline, Import pack (feed or id), progress, Cancel."""

    def __init__(self, resolve: Any, fusion: Any, bmd: Any) -> None:
        from .controller import Controller
        from .kit import runner

        self.ui = fusion.UIManager
        self.disp = bmd.UIDispatcher(self.ui)
        self.ctl = Controller(resolve, address=os.environ.get("MOTIF_ENGINE", "127.0.0.1:50051"),
                              token=os.environ.get("MOTIF_TOKEN") or None, on_change=self.redraw)
        ui = self.ui
        self.win = self.disp.AddWindow(
            {"ID": "MotifWin", "WindowTitle": "Motif", "Geometry": [200, 200, 460, 560]},
            ui.VGroup({"Spacing": 6}, [
                ui.Label({"ID": "Engine", "Text": "Engine: …", "Weight": 0}),
                ui.HGroup({"Weight": 0}, [ui.Label({"Text": "Prompt", "Weight": 0}),
                                          ui.LineEdit({"ID": "Prompt", "PlaceholderText": "optional"})]),
                ui.HGroup({"Weight": 0}, [ui.Label({"Text": "Seed", "Weight": 0}),
                                          ui.LineEdit({"ID": "Seed", "Text": "0"})]),
                ui.Button({"ID": "Score", "Text": "Score this timeline", "Weight": 0}),
                ui.Label({"Text": "Pack feed", "Weight": 0}),
                ui.ComboBox({"ID": "Feed"}),
                ui.HGroup({"Weight": 0}, [ui.LineEdit({"ID": "PackId", "PlaceholderText": "pack id"}),
                                          ui.Button({"ID": "Import", "Text": "Import pack"})]),
                ui.Label({"ID": "Progress", "Text": "", "Weight": 0}),
                ui.Label({"ID": "Message", "Text": "", "WordWrap": True, "Weight": 0}),
                ui.Button({"ID": "Cancel", "Text": "Cancel", "Weight": 0}),
                ui.Button({"ID": "Tick", "Hidden": True, "Weight": 0}),  # only ever clicked by QueueEvent
            ]))
        self.items = self.win.GetItems()
        self.waker = runner.Waker(lambda: ui.QueueEvent(self.items["Tick"], "Clicked", {}))
        self.ctl.runner.wake = self.waker.wake
        on = self.win.On
        on.MotifWin.Close = self._close
        on.Score.Clicked = lambda ev: self.ctl.score_timeline(self.items["Prompt"].Text, self.items["Seed"].Text)
        on.Import.Clicked = lambda ev: self.ctl.import_pack(self.items["PackId"].Text)
        on.Cancel.Clicked = lambda ev: self.ctl.cancel()
        on.Feed.CurrentIndexChanged = lambda ev: self._pick()
        on.Tick.Clicked = self._tick
        self._shown_feed: list[tuple[str, str, str]] = []

    def run(self) -> None:
        self.ctl.check_engine()
        self.ctl.watch_feed()
        self.win.Show()
        self.waker.start()
        try:
            self.disp.RunLoop()
        finally:
            self.waker.close()
        self.win.Hide()

    def _close(self, ev: Any) -> None:
        self.ctl.shutdown()
        self.disp.ExitLoop()

    def _tick(self, ev: Any) -> None:
        """The Tick button's queued Clicked, on the UI thread; then tell the waker when the next is due."""
        delay: float | None = RETRY_S
        try:
            delay = self.ctl.tick()
        finally:
            self.waker.ticked(delay)

    def _pick(self) -> None:
        """A feed row chosen: its pack id goes in the Import box."""
        index = int(self.items["Feed"].CurrentIndex)
        if 0 <= index < len(self._shown_feed):
            self.items["PackId"].Text = self._shown_feed[index][0]

    def redraw(self) -> None:
        s = self.ctl.status
        it = self.items
        it["Engine"].Text = self.ctl.engine_text
        it["Progress"].Text = f"{s.text} ({s.fraction * 100:.0f}%)" if s.busy else s.text
        if self.ctl.messages:
            level, text = self.ctl.messages[-1]
            it["Message"].Text = f"{level.title()}: {text}"
        it["Score"].Enabled = it["Import"].Enabled = not s.busy
        it["Cancel"].Enabled = s.busy
        rows = self.ctl.feed_rows()
        if rows != self._shown_feed:
            self._shown_feed = rows
            it["Feed"].Clear()
            for pack_id, prompt, seed in rows:  # one line a pack (a ComboBox: UIManager's plainest list)
                it["Feed"].AddItem(f"{pack_id[:12]}  seed {seed}  {prompt}")
