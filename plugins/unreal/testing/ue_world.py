"""What the editor does behind the stand-in `unreal` module (ue_standin.py): a small, honest model.

`World` holds the state a test inspects (content browser assets and folders, level actors, menus,
dialogs shown, log lines, undo transactions, slow tasks, notifications, tick callbacks) and the
knobs a test turns (the answer of a details view, when the import's Cancel is pressed, a file
Interchange fails on, the viewport camera). Behaviours are registered per stub member with
`@behaves("Class", "member")`; the stand-in refuses to build if one names something the stub lacks.

Files are read by real readers, not trusted: a GLB through pygltflib (bounds converted the way
Interchange documents, metres +Y up -> centimetres +Z up), a WAV through `wave`, a PNG through
Pillow; a file they cannot read imports nothing, as in the editor.
"""

from __future__ import annotations

import threading
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ue_standin

Behaviour = Callable[..., Any]
BEHAVIOURS: dict[tuple[str, str], Behaviour] = {}
_INT = {"int", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "int8", "int16"}
_FLOAT = {"float", "double"}
_STR = {"str", "Name", "Text", "String"}


def behaves(cls: str, member: str) -> Callable[[Behaviour], Behaviour]:
    def deco(fn: Behaviour) -> Behaviour:
        BEHAVIOURS[(cls, member)] = fn
        return fn
    return deco


@dataclass
class Call:
    name: str  # "Class.member" or a module function's name; property stores end with "="
    owner: Any
    args: dict[str, Any]


class World:
    """One editor session's state. `install()` makes `import unreal` use it."""

    def __init__(self, saved_dir: Path) -> None:
        self.saved_dir = Path(saved_dir)
        self.behaviours = BEHAVIOURS
        self.calls: list[Call] = []
        self.game_thread = threading.current_thread()
        self.off_thread_calls: list[str] = []  # Unreal may only be called on its game thread
        self.logs: list[tuple[str, str]] = []
        self.dialogs: list[dict[str, Any]] = []
        self.details_views: list[str] = []
        self.assets: dict[str, Any] = {}  # package path (/Game/A/B) -> object
        self.folders: set[str] = set()
        self.saved: set[str] = set()
        self.actors: list[Any] = []
        self.selected: list[Any] = []
        self.menus: dict[str, Any] = {}
        self.tick_callbacks: dict[int, Callable[[float], Any]] = {}
        self.transactions: list[Any] = []
        self.slow_tasks: list[Any] = []
        self.utility_tasks: list[Any] = []
        self.subsystems: dict[str, Any] = {}
        self.singletons: dict[str, Any] = {}
        # knobs
        self.on_details_view: Callable[[str, Any], bool] = lambda title, obj: False
        self.cancel_slow_task_after: int | None = None  # frames entered before Cancel is "pressed"
        self.fail_files: set[str] = set()  # file names Interchange fails on
        self.camera = ((0.0, 0.0, 170.0), 0.0)  # location (cm), yaw (degrees)
        self.unreal: Any = None
        self._builder: Any = None
        self.spec: dict[str, Any] = {}
        self._next_handle = 1

    # ------------------------------------------------------------ plumbing used by ue_standin

    def install(self) -> Any:
        return ue_standin.install(self)

    def bind(self, module: Any, builder: Any, spec: dict[str, Any]) -> None:
        self.unreal, self._builder, self.spec = module, builder, spec
        main = self.new("ToolMenu")
        main._meta.update(name="LevelEditor.MainMenu", sections={}, owner="LevelEditor")
        self.menus["LevelEditor.MainMenu"] = main

    def new(self, cls_name: str) -> Any:
        """An instance made by the editor itself (no constructor call recorded)."""
        cls = getattr(self.unreal, cls_name)
        return ue_standin.Standin.__new__(cls)

    def record(self, name: str, owner: Any, args: dict[str, Any]) -> None:
        if threading.current_thread() is not self.game_thread:
            self.off_thread_calls.append(f"{name} on {threading.current_thread().name}")
        self.calls.append(Call(name, owner, dict(args)))

    def calls_to(self, name: str) -> list[Call]:
        return [c for c in self.calls if c.name == name]

    def dispatch(self, cls_name: str, member: str, owner: Any, args: dict[str, Any], ret: str) -> Any:
        if cls_name:
            found = ue_stubspec_find(self.spec, cls_name, member, self.behaviours)
            if found is not None:
                return found(self, owner, **args)
            if member == "__init__":
                return self._generic_init(owner, args)
        else:
            fn = self.behaviours.get(("", member))
            if fn is not None:
                return fn(self, None, **args)
        return self.default_return(ret)

    def _generic_init(self, owner: Any, args: dict[str, Any]) -> None:
        if self.is_a(owner, "StructBase") or not self.is_a(owner, "_ObjectBase"):
            owner._props.update(args)  # structs (and glue types) take their properties
        else:
            owner._meta["name"] = str(args.get("name", ""))
        return None

    def is_a(self, obj: Any, cls_name: str) -> bool:
        return isinstance(obj, getattr(self.unreal, cls_name))

    # ------------------------------------------------------------ values

    def _class_of(self, type_text: str) -> Any:
        name = type_text.strip().strip("'\"")
        if name in self.spec.get("classes", {}):
            return getattr(self.unreal, name)
        return None

    def default_value(self, type_text: str, read_only: bool = False) -> Any:
        """A property's value before anything set it."""
        t = type_text.strip()
        if t.startswith("Optional["):
            return None
        if t in ("bool",):
            return False
        if t in _INT:
            return 0
        if t in _FLOAT:
            return 0.0
        if t in _STR:
            return ""
        if t.startswith(("Array[", "Set[", "List[", "Tuple[")):
            return []
        if t.startswith("Map["):
            return {}
        cls = self._class_of(t)
        if cls is None:
            return None
        if issubclass(cls, self.unreal.EnumBase):
            entries = [v for v in vars(cls).values() if isinstance(v, cls)]
            return entries[0] if entries else None
        if issubclass(cls, self.unreal.StructBase):
            return ue_standin.Standin.__new__(cls)
        if issubclass(cls, self.unreal._ObjectBase) and read_only:
            return ue_standin.Standin.__new__(cls)  # an instanced sub-object (a component, a sub-pipeline)
        return None

    def default_return(self, type_text: str) -> Any:
        """What an unmodelled call returns: success for bool, a fresh value of the declared type."""
        t = type_text.strip()
        if t in ("", "None", "Any", "object", "type") or t.startswith(("Optional[", "_")):
            return None
        if t == "bool":
            return True
        cls = self._class_of(t)
        if cls is not None and not issubclass(cls, self.unreal.EnumBase):
            return ue_standin.Standin.__new__(cls)
        return self.default_value(t)

    def read_prop(self, owner: Any, name: str, type_text: str, read_only: bool = False) -> Any:
        if name not in owner._props:
            owner._props[name] = self.default_value(type_text, read_only)
        return owner._props[name]

    def editor_property(self, owner: Any, name: str) -> tuple[str, bool] | None:
        """(type, read only) of an editor property of `owner`'s class, or None."""
        for c in type(owner).__mro__:
            uprops = c.__dict__.get("_uprops")
            if uprops and name in uprops:
                return (uprops[name], False)
        from ue_stubspec import find_eprop

        found = find_eprop(self.spec, ue_standin.spec_name(type(owner)), name)
        return (found[0], bool(found[1])) if found else None

    # ------------------------------------------------------------ the content browser

    def asset_path(self, folder: str, name: str) -> str:
        return f"{folder.rstrip('/')}/{name}"

    def add_asset(self, obj: Any, folder: str, name: str) -> Any:
        path = self.asset_path(folder, name)
        obj._meta.update(name=name, path=path, tags={})
        self.assets[path] = obj
        return obj

    def find_asset(self, name: str) -> Any:
        path = str(name).split(".")[0] if "." in str(name).rsplit("/", 1)[-1] else str(name)
        return self.assets.get(path)

    def folder_exists(self, path: str) -> bool:
        p = path.rstrip("/")
        return p in self.folders or any(a.startswith(p + "/") for a in self.assets)

    def assets_under(self, path: str) -> list[str]:
        p = path.rstrip("/") + "/"
        return sorted(a for a in self.assets if a.startswith(p))

    # ------------------------------------------------------------ ticking

    def tick(self, delta_s: float = 0.05) -> None:
        for fn in list(self.tick_callbacks.values()):
            fn(delta_s)

    def log_lines(self, level: str) -> list[str]:
        return [t for lv, t in self.logs if lv == level]


