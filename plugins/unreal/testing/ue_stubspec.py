"""Read the engine-generated Unreal stub (`unreal-stub`, UE 5.6) into a plain spec of its API.

    python plugins/unreal/testing/ue_stubspec.py [--out FILE]     # print a summary, or write the spec

The spec is the one source of truth for the test stand-in (`ue_standin.py`, which builds an `unreal`
module with exactly these classes, methods, properties and enum values) and for the static check
of the plugin's names (tests/test_unreal_plugin.py). The stub is read as text, never imported:
importing it would replace sys.stdout (its "Additional Code" does), it is 25 MB, and one of its
lines (ToolBarStyle.__init__) is not valid Python. The file is machine-written with a fixed shape
(`class X(Base):` at column 0, 4-space members, docstrings listing "Editor Properties"), so a
line reader is exact here and takes a few seconds; the result is cached by the stub's sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from stub_dist import installed_stub_file  # scripts/: the one finder of an installed stub file

STUB_DIST = "unreal-stub"
STUB_VERSION = "0.3"
SPEC_FORMAT = 1
ROOT = Path(__file__).resolve().parents[3]
CACHE_DIR = ROOT / "build" / "unreal_standin"

_CLASS = re.compile(r"^class (\w+)\((.*)\):\s*$")
_DEF = re.compile(r"^(    )?def (\w+)\s*\(")
_ENUM = re.compile(r"^    ([A-Za-z_]\w*): (\w+) = \.\.\.(?:\s*#:\s*(-?\d+))?")
_EPROP = re.compile(r"^\s*- ``([A-Za-z_]\w*)`` \((.*?)\):\s*\[(Read-Write|Read-Only)\]")
_DECO = re.compile(r"^    @([\w.]+)\s*$")

Spec = dict[str, Any]


def stub_path() -> Path:
    """unreal/unreal.py of the installed stub distribution (found through its metadata, not imported)."""
    return installed_stub_file(STUB_DIST, STUB_VERSION, "unreal/unreal.py")


def _split_top(text: str) -> list[str]:
    """Split a parameter list at commas outside brackets and quotes."""
    parts: list[str] = []
    depth, quote, cur, i = 0, "", [], 0
    while i < len(text):
        ch = text[i]
        if quote:
            cur.append(ch)
            if ch == "\\" and i + 1 < len(text):
                cur.append(text[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            cur.append(ch)
        elif ch in "([{":
            depth += 1
            cur.append(ch)
        elif ch in ")]}":
            depth -= 1
            cur.append(ch)
        elif ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    if "".join(cur).strip():
        parts.append("".join(cur))
    return parts


def _close_paren(text: str, start: int) -> int:
    """Index of the ')' that closes the '(' just before `start` (or -1)."""
    depth, quote, i = 1, "", start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _has_top_equals(text: str) -> bool:
    depth, quote = 0, ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "=" and depth == 0:
            return True
    return False


def parse_signature(line: str) -> tuple[str, list[list[Any]], str]:
    """(name, params, return annotation) of a one-line `def`. Each param is [name, kind, has_default],
    kind one of positional_only, positional_or_keyword, var_positional, keyword_only, var_keyword."""
    m = _DEF.match(line)
    assert m is not None
    end = _close_paren(line, m.end())
    inner = line[m.end(): end] if end >= 0 else line[m.end():]
    rest = line[end + 1:] if end >= 0 else ""
    ret_m = re.match(r"\s*->\s*(.*?):\s*$", rest)
    params: list[list[Any]] = []
    kind = "positional_or_keyword"
    for raw in _split_top(inner):
        p = raw.strip()
        if p == "/":
            for q in params:
                q[1] = "positional_only"
            continue
        if p == "*":
            kind = "keyword_only"
            continue
        name_m = re.match(r"(\*{0,2})([A-Za-z_]\w*)", p)
        if not name_m:
            continue
        stars, name = name_m.groups()
        if stars == "**":
            params.append([name, "var_keyword", False])
        elif stars == "*":
            params.append([name, "var_positional", False])
            kind = "keyword_only"
        else:
            params.append([name, kind, _has_top_equals(p[name_m.end():])])
    return m.group(2), params, (ret_m.group(1).strip() if ret_m else "")


def parse(text: str) -> Spec:
    """The stub's API: classes (bases, members, editor properties) and module functions."""
    classes: dict[str, Any] = {}
    functions: dict[str, Any] = {}
    cls: dict[str, Any] | None = None
    decos: list[str] = []
    in_doc = False
    doc_owner_is_class = False
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        stripped = line.strip()
        if in_doc:
            if doc_owner_is_class and cls is not None:
                ep = _EPROP.match(line)
                if ep:
                    cls["eprops"][ep.group(1)] = [ep.group(2), ep.group(3) == "Read-Only"]
            if stripped.endswith('"""'):
                in_doc = False
            continue
        if stripped.startswith(('r"""', '"""')):
            body = stripped[4:] if stripped.startswith('r"""') else stripped[3:]
            if not body.endswith('"""'):
                in_doc = True
                doc_owner_is_class = line.startswith('    r"""') or line.startswith('    """')
            continue
        if not stripped:
            continue
        if line[0] not in " \t":  # column 0
            decos = []
            m = _CLASS.match(line)
            if m:
                bases = [b.strip() for b in _split_top(m.group(2)) if b.strip()]
                cls = {"bases": bases, "members": {}, "eprops": {}}
                classes[m.group(1)] = cls
                continue
            cls = None
            if line.startswith("def "):
                name, params, ret = parse_signature(_joined(line, lines, i))
                functions[name] = {"params": params, "ret": ret}
            continue
        if cls is None or not line.startswith("    ") or line.startswith("     "):
            continue  # module-level code blocks, method bodies
        d = _DECO.match(line)
        if d:
            decos.append(d.group(1))
            continue
        if line.startswith("    def "):
            name, params, ret = parse_signature(_joined(line, lines, i))
            _add_member(cls["members"], name, params, ret, decos)
            decos = []
            continue
        e = _ENUM.match(line)
        if e:
            cls["members"][e.group(1)] = {"kind": "enum", "value": int(e.group(3)) if e.group(3) else None}
    return {"format": SPEC_FORMAT, "classes": classes, "functions": functions}


