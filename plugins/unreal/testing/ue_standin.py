"""A stand-in `unreal` module for tests, generated from the engine-written stub (ue_stubspec.py).

`build(world)` returns a module with exactly the stub's classes (with their bases), methods,
properties, editor properties, enum values and module functions, and nothing else:

* every method and function checks its arguments against the stub's signature (parameter names,
  which have defaults, positional/keyword rules), so a keyword the real API lacks raises TypeError;
  UObject constructors take (outer, name) only; structs take their properties as keywords;
* attributes are only the stub's: reading or setting a name the stub does not declare raises
  AttributeError, a read-only property has no setter, and get/set_editor_property accept only the
  class's documented editor properties (set refuses read-only ones);
* every call is recorded in `world.calls`; behaviour (what the editor would do) comes from
  `ue_world.py`, keyed by (class, member) and checked against the stub when the module is built;
  without one, a call returns a neutral value of its declared return type.

Classes are made on first use (module __getattr__), so building the module is instant. The stub's
operator dunders (Vector.__add__ …) are left out: a stand-in that cannot add vectors makes the
plugin do its arithmetic in plain floats, which the tests can check.
"""

from __future__ import annotations

import inspect
import keyword
import sys
import types
from collections.abc import Callable
from typing import Any

import ue_stubspec

_KINDS = {
    "positional_only": inspect.Parameter.POSITIONAL_ONLY,
    "positional_or_keyword": inspect.Parameter.POSITIONAL_OR_KEYWORD,
    "var_positional": inspect.Parameter.VAR_POSITIONAL,
    "keyword_only": inspect.Parameter.KEYWORD_ONLY,
    "var_keyword": inspect.Parameter.VAR_KEYWORD,
}
_DEFAULT = object()  # "this parameter has a default" (its value is the stub's business)
# Dunder members the stand-in implements; the others (operators, __repr__, __eq__, …) keep Python's.
_KEPT_DUNDERS = {"__init__", "__enter__", "__exit__", "__iter__", "__copy__", "__getitem__", "__setitem__"}
_HIDDEN = "_Standin"


class Standin:
    """Root of every generated class: property values live in `_props`, bookkeeping in `_meta`."""

    __slots__ = ("_meta", "_props")
    _spec_name = ""
    _meta: dict[str, Any]
    _props: dict[str, Any]

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        self = object.__new__(cls)
        object.__setattr__(self, "_props", {})
        object.__setattr__(self, "_meta", {})
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)
            return
        raise AttributeError(f"'{type(self).__name__}' object has no property '{name}' (the stub declares none)")

    def __repr__(self) -> str:
        name = self._meta.get("enum_name") or self._meta.get("path") or self._meta.get("name") or ""
        return f"<unreal.{type(self).__name__} {name}>".replace(" >", ">")


def spec_name(cls: type) -> str:
    """The stub class a (possibly Python-defined) class derives from."""
    for c in cls.__mro__:
        name = c.__dict__.get("_spec_name")
        if name:
            return str(name)
    return ""