def ue_stubspec_find(spec: dict[str, Any], cls: str, member: str,
                     table: dict[tuple[str, str], Behaviour]) -> Behaviour | None:
    """The behaviour for `cls.member` or for the base class that declares it."""
    from ue_stubspec import mro

    for name in mro(spec, cls):
        fn = table.get((name, member))
        if fn is not None:
            return fn
        if member in spec["classes"][name]["members"]:
            return None  # declared here without a behaviour: a subclass override is not its base's
    return None


# =================================================================== behaviours: module functions


@behaves("", "log")
def _log(w: World, _: Any, arg: Any) -> None:
    w.logs.append(("log", str(arg)))


@behaves("", "log_warning")
def _log_warning(w: World, _: Any, arg: Any) -> None:
    w.logs.append(("warning", str(arg)))


@behaves("", "log_error")
def _log_error(w: World, _: Any, arg: Any) -> None:
    w.logs.append(("error", str(arg)))


@behaves("", "register_slate_post_tick_callback")
def _register_tick(w: World, _: Any, callable: Any) -> int:
    handle = w._next_handle
    w._next_handle += 1
    w.tick_callbacks[handle] = callable
    return handle


@behaves("", "unregister_slate_post_tick_callback")
def _unregister_tick(w: World, _: Any, handle: Any) -> None:
    w.tick_callbacks.pop(handle, None)


@behaves("", "get_editor_subsystem")
def _get_editor_subsystem(w: World, _: Any, subsystem: Any) -> Any:
    if not (isinstance(subsystem, type) and issubclass(subsystem, w.unreal.EditorSubsystem)):
        raise TypeError(f"get_editor_subsystem: {subsystem!r} is not an editor subsystem class")
    name = subsystem.__name__
    if name not in w.subsystems:
        w.subsystems[name] = ue_standin.Standin.__new__(subsystem)
    return w.subsystems[name]


