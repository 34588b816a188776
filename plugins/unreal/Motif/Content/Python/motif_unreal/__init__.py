"""Motif for Unreal Engine 5: a Motif menu in the level editor; packs imported as native assets.

Only this host's UI and importer live here (see docs/UNREAL.md): `menus` (ToolMenus entries),
`actions` (what each entry does: validate, hand off, return at once), `dialogs` (details views of
small Python-defined objects), `settings`, `progress` (a non-modal task notification, a modal slow
task for the import only), `runtime` (the shared task session with Unreal as its host, ticked from
a Slate post-tick callback), `importer`, `materials`, `placement` and `faults`. Everything that
needs no Unreal is the shared host kit `motif_client`, vendored into `vendor/` by the build.
"""