class _Builder:
    def __init__(self, spec: dict[str, Any], world: Any) -> None:
        self.spec = spec
        self.world = world
        self.classes: dict[str, type] = {}
        self.module = types.ModuleType("unreal", "Stand-in generated from unreal-stub (tests only).")

    def check_behaviours(self, table: dict[tuple[str, str], Callable[..., Any]]) -> None:
        """Every behaviour must belong to something the stub declares (the stand-in adds no API)."""
        for cls, member in table:
            if cls == "":
                if member not in self.spec["functions"]:
                    raise AssertionError(f"stand-in behaviour for unreal.{member}, which the stub lacks")
            elif cls not in self.spec["classes"] or member not in self.spec["classes"][cls]["members"]:
                raise AssertionError(f"stand-in behaviour for unreal.{cls}.{member}, which the stub lacks")

    def get_class(self, name: str) -> type:
        made = self.classes.get(name)
        if made is not None:
            return made
        cspec = self.spec["classes"][name]
        bases = tuple(self.get_class(b) for b in cspec["bases"] if b in self.spec["classes"]) or (Standin,)
        ns: dict[str, Any] = {"__slots__": (), "_spec_name": name, "__module__": "unreal", "__qualname__": name}
        enums = []
        for member, mspec in cspec["members"].items():
            if member.startswith("__") and member not in _KEPT_DUNDERS:
                continue
            kind = mspec["kind"]
            if kind == "enum":
                enums.append((member, mspec.get("value")))
            elif kind == "property":
                ns[member] = self._property(name, member, mspec)
            elif kind in ("method", "classmethod", "staticmethod"):
                ns[member] = self._method(name, member, mspec)
        cls = type(name, bases, ns)
        self.classes[name] = cls
        for i, (member, value) in enumerate(enums):
            entry: Any = Standin.__new__(cls)
            entry._meta.update(enum_name=member, value=i if value is None else value, enum=name)
            type.__setattr__(cls, member, entry)
        return cls

    def _signature(self, where: str, params: list[list[Any]]) -> inspect.Signature:
        out = []
        for pname, kind, has_default in params:
            if keyword.iskeyword(pname) or not pname.isidentifier():
                raise AssertionError(f"{where}: unusable parameter name {pname!r}")
            out.append(inspect.Parameter(pname, _KINDS[kind],
                                         default=_DEFAULT if has_default else inspect.Parameter.empty))
        return inspect.Signature(out)

    def _method(self, cls_name: str, member: str, mspec: dict[str, Any]) -> Any:
        sig = self._signature(f"unreal.{cls_name}.{member}", mspec["params"])
        world, ret, kind = self.world, mspec["ret"], mspec["kind"]
        qual = f"{cls_name}.{member}"

        def call(owner: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"unreal.{qual}{_shown(sig)}: {exc}") from None
            arguments = {k: v for k, v in bound.arguments.items() if v is not _DEFAULT}
            world.record(qual, owner, arguments)
            return world.dispatch(cls_name, member, owner, arguments, ret)

        call.__name__ = member
        call.__qualname__ = qual
        call.__signature__ = sig  # type: ignore[attr-defined]
        if kind == "classmethod":
            return classmethod(call)
        if kind == "staticmethod":
            def static(*args: Any, **kwargs: Any) -> Any:
                return call(None, *args, **kwargs)
            static.__name__ = member
            return staticmethod(static)
        return call

    def _property(self, cls_name: str, member: str, mspec: dict[str, Any]) -> property:
        world, ret = self.world, mspec["ret"]
        qual = f"{cls_name}.{member}"

        def get(owner: Any) -> Any:
            return world.read_prop(owner, member, ret, read_only=not mspec["setter"])

        def put(owner: Any, value: Any) -> None:
            world.record(f"{qual}=", owner, {"value": value})
            owner._props[member] = value

        return property(get, put if mspec["setter"] else None, doc=f"unreal.{qual}")

    def function(self, name: str) -> Any:
        fspec = self.spec["functions"][name]
        sig = self._signature(f"unreal.{name}", fspec["params"])
        world, ret = self.world, fspec["ret"]

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"unreal.{name}{_shown(sig)}: {exc}") from None
            arguments = {k: v for k, v in bound.arguments.items() if v is not _DEFAULT}
            world.record(name, None, arguments)
            return world.dispatch("", name, None, arguments, ret)

        call.__name__ = name
        call.__signature__ = sig  # type: ignore[attr-defined]
        return call


def _shown(sig: inspect.Signature) -> str:
    return str(sig).replace(f"={_DEFAULT!r}", "=…")


def build(world: Any, spec: dict[str, Any] | None = None) -> types.ModuleType:
    """The `unreal` stand-in bound to `world` (see ue_world.World)."""
    spec = spec or ue_stubspec.load()
    b = _Builder(spec, world)
    b.check_behaviours(world.behaviours)
    module = b.module
    names = set(spec["classes"]) | set(spec["functions"])

    def getattr_(name: str) -> Any:
        if name in spec["classes"]:
            value: Any = b.get_class(name)
        elif name in spec["functions"]:
            value = b.function(name)
        else:
            raise AttributeError(f"module 'unreal' has no attribute '{name}' (the stub declares none)")
        setattr(module, name, value)
        return value

    def dir_() -> list[str]:
        return sorted(names)

    module.__getattr__ = getattr_  # type: ignore[method-assign]
    module.__dir__ = dir_  # type: ignore[method-assign]
    world.bind(module, b, spec)
    return module


def install(world: Any, spec: dict[str, Any] | None = None) -> types.ModuleType:
    """Build the stand-in and make it `import unreal` (replacing any earlier one)."""
    module = build(world, spec)
    sys.modules["unreal"] = module
    return module