@behaves("", "load_asset")
def _load_asset(w: World, _: Any, name: str, **__: Any) -> Any:
    return w.find_asset(name)


# The stub's own Python helpers (its "Additional Code"), as written there.
@behaves("", "uclass")
def _uclass(w: World, _: Any) -> Any:
    def deco(type_: type) -> type:
        w.unreal.generate_class(type_)
        return type_
    return deco


@behaves("", "uproperty")
def _uproperty(w: World, _: Any, type: Any, meta: Any = None, getter: Any = None, setter: Any = None) -> Any:
    return w.unreal.PropertyDef(type, meta, getter, setter)


@behaves("", "ufunction")
def _ufunction(w: World, _: Any, **kw: Any) -> Any:
    def deco(func: Any) -> Any:
        return w.unreal.FunctionDef(func, kw.get("meta"), kw.get("ret"), kw.get("params"), kw.get("override"),
                                    kw.get("static"), kw.get("pure"), kw.get("getter"), kw.get("setter"))
    return deco


@behaves("", "generate_class")
def _generate_class(w: World, _: Any, class_type: Any) -> None:
    """A Python-defined UClass: its uproperty fields become editor properties (and attributes)."""
    if not issubclass(class_type, w.unreal._ObjectBase):
        raise TypeError(f"{class_type.__name__} must derive from an Unreal object class")
    uprops: dict[str, Any] = {}
    for key, value in list(vars(class_type).items()):
        if isinstance(value, w.unreal.PropertyDef):
            t = value._props["type"]
            uprops[key] = t.__name__ if isinstance(t, type) else str(t)

            def get(owner: Any, key: str = key, t: Any = t) -> Any:
                if key not in owner._props:
                    owner._props[key] = t() if isinstance(t, type) else None
                return owner._props[key]

            def put(owner: Any, v: Any, key: str = key) -> None:
                owner._props[key] = v

            type.__setattr__(class_type, key, property(get, put))
        elif isinstance(value, w.unreal.FunctionDef):
            type.__setattr__(class_type, key, value._props["func"])
    type.__setattr__(class_type, "_uprops", uprops)


# =================================================================== objects and structs


@behaves("_ObjectBase", "get_name")
def _get_name(w: World, obj: Any) -> str:
    return str(obj._meta.get("name", ""))


@behaves("_ObjectBase", "get_path_name")
def _get_path_name(w: World, obj: Any) -> str:
    path = obj._meta.get("path")
    return f"{path}.{obj._meta['name']}" if path else ""


def _get_ep(w: World, obj: Any, name: Any) -> Any:
    found = w.editor_property(obj, str(name))
    if found is None:
        raise Exception(f"Failed to find property '{name}' for attribute '{name}' on '{type(obj).__name__}'")
    if isinstance(getattr(type(obj), str(name), None), property):
        return getattr(obj, str(name))
    return w.read_prop(obj, str(name), found[0], read_only=found[1])


def _set_ep(w: World, obj: Any, name: Any, value: Any, **_: Any) -> None:
    found = w.editor_property(obj, str(name))
    if found is None:
        raise Exception(f"Failed to find property '{name}' for attribute '{name}' on '{type(obj).__name__}'")
    if found[1]:
        raise Exception(f"Property '{name}' for attribute '{name}' on '{type(obj).__name__}' is read-only "
                        "and cannot be set")
    obj._props[str(name)] = value


for _base in ("_ObjectBase", "StructBase"):
    BEHAVIOURS[(_base, "get_editor_property")] = _get_ep
    BEHAVIOURS[(_base, "set_editor_property")] = _set_ep


# =================================================================== dialogs, tasks, transactions


@behaves("EditorDialog", "show_message")
def _show_message(w: World, _: Any, title: Any, message: Any, message_type: Any, default_value: Any = None,
                  message_category: Any = None) -> Any:
    w.dialogs.append({"title": str(title), "message": str(message), "type": message_type,
                      "category": message_category})
    return default_value if default_value is not None else w.unreal.AppReturnType.OK


@behaves("EditorDialog", "show_object_details_view")
def _show_details(w: World, _: Any, title: Any, out_object: Any, options: Any = None) -> bool:
    if not w.is_a(out_object, "Object"):
        raise TypeError("show_object_details_view needs a UObject")
    w.details_views.append(str(title))
    return bool(w.on_details_view(str(title), out_object))


@behaves("EditorUtilitySubsystem", "register_and_execute_task")
def _register_task(w: World, _: Any, new_task: Any, optional_parent_task: Any = None) -> None:
    if not w.is_a(new_task, "EditorUtilityTask"):
        raise TypeError("register_and_execute_task needs an EditorUtilityTask")
    new_task._meta.update(active=True, texts=[], cancel=False)
    w.utility_tasks.append(new_task)


@behaves("EditorUtilityTask", "set_task_notification_text")
def _task_text(w: World, task: Any, text: Any) -> None:
    task._meta.setdefault("texts", []).append(str(text))


