"""Read `fusionscript-stubs` (Resolve 20/21's scripting API as a .pyi) into a plain spec.

    python plugins/resolve/testing/resolve_stubspec.py        # print a summary

The spec is the one source of truth for the test stand-in (`resolve_standin.py`) and the static check
of the plugin's names (tests/test_resolve_plugin.py): for each class its methods with every overload's
parameters (name, kind, default or not, the Literal alias annotating it), and the Literal aliases
(MarkerColor, TrackType, SubTrackType, …) with their values. Read with `ast`, never imported.
"""

from __future__ import annotations

import ast
import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stub_dist import installed_stub_file  # scripts/: the one finder of an installed stub file

STUB_DIST = "fusionscript-stubs"
STUB_VERSION = "21.0.0"
STUB_FILE = "fusionscript-stubs/fusionscript.pyi"


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # positional | vararg
    has_default: bool
    literal: str = ""  # the Literal alias of its annotation (values checked by the stand-in)
    optional: bool = False  # annotated Optional[...] / X | None


@dataclass(frozen=True)
class Spec:
    classes: dict[str, dict[str, list[list[Param]]]]  # class -> method -> overloads -> params (no self)
    literals: dict[str, tuple[Any, ...]]
    constants: dict[str, set[str]]  # class -> class-level names (Resolve.EXPORT_OTIO, …)


def stub_path() -> Path:
    """fusionscript.pyi of the installed stub distribution (found through its metadata, not imported)."""
    return installed_stub_file(STUB_DIST, STUB_VERSION, STUB_FILE)


def _literal_values(node: ast.expr) -> tuple[Any, ...] | None:
    if isinstance(node, ast.BinOp):  # SubTrackType = Literal[...] + [generated names]: keep the Literal part
        return _literal_values(node.left)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Literal":
        elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if all(isinstance(e, ast.Constant) for e in elts):
            return tuple(e.value for e in elts if isinstance(e, ast.Constant))
    return None


def _annotation(node: ast.expr | None, aliases: set[str]) -> tuple[str, bool]:
    """(Literal alias named by the annotation, whether None is allowed)."""
    if node is None:
        return "", False
    if isinstance(node, ast.Name):
        return (node.id if node.id in aliases else ""), False
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Optional":
        return _annotation(node.slice, aliases)[0], True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, lo = _annotation(node.left, aliases)
        right, ro = _annotation(node.right, aliases)
        none = any(isinstance(n, ast.Constant) and n.value is None for n in (node.left, node.right))
        return left or right, lo or ro or none
    return "", False


def _params(fn: ast.FunctionDef, aliases: set[str]) -> list[Param]:
    a = fn.args
    positional = [*a.posonlyargs, *a.args][1:]  # drop self
    first_default = len(positional) - len(a.defaults)
    out = []
    for i, arg in enumerate(positional):
        lit, opt = _annotation(arg.annotation, aliases)
        out.append(Param(arg.arg, "positional", i >= first_default, lit, opt))
    if a.vararg is not None:
        lit, opt = _annotation(a.vararg.annotation, aliases)
        out.append(Param(a.vararg.arg, "vararg", True, lit, opt))
    return out


@functools.lru_cache(maxsize=2)
def load(path: str | None = None) -> Spec:
    tree = ast.parse(Path(path or stub_path()).read_text(encoding="utf-8"))
    raw: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            raw[node.targets[0].id] = node.value
    literals: dict[str, tuple[Any, ...]] = {}
    for name, value in raw.items():
        seen = value
        while isinstance(seen, ast.Name) and seen.id in raw:  # MarkerColor = ColorSet2
            seen = raw[seen.id]
        values = _literal_values(seen)
        if values is not None:
            literals[name] = values
    aliases = set(literals)
    classes: dict[str, dict[str, list[list[Param]]]] = {}
    constants: dict[str, set[str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or any(
                isinstance(b, ast.Name) and b.id == "TypedDict" for b in node.bases):
            continue
        methods: dict[str, list[list[Param]]] = {}
        names: set[str] = set()
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                methods.setdefault(item.name, []).append(_params(item, aliases))
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                names.add(item.target.id)
            elif isinstance(item, ast.Assign):
                names.update(t.id for t in item.targets if isinstance(t, ast.Name))
        classes[node.name] = methods
        constants[node.name] = names
    return Spec(classes, literals, constants)


def all_methods(spec: Spec) -> set[str]:
    return {m for methods in spec.classes.values() for m in methods}


def main() -> int:
    spec = load()
    n = sum(len(m) for m in spec.classes.values())
    print(f"{STUB_DIST} {STUB_VERSION}: {len(spec.classes)} classes, {n} methods, {len(spec.literals)} Literal "
          f"aliases; MarkerColor = {', '.join(map(str, spec.literals.get('MarkerColor', ())))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
