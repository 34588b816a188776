"""Read `ableton-live-stubs` (Live 12.3.6) into a plain spec of Live's Python API.

    python plugins/ableton/testing/live_stubspec.py            # a summary of what the stubs hold

The spec is the one source of truth for the test stand-in (`live_standin.py`, which builds a `Live`
package with exactly these modules, classes, methods, properties and enum values) and for the static
check of the Remote Script's names (tests/test_ableton.py). The `.pyi` files are read with `ast`,
never imported. Standard library only, so the stand-in also runs under `python -S` beside the built
Remote Script.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

STUB_DIST = "ableton-live-stubs"
STUB_VERSION = "12.3.6.post8"
STUB_DIR = "Live-stubs"


@dataclass(frozen=True)
class Param:
    name: str
    default: str | None  # the default's source text; None when the parameter is required


@dataclass
class ClassSpec:
    """One class of a Live module; nested classes (Song.View) are named "Song.View"."""

    module: str  # "Live.Song"
    name: str  # "Song" or "Song.View"
    bases: list[str] = field(default_factory=list)  # qualified: "Live.LomObject.LomObject", or "int"
    methods: dict[str, list[Param]] = field(default_factory=dict)  # __init__ included, self excluded
    properties: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (annotation, writable)
    values: dict[str, str] = field(default_factory=dict)  # class-level names (enum members) -> value source

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass
class Spec:
    modules: dict[str, dict[str, list[Param]]] = field(default_factory=dict)  # module -> its functions
    classes: dict[str, ClassSpec] = field(default_factory=dict)  # "Live.Song.Song" -> spec

    def lookup(self, qualname: str, member: str) -> tuple[str, ClassSpec] | None:
        """("method" | "property" | "value" | "class", the class that declares it), through the bases."""
        seen: set[str] = set()
        todo = [qualname]
        while todo:
            name = todo.pop(0)
            if name in seen or name not in self.classes:
                continue
            seen.add(name)
            cls = self.classes[name]
            if member in cls.methods:
                return "method", cls
            if member in cls.properties:
                return "property", cls
            if member in cls.values:
                return "value", cls
            if f"{name}.{member}" in self.classes:
                return "class", cls
            todo.extend(cls.bases)
        return None


def stub_root() -> Path:
    """The installed Live-stubs folder (found through the distribution's metadata)."""
    from stub_dist import installed_stub_file  # scripts/; imported here: live_harness runs without it (-S)

    return installed_stub_file(STUB_DIST, STUB_VERSION, f"{STUB_DIR}/__init__.pyi").parent


def _params(fn: ast.FunctionDef, skip_self: bool) -> list[Param]:
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    out = [Param(p.arg, None if d is None else ast.unparse(d)) for p, d in zip(positional, defaults, strict=True)]
    out += [Param(p.arg, None if d is None else ast.unparse(d))
            for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)]
    return out[1:] if skip_self and out and out[0].name in ("self", "cls") else out


def _imports(tree: ast.Module, module: str) -> dict[str, str]:
    """Names bound by imports anywhere in the file (TYPE_CHECKING blocks included) -> qualified names."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("Live"):
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def _read_class(node: ast.ClassDef, module: str, prefix: str, imports: dict[str, str], local: set[str],
                spec: Spec) -> None:
    name = f"{prefix}{node.name}"
    cls = ClassSpec(module, name)
    for b in node.bases:
        text = ast.unparse(b)
        base = text.split("[", 1)[0]  # Vector[Track] -> Vector
        if base in imports:
            cls.bases.append(imports[base])
        elif base in local:
            cls.bases.append(f"{module}.{base}")
        else:
            cls.bases.append(base)  # int, Generic, Exception …
    for item in node.body:
        if isinstance(item, ast.ClassDef):
            _read_class(item, module, f"{name}.", imports, local, spec)
        elif isinstance(item, ast.FunctionDef):
            decos = [ast.unparse(d) for d in item.decorator_list]
            if "property" in decos:
                ann = ast.unparse(item.returns) if item.returns else "Any"
                cls.properties[item.name] = (ann, cls.properties.get(item.name, ("", False))[1])
            elif any(d.endswith(".setter") for d in decos):
                ann = cls.properties.get(item.name, ("Any", False))[0]
                cls.properties[item.name] = (ann, True)
            elif "overload" in decos:
                continue
            elif item.name == "__init__" or not item.name.startswith("__"):
                cls.methods[item.name] = _params(item, skip_self="staticmethod" not in decos)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            cls.values[item.target.id] = ast.unparse(item.value) if item.value is not None else "None"
        elif isinstance(item, ast.Assign):
            for t in item.targets:
                if isinstance(t, ast.Name):
                    cls.values[t.id] = ast.unparse(item.value)
    spec.classes[cls.qualname] = cls


def read_spec(root: Path | None = None) -> Spec:
    """Every module, class, function, method, property and enum value of the Live stubs."""
    root = root or stub_root()
    spec = Spec()
    for path in sorted(root.glob("*.pyi")):
        if path.stem == "__init__":
            continue
        module = f"Live.{path.stem}"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        imports = _imports(tree, module)
        local = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
        functions: dict[str, list[Param]] = {}
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                _read_class(node, module, "", imports, local, spec)
            elif isinstance(node, ast.FunctionDef):
                functions[node.name] = _params(node, skip_self=False)
        spec.modules[module] = functions
    if not spec.modules:
        raise SystemExit(f"no Live stub modules under {root}")
    return spec


def main() -> int:
    spec = read_spec()
    print(f"{STUB_DIST} {STUB_VERSION}: {len(spec.modules)} modules, {len(spec.classes)} classes, "
          f"{sum(len(c.methods) for c in spec.classes.values())} methods, "
          f"{sum(len(c.properties) for c in spec.classes.values())} properties")
    return 0


if __name__ == "__main__":
    sys.exit(main())