@behaves("EditorUtilityTask", "was_cancel_requested")
def _task_cancel(w: World, task: Any) -> bool:
    return bool(task._meta.get("cancel"))


@behaves("EditorUtilityTask", "finish_executing_task")
def _task_finish(w: World, task: Any, success: bool = True) -> None:
    task._meta.update(active=False, success=bool(success))


@behaves("ScopedSlowTask", "__init__")
def _slow_init(w: World, task: Any, work: float, desc: Any = "", enabled: bool = True) -> None:
    task._meta.update(work=float(work), desc=str(desc), frames=[], dialog=None, open=False)


@behaves("ScopedSlowTask", "__enter__")
def _slow_enter(w: World, task: Any) -> Any:
    task._meta["open"] = True
    w.slow_tasks.append(task)
    return task


@behaves("ScopedSlowTask", "__exit__")
def _slow_exit(w: World, task: Any, type: Any, value: Any, traceback: Any) -> bool:
    task._meta["open"] = False
    return False


@behaves("ScopedSlowTask", "make_dialog")
def _slow_dialog(w: World, task: Any, can_cancel: bool = False, allow_in_pie: bool = False) -> None:
    task._meta["dialog"] = {"can_cancel": bool(can_cancel)}


@behaves("ScopedSlowTask", "enter_progress_frame")
def _slow_frame(w: World, task: Any, work: float = 1.0, desc: Any = "") -> None:
    task._meta["frames"].append(str(desc))


@behaves("ScopedSlowTask", "should_cancel")
def _slow_cancel(w: World, task: Any) -> bool:
    n = w.cancel_slow_task_after
    return n is not None and bool(task._meta.get("dialog", {}) and task._meta["dialog"]["can_cancel"]) and \
        len(task._meta["frames"]) >= n


@behaves("ScopedEditorTransaction", "__init__")
def _trans_init(w: World, t: Any, desc: Any) -> None:
    t._meta.update(desc=str(desc), open=False, cancelled=False)


@behaves("ScopedEditorTransaction", "__enter__")
def _trans_enter(w: World, t: Any) -> Any:
    if any(x._meta["open"] for x in w.transactions):
        raise AssertionError("a transaction is already open (the import must be one undo step)")
    t._meta.update(open=True, first_call=len(w.calls))
    w.transactions.append(t)
    return t


@behaves("ScopedEditorTransaction", "__exit__")
def _trans_exit(w: World, t: Any, type: Any, value: Any, traceback: Any) -> bool:
    t._meta.update(open=False, last_call=len(w.calls))
    return False


@behaves("ScopedEditorTransaction", "cancel")
def _trans_cancel(w: World, t: Any) -> None:
    t._meta["cancelled"] = True


# =================================================================== menus


@behaves("ToolMenus", "get")
def _menus_get(w: World, cls: Any) -> Any:
    if "ToolMenus" not in w.singletons:
        w.singletons["ToolMenus"] = w.new("ToolMenus")
    return w.singletons["ToolMenus"]


@behaves("ToolMenus", "find_menu")
def _find_menu(w: World, _: Any, name: Any) -> Any:
    return w.menus.get(str(name))


@behaves("ToolMenus", "remove_section")
def _remove_section(w: World, _: Any, menu_name: Any, section: Any) -> None:
    menu = w.menus.get(str(menu_name))
    if menu is not None:
        menu._meta["sections"].pop(str(section), None)


@behaves("ToolMenus", "unregister_owner_by_name")
def _unregister_owner(w: World, _: Any, owner_name: Any) -> None:
    for name, menu in list(w.menus.items()):
        if menu._meta.get("owner") == str(owner_name):
            del w.menus[name]
            parent = w.menus.get(name.rsplit(".", 1)[0])
            if parent is not None:
                for entries in parent._meta["sections"].values():
                    entries[:] = [e for e in entries if e.get("submenu") != name]


@behaves("ToolMenu", "add_sub_menu")
def _add_sub_menu(w: World, menu: Any, owner: Any, section_name: Any, name: Any, label: Any,
                  tool_tip: Any = "") -> Any:
    full = f"{menu._meta['name']}.{name}"
    sub = w.new("ToolMenu")
    sub._meta.update(name=full, sections={}, owner=str(owner), label=str(label))
    w.menus[full] = sub
    menu._meta["sections"].setdefault(str(section_name), []).append({"submenu": full, "label": str(label)})
    return sub


@behaves("ToolMenu", "add_section")
def _add_section(w: World, menu: Any, section_name: Any, label: Any = "", **_: Any) -> None:
    menu._meta["sections"].setdefault(str(section_name), [])


@behaves("ToolMenu", "add_menu_entry")
def _add_menu_entry(w: World, menu: Any, section_name: Any, args: Any) -> None:
    if not w.is_a(args, "ToolMenuEntry"):
        raise TypeError("add_menu_entry needs a ToolMenuEntry")
    entry = {"name": str(args._props.get("name", "")), "label": args._meta.get("label", ""),
             "python": args._meta.get("python"), "tool_tip": args._meta.get("tool_tip", "")}
    menu._meta["sections"].setdefault(str(section_name), []).append(entry)


@behaves("ToolMenuEntry", "set_label")
def _entry_label(w: World, entry: Any, label: Any) -> None:
    entry._meta["label"] = str(label)