def _joined(line: str, lines: list[str], nxt: int) -> str:
    """A def line, joined with the following lines while its parentheses are open."""
    m = _DEF.match(line)
    assert m is not None
    while _close_paren(line, m.end()) < 0 and nxt < len(lines):
        line = line + " " + lines[nxt].strip()
        nxt += 1
    return line


def _add_member(members: dict[str, Any], name: str, params: list[list[Any]], ret: str, decos: list[str]) -> None:
    if any(d.endswith(".setter") for d in decos):
        prop = members.get(name)
        if prop is not None and prop["kind"] == "property":
            prop["setter"] = True
        return
    if any(d.endswith(".deleter") for d in decos):
        return
    if "property" in decos:
        members[name] = {"kind": "property", "ret": ret, "setter": False}
        return
    kind = "classmethod" if "classmethod" in decos else "staticmethod" if "staticmethod" in decos else "method"
    if kind != "staticmethod" and params:
        params = params[1:]  # self / cls
    members[name] = {"kind": kind, "params": params, "ret": ret}


def load(cache_dir: Path = CACHE_DIR) -> Spec:
    """The spec of the installed stub, from the cache when its sha256 matches."""
    path = stub_path()
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    cached = cache_dir / f"spec-{SPEC_FORMAT}-{digest[:16]}.json"
    if cached.exists():
        spec: Spec = json.loads(cached.read_text(encoding="utf-8"))
        return spec
    spec = parse(data.decode("utf-8-sig"))
    spec["stub"] = {"dist": STUB_DIST, "version": STUB_VERSION, "sha256": digest}
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(json.dumps(spec, separators=(",", ":")), encoding="utf-8")
    tmp.replace(cached)
    return spec


def mro(spec: Spec, name: str) -> list[str]:
    """The class and its stub bases, nearest first (C3 is not needed: the stub's tree is single-inheritance
    except for glue classes, which are followed left to right)."""
    out: list[str] = []
    todo = [name]
    while todo:
        n = todo.pop(0)
        if n in out or n not in spec["classes"]:
            continue
        out.append(n)
        todo.extend(spec["classes"][n]["bases"])
    return out


def find_member(spec: Spec, cls: str, member: str) -> tuple[str, dict[str, Any]] | None:
    """(defining class, member spec) of `cls.member`, looking through the bases."""
    for n in mro(spec, cls):
        m = spec["classes"][n]["members"].get(member)
        if m is not None:
            return n, m
    return None


def find_eprop(spec: Spec, cls: str, name: str) -> list[Any] | None:
    """[type, read_only] of an editor property of `cls` (or its bases), or None."""
    for n in mro(spec, cls):
        ep = spec["classes"][n]["eprops"].get(name)
        if ep is not None:
            return list(ep)
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="write the spec as JSON here")
    args = ap.parse_args(argv)
    spec = load()
    classes = spec["classes"]
    members = sum(len(c["members"]) for c in classes.values())
    eprops = sum(len(c["eprops"]) for c in classes.values())
    print(f"{STUB_DIST}=={STUB_VERSION}: {len(classes)} classes, {members} members, {eprops} editor properties, "
          f"{len(spec['functions'])} module functions")
    if args.out:
        args.out.write_text(json.dumps(spec), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
