"""The "Motif" menu in the level editor's main menu bar (ToolMenus), and its live Packs submenu.

Entries run one line of Python (`motif_unreal.actions.<name>()`), so registering the menu imports
nothing but `unreal`: the client and grpcio load on first use. The Packs submenu lists the engine's
pack feed (packs made by any host) and is rebuilt as packs arrive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import unreal

OWNER = "Motif"
MAIN_MENU = "LevelEditor.MainMenu"
MENU = f"{MAIN_MENU}.Motif"
PACKS_MENU = f"{MENU}.Packs"
PACKS_SECTION = "Feed"
MAX_PACKS = 20

# (section, entry name, label, tool tip, action)
ENTRIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("Pack", "GeneratePack", "Generate Pack…", "Make a pack from a prompt and import it", "generate_pack"),
    ("Pack", "ImportPack", "Import Pack…", "Import a pack folder from disk, or a pack from the engine's store",
     "import_pack"),
    ("Pack", "Cancel", "Cancel", "Stop the running Motif job", "cancel"),
    ("Pack", "Reattach", "Re-attach to Last Job", "Follow the job Motif was waiting for when the editor closed",
     "reattach"),
    ("Engine", "TestConnection", "Test Connection", "Ask the engine what it can make", "test_connection"),
    ("Engine", "Settings", "Settings…", "Engine address, token, seed, destination folder, placement",
     "edit_settings"),
)


def command(action: str, *args: str) -> str:
    quoted = ", ".join(repr(a) for a in args)
    return f"import motif_unreal.actions as motif; motif.{action}({quoted})"


def _entry(name: str, label: str, tip: str, python: str) -> Any:
    entry = unreal.ToolMenuEntry(name=f"Motif.{name}", type=unreal.MultiBlockType.MENU_ENTRY)
    entry.set_label(label)
    entry.set_tool_tip(tip)
    entry.set_string_command(unreal.ToolMenuStringCommandType.PYTHON, "", python)
    return entry


def register() -> Any:
    """Add (or re-add) the Motif menu; safe to call again after a reload."""
    menus = unreal.ToolMenus.get()
    main = menus.find_menu(MAIN_MENU)
    if main is None:
        unreal.log_warning("Motif: the level editor's main menu is not there (no editor UI); no Motif menu.")
        return None
    menus.unregister_owner_by_name(OWNER)
    motif = main.add_sub_menu(OWNER, "Motif", "Motif", "Motif", "Generate and import Motif packs")
    for section, name, label, tip, action in ENTRIES:
        motif.add_section(section, section)
        motif.add_menu_entry(section, _entry(name, label, tip, command(action)))
    packs = motif.add_sub_menu(OWNER, "Pack", "Packs", "Packs", "The engine's pack feed: packs made by any host")
    packs.add_section(PACKS_SECTION, "Engine Feed")
    packs.add_menu_entry(PACKS_SECTION, _entry("RefreshPacks", "Refresh", "Start (or restart) the pack feed",
                                               command("watch_packs")))
    menus.refresh_all_widgets()
    return motif


def rebuild_packs(rows: Sequence[Mapping[str, Any]]) -> int:
    """List the feed's newest packs in Motif › Packs (each entry imports its pack)."""
    menus = unreal.ToolMenus.get()
    packs = menus.find_menu(PACKS_MENU)
    if packs is None:
        return 0
    menus.remove_section(PACKS_MENU, "Packs")
    packs.add_section("Packs", "Packs")
    shown = 0
    for row in list(rows)[:MAX_PACKS]:
        pack_id = str(row.get("pack_id", ""))
        if not pack_id:
            continue
        prompt = str(row.get("prompt") or "latent")
        label = f"{prompt[:40]}{'…' if len(prompt) > 40 else ''}  [{row.get('client') or '?'} · {pack_id[:8]}]"
        decoders = ", ".join(str(d) for d in row.get("decoders", []))
        packs.add_menu_entry("Packs", _entry(f"Pack.{pack_id}", label, f"Import pack {pack_id} ({decoders})",
                                             command("import_from_feed", pack_id)))
        shown += 1
    menus.refresh_menu_widget(PACKS_MENU)
    return shown


def unregister() -> None:
    unreal.ToolMenus.get().unregister_owner_by_name(OWNER)
    unreal.ToolMenus.get().refresh_all_widgets()