@behaves("ToolMenuEntry", "set_tool_tip")
def _entry_tip(w: World, entry: Any, tool_tip: Any) -> None:
    entry._meta["tool_tip"] = str(tool_tip)


@behaves("ToolMenuEntry", "set_string_command")
def _entry_command(w: World, entry: Any, type: Any, custom_type: Any, string: str) -> None:
    if type is not w.unreal.ToolMenuStringCommandType.PYTHON:
        raise AssertionError("Motif's menu entries run Python")
    entry._meta["python"] = str(string)


# =================================================================== paths and the asset library


@behaves("Paths", "project_saved_dir")
def _saved_dir(w: World, _: Any) -> str:
    return str(w.saved_dir) + "/"


@behaves("EditorAssetLibrary", "does_directory_exist")
def _dir_exists(w: World, _: Any, directory_path: str) -> bool:
    return w.folder_exists(directory_path)


@behaves("EditorAssetLibrary", "make_directory")
def _make_dir(w: World, _: Any, directory_path: str) -> bool:
    w.folders.add(directory_path.rstrip("/"))
    return True


@behaves("EditorAssetLibrary", "delete_directory")
def _delete_dir(w: World, _: Any, directory_path: str) -> bool:
    p = directory_path.rstrip("/")
    for path in w.assets_under(p):
        del w.assets[path]
    w.folders = {f for f in w.folders if f != p and not f.startswith(p + "/")}
    return True


@behaves("EditorAssetLibrary", "does_asset_exist")
def _asset_exists(w: World, _: Any, asset_path: str) -> bool:
    return w.find_asset(asset_path) is not None


@behaves("EditorAssetLibrary", "load_asset")
def _lib_load_asset(w: World, _: Any, asset_path: str) -> Any:
    return w.find_asset(asset_path)


@behaves("EditorAssetLibrary", "set_metadata_tag")
def _set_tag(w: World, _: Any, object: Any, tag: Any, value: str) -> None:
    if not w.is_a(object, "Object") or "path" not in object._meta:
        raise TypeError("set_metadata_tag needs an asset")
    object._meta["tags"][str(tag)] = str(value)


@behaves("EditorAssetLibrary", "get_metadata_tag")
def _get_tag(w: World, _: Any, object: Any, tag: Any) -> str:
    return str(object._meta.get("tags", {}).get(str(tag), ""))


@behaves("EditorAssetLibrary", "save_directory")
def _save_dir(w: World, _: Any, directory_path: str, only_if_is_dirty: bool = True, recursive: bool = True) -> bool:
    w.saved.update(w.assets_under(directory_path))
    return True


@behaves("EditorAssetLibrary", "save_loaded_asset")
def _save_asset(w: World, _: Any, asset_to_save: Any, only_if_is_dirty: bool = True) -> bool:
    w.saved.add(asset_to_save._meta["path"])
    return True


@behaves("EditorAssetLibrary", "list_assets")
def _list_assets(w: World, _: Any, directory_path: str, recursive: bool = True, include_folder: bool = False) -> list:
    return w.assets_under(directory_path)


# =================================================================== importing and creating assets


@behaves("AssetToolsHelpers", "get_asset_tools")
def _asset_tools(w: World, _: Any) -> Any:
    if "AssetTools" not in w.singletons:
        w.singletons["AssetTools"] = w.new("AssetTools")
    return w.singletons["AssetTools"]


@behaves("AssetTools", "create_asset")
def _create_asset(w: World, _: Any, asset_name: str, package_path: str, asset_class: Any, factory: Any,
                  calling_context: Any = None) -> Any:
    if w.find_asset(w.asset_path(package_path, asset_name)) is not None:
        w.logs.append(("error", f"An asset already exists at {package_path}/{asset_name}"))
        return None
    wanted = {"MaterialInstanceConstantFactoryNew": "MaterialInstanceConstant", "MaterialFactoryNew": "Material"}
    if wanted.get(type(factory).__name__) != asset_class.__name__:
        raise AssertionError(f"create_asset: {type(factory).__name__} does not make {asset_class.__name__}")
    obj = ue_standin.Standin.__new__(asset_class)
    obj._meta.update(expressions=[], links=[], outputs={}, params={})
    return w.add_asset(obj, package_path, asset_name)


@behaves("AssetImportTask", "get_objects")
def _task_objects(w: World, task: Any) -> list:
    return list(task._meta.get("objects", []))


@behaves("AssetTools", "import_asset_tasks")
def _import_tasks(w: World, _: Any, import_tasks: Any) -> None:
    for task in import_tasks:
        if not w.is_a(task, "AssetImportTask"):
            raise TypeError("import_asset_tasks takes AssetImportTask objects")
        made = _import_one(w, task)
        task._meta["objects"] = made
        task._props["imported_object_paths"] = [o._meta["path"] for o in made]


