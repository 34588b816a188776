"""Motif's start-up script: Unreal runs every enabled plugin's Content/Python/init_unreal.py when
the editor starts. It only registers the Motif menu; the client library, grpcio and the importer
load when a menu entry is first used, so the editor starts as fast with Motif as without it."""

import motif_unreal.menus

motif_unreal.menus.register()