def _import_one(w: World, task: Any) -> list[Any]:
    p = task._props
    file = Path(str(p.get("filename", "")))
    folder = str(p.get("destination_path", ""))
    if not file.is_file() or not folder.startswith("/Game"):
        w.logs.append(("error", f"Import failed: {file} -> {folder}"))
        return []
    if not p.get("automated"):
        raise AssertionError("a non-automated import would open dialogs")
    if file.name in w.fail_files:
        w.logs.append(("error", f"Interchange: failed to translate {file.name}"))
        return []
    ext = file.suffix.lower()
    name = file.stem  # Interchange names assets after the file (destination_name is ignored)
    if ext in (".png", ".jpg", ".jpeg"):
        return _import_texture(w, file, folder, name, p)
    if ext == ".wav":
        return _import_wav(w, file, folder, name, p)
    if ext in (".glb", ".gltf"):
        return _import_gltf(w, file, folder, name, p)
    w.logs.append(("error", f"No importer for {file.name}"))
    return []


def _replace_ok(w: World, folder: str, name: str, p: dict[str, Any]) -> bool:
    if w.find_asset(w.asset_path(folder, name)) is not None and not p.get("replace_existing"):
        w.logs.append(("error", f"{folder}/{name} exists and replace_existing is off"))
        return False
    return True


def _import_texture(w: World, file: Path, folder: str, name: str, p: dict[str, Any]) -> list[Any]:
    from PIL import Image

    try:
        with Image.open(file) as im:
            size, mode = im.size, im.mode
    except Exception:
        w.logs.append(("error", f"{file.name} is not an image"))
        return []
    if not _replace_ok(w, folder, name, p):
        return []
    tex = w.new("Texture2D")
    tex._props.update(srgb=True, compression_settings=w.unreal.TextureCompressionSettings.TC_DEFAULT)
    tex._meta.update(source=str(file), size=size, mode=mode)
    return [w.add_asset(tex, folder, name)]


def _import_wav(w: World, file: Path, folder: str, name: str, p: dict[str, Any]) -> list[Any]:
    try:
        with wave.open(str(file), "rb") as wav:
            channels, rate, frames = wav.getnchannels(), wav.getframerate(), wav.getnframes()
    except (wave.Error, EOFError, OSError):
        w.logs.append(("error", f"{file.name} is not a WAV file"))
        return []
    if not _replace_ok(w, folder, name, p):
        return []
    sw = w.new("SoundWave")
    sw._props.update(looping=False, duration=frames / rate, num_channels=channels, sample_rate=rate)
    sw._meta.update(source=str(file))
    return [w.add_asset(sw, folder, name)]


def _pipeline(w: World, options: Any) -> Any:
    if options is None or not w.is_a(options, "InterchangePipelineStackOverride"):
        return None
    for pipe in options._meta.get("pipelines", []):
        if w.is_a(pipe, "InterchangeGenericAssetsPipeline"):
            return pipe
    return None


def _gltf_model(w: World, file: Path) -> Any:
    import pygltflib

    try:
        return pygltflib.GLTF2().load(str(file))
    except Exception as exc:
        w.logs.append(("error", f"Interchange: {file.name} is not a glTF file ({type(exc).__name__})"))
        return None


def _scene_mesh_info(model: Any) -> tuple[list[str], list[tuple[float, float, float]], int]:
    """(material names in slot order, LOD0 bounds corners in cm (+Z up), triangles) of the scene."""
    import numpy as np

    names = [m.name or f"material_{i}" for i, m in enumerate(model.materials)]
    scene = model.scenes[model.scene or 0]
    slots: list[str] = []
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    tris = 0
    todo = list(scene.nodes)
    data = model.binary_blob()
    while todo:
        n = model.nodes[todo.pop(0)]
        todo.extend(n.children or [])
        if n.mesh is None:
            continue
        for prim in model.meshes[n.mesh].primitives:
            if prim.material is not None and names[prim.material] not in slots:  # first use order
                slots.append(names[prim.material])
            acc = model.accessors[prim.attributes.POSITION]
            view = model.bufferViews[acc.bufferView]
            start = (view.byteOffset or 0) + (acc.byteOffset or 0)
            stride = view.byteStride or 12
            raw = np.frombuffer(data, dtype=np.uint8, count=stride * acc.count, offset=start)
            pts = raw.reshape(acc.count, stride)[:, :12].copy().view(np.float32).reshape(acc.count, 3)
            lo, hi = np.minimum(lo, pts.min(0)), np.maximum(hi, pts.max(0))
            if prim.indices is not None:
                tris += model.accessors[prim.indices].count // 3
    # Interchange: glTF (x, y, z) metres, +Y up -> Unreal (x, z, y) centimetres, +Z up
    corners = [(float(lo[0]) * 100, float(lo[2]) * 100, float(lo[1]) * 100),
               (float(hi[0]) * 100, float(hi[2]) * 100, float(hi[1]) * 100)]
    return slots, corners, tris


def _import_gltf(w: World, file: Path, folder: str, name: str, p: dict[str, Any]) -> list[Any]:
    pipe = _pipeline(w, p.get("options"))
    if pipe is None:
        w.logs.append(("error", f"{file.name}: glTF imports through Interchange need an Interchange pipeline"))
        return []
    model = _gltf_model(w, file)
    if model is None:
        return []
    mesh_pipe = pipe._props.get("mesh_pipeline")
    mat_pipe = pipe._props.get("material_pipeline")
    asset = str(pipe._props.get("asset_name") or name)
    if not _replace_ok(w, folder, asset, p):
        return []
    slots, bounds, tris = _scene_mesh_info(model)
    sm = w.new("StaticMesh")
    sm._props["static_materials"] = [w.unreal.StaticMaterial(material_slot_name=s) for s in slots]
    sm._props["nanite_settings"] = w.unreal.MeshNaniteSettings(
        enabled=bool(mesh_pipe._props.get("build_nanite", True)) if mesh_pipe is not None else True)
    collision = mesh_pipe is not None and bool(mesh_pipe._props.get("collision")) and \
        mesh_pipe._props.get("fallback_collision_type") is not w.unreal.InterchangeMeshCollision.NONE
    sm._meta.update(source=str(file), lods=[{"source": str(file), "triangles": tris}], bounds=bounds,
                    collisions=1 if collision else 0, screen_sizes=[])
    made = [w.add_asset(sm, folder, asset)]
    if mat_pipe is not None and mat_pipe._props.get("import_materials", True):
        for s in slots:
            mat = w.new("Material")
            made.append(w.add_asset(mat, folder, f"M_{s}"))
    return made


@behaves("InterchangePipelineStackOverride", "add_pipeline")
def _add_pipeline(w: World, stack: Any, pipeline_base: Any) -> None:
    if not w.is_a(pipeline_base, "InterchangePipelineBase"):
        raise TypeError("add_pipeline needs an Interchange pipeline")
    stack._meta.setdefault("pipelines", []).append(pipeline_base)


# =================================================================== static meshes


@behaves("StaticMeshEditorSubsystem", "import_lod")
def _import_lod(w: World, _: Any, base_static_mesh: Any, lod_index: int, source_filename: str) -> int:
    model = _gltf_model(w, Path(source_filename)) if Path(source_filename).is_file() else None
    lods = base_static_mesh._meta["lods"]
    if model is None or not 0 < lod_index <= len(lods):
        return -1
    _, _, tris = _scene_mesh_info(model)
    entry = {"source": source_filename, "triangles": tris}
    if lod_index == len(lods):
        lods.append(entry)
    else:
        lods[lod_index] = entry
    return int(lod_index)


@behaves("StaticMeshEditorSubsystem", "get_lod_count")
def _lod_count(w: World, _: Any, static_mesh: Any) -> int:
    return len(static_mesh._meta["lods"])


@behaves("StaticMeshEditorSubsystem", "set_lod_screen_sizes")
def _screen_sizes(w: World, _: Any, static_mesh: Any, screen_sizes: Any) -> bool:
    sizes = [float(s) for s in screen_sizes]
    if len(sizes) != len(static_mesh._meta["lods"]):
        return False
    static_mesh._meta["screen_sizes"] = sizes
    return True


@behaves("StaticMeshEditorSubsystem", "set_nanite_settings")
def _set_nanite(w: World, _: Any, static_mesh: Any, nanite_settings: Any, apply_changes: bool = True) -> None:
    static_mesh._props["nanite_settings"] = nanite_settings


@behaves("StaticMeshEditorSubsystem", "get_simple_collision_count")
def _collision_count(w: World, _: Any, static_mesh: Any) -> int:
    return int(static_mesh._meta["collisions"])


@behaves("StaticMeshEditorSubsystem", "add_simple_collisions")
def _add_collision(w: World, _: Any, static_mesh: Any, shape_type: Any) -> int:
    static_mesh._meta["collisions"] += 1
    static_mesh._meta.setdefault("collision_shapes", []).append(shape_type)
    return int(static_mesh._meta["collisions"]) - 1


@behaves("StaticMesh", "get_material_index")
def _material_index(w: World, sm: Any, material_slot_name: Any) -> int:
    names = [str(s._props.get("material_slot_name")) for s in sm._props.get("static_materials", [])]
    return names.index(str(material_slot_name)) if str(material_slot_name) in names else -1


@behaves("StaticMesh", "set_material")
def _set_material(w: World, sm: Any, material_index: int, new_material: Any) -> None:
    slots = sm._props.get("static_materials", [])
    if not 0 <= material_index < len(slots):
        w.logs.append(("error", f"set_material: no slot {material_index}"))
        return
    slots[material_index]._props["material_interface"] = new_material


# =================================================================== materials


@behaves("MaterialEditingLibrary", "create_material_expression")
def _create_expression(w: World, _: Any, material: Any, expression_class: Any, node_pos_x: int = 0,
                       node_pos_y: int = 0) -> Any:
    if not issubclass(expression_class, w.unreal.MaterialExpression):
        raise TypeError("create_material_expression needs a MaterialExpression class")
    e = ue_standin.Standin.__new__(expression_class)
    e._meta["material"] = material
    material._meta["expressions"].append(e)
    return e


@behaves("MaterialEditingLibrary", "connect_material_expressions")
def _connect(w: World, _: Any, from_expression: Any, from_output_name: str, to_expression: Any,
             to_input_name: str) -> bool:
    if from_expression._meta.get("material") is not to_expression._meta.get("material"):
        return False
    from_expression._meta["material"]._meta["links"].append(
        (from_expression, from_output_name, to_expression, to_input_name))
    return True


@behaves("MaterialEditingLibrary", "connect_material_property")
def _connect_property(w: World, _: Any, from_expression: Any, from_output_name: str, property_: Any) -> bool:
    from_expression._meta["material"]._meta["outputs"][property_._meta["enum_name"]] = (from_expression,
                                                                                         from_output_name)
    return True


def _param_names(material: Any) -> set[str]:
    return {str(e._props.get("parameter_name")) for e in material._meta.get("expressions", [])
            if "parameter_name" in e._props}


def _set_param(kind: str) -> Behaviour:
    def fn(w: World, _: Any, instance: Any, parameter_name: Any, value: Any, association: Any = None) -> bool:
        parent = instance._props.get("parent")
        if parent is None or (parent._meta.get("expressions") and str(parameter_name) not in _param_names(parent)):
            return False  # the parent has no such parameter: Unreal ignores the value
        instance._meta["params"][(kind, str(parameter_name))] = value
        return True
    return fn


BEHAVIOURS[("MaterialEditingLibrary", "set_material_instance_texture_parameter_value")] = _set_param("texture")
BEHAVIOURS[("MaterialEditingLibrary", "set_material_instance_vector_parameter_value")] = _set_param("vector")
BEHAVIOURS[("MaterialEditingLibrary", "set_material_instance_scalar_parameter_value")] = _set_param("scalar")


@behaves("MaterialEditingLibrary", "set_material_instance_parent")
def _set_parent(w: World, _: Any, instance: Any, new_parent: Any) -> None:
    if not w.is_a(new_parent, "MaterialInterface"):
        raise TypeError("set_material_instance_parent needs a material")
    instance._props["parent"] = new_parent


# =================================================================== the level


@behaves("EditorActorSubsystem", "spawn_actor_from_object")
def _spawn_from_object(w: World, _: Any, object_to_use: Any, location: Any, rotation: Any = None,
                       transient: bool = False) -> Any:
    if not w.is_a(object_to_use, "StaticMesh"):
        raise AssertionError("this stand-in spawns actors from static meshes only")
    actor = w.new("StaticMeshActor")
    actor.static_mesh_component._props["static_mesh"] = object_to_use
    return _spawned(w, actor, location, rotation)


@behaves("EditorActorSubsystem", "spawn_actor_from_class")
def _spawn_from_class(w: World, _: Any, actor_class: Any, location: Any, rotation: Any = None,
                      transient: bool = False) -> Any:
    if not (isinstance(actor_class, type) and issubclass(actor_class, w.unreal.Actor)):
        raise TypeError("spawn_actor_from_class needs an Actor class")
    return _spawned(w, ue_standin.Standin.__new__(actor_class), location, rotation)


def _spawned(w: World, actor: Any, location: Any, rotation: Any) -> Any:
    loc = (location._props.get("x", 0.0), location._props.get("y", 0.0), location._props.get("z", 0.0))
    rot = (0.0, 0.0, 0.0) if rotation is None else (rotation._props.get("roll", 0.0),
                                                   rotation._props.get("pitch", 0.0), rotation._props.get("yaw", 0.0))
    actor._meta.update(location=tuple(float(c) for c in loc), rotation=tuple(float(c) for c in rot), label="",
                       folder="")
    w.actors.append(actor)
    return actor


@behaves("EditorActorSubsystem", "get_selected_level_actors")
def _selected(w: World, _: Any) -> list:
    return list(w.selected)


@behaves("EditorActorSubsystem", "get_all_level_actors")
def _all_actors(w: World, _: Any) -> list:
    return list(w.actors)


@behaves("EditorActorSubsystem", "destroy_actors")
def _destroy(w: World, _: Any, actors_to_destroy: Any) -> bool:
    for a in actors_to_destroy:
        if a in w.actors:
            w.actors.remove(a)
    return True


@behaves("Actor", "get_actor_location")
def _actor_location(w: World, actor: Any) -> Any:
    x, y, z = actor._meta.get("location", (0.0, 0.0, 0.0))
    return w.unreal.Vector(x, y, z)


@behaves("Actor", "set_actor_label")
def _set_label(w: World, actor: Any, new_actor_label: str, mark_dirty: bool = True) -> None:
    actor._meta["label"] = str(new_actor_label)


@behaves("Actor", "get_actor_label")
def _get_label(w: World, actor: Any, create_if_none: bool = True) -> str:
    return str(actor._meta.get("label", ""))


@behaves("Actor", "set_folder_path")
def _set_folder(w: World, actor: Any, new_folder_path: Any) -> None:
    actor._meta["folder"] = str(new_folder_path)


@behaves("AudioComponent", "set_sound")
def _set_sound(w: World, component: Any, new_sound: Any) -> None:
    if new_sound is not None and not w.is_a(new_sound, "SoundBase"):
        raise TypeError("set_sound needs a SoundBase")
    component._props["sound"] = new_sound


@behaves("UnrealEditorSubsystem", "get_level_viewport_camera_info")
def _camera(w: World, _: Any) -> Any:
    (x, y, z), yaw = w.camera
    return (w.unreal.Vector(x, y, z), w.unreal.Rotator(0.0, 0.0, yaw))


