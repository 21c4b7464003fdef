"""Record the public names of Buildbot 4.3.0's user-facing modules (run with the reference's venv).

    /work/refvenv/bin/python tests/api/make_public_names.py > tests/api/public_names.json

For every module of the packages below (tests excluded) the output lists the names a user can
import from it: classes, functions and constants defined there, submodules, and names the module
re-exports on purpose (listed in `__all__`, or a package `__init__` importing from its own
package). Plain imports of stdlib or third-party modules and names merely imported for internal
use are left out. Callables carry their parameter names and kinds; scalar constants their value.
Modules that fail to import in the reference's venv (a missing optional dependency) are listed
from their source with `"imported": false`.

A class defined in the module also lists its `members`: the public methods, properties and class
attributes of the class and of its Buildbot base classes (those of Twisted, zope or the stdlib
are left out), each with its kind and, for callables, the parameters of a call made through an
instance (`self`/`cls` dropped).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import buildbot

PACKAGES = ("steps", "changes", "schedulers", "reporters", "worker", "util", "process", "config",
            "www", "secrets", "machine", "statistics")
MODULES = ("manhole", "plugins", "interfaces", "locks", "revlinks", "config")
ROOT = Path(buildbot.__file__).parent


def module_names() -> list[str]:
    found: set[str] = {f"buildbot.{m}" for m in MODULES}
    for pkg in PACKAGES:
        found.add(f"buildbot.{pkg}")
        path = ROOT / pkg
        if not path.is_dir():
            continue
        for info in pkgutil.walk_packages([str(path)], prefix=f"buildbot.{pkg}."):
            if ".test." in info.name + "." or info.name.endswith(".test"):
                continue
            found.add(info.name)
    return sorted(found)


def source_path(modname: str) -> Path:
    rel = Path(*modname.split(".")[1:])
    if (ROOT / rel).is_dir():
        return ROOT / rel / "__init__.py"
    return ROOT / rel.with_suffix(".py")


def ast_names(modname: str) -> dict[str, str]:
    """Top-level definitions and package-internal re-exports, from the source."""
    tree = ast.parse(source_path(modname).read_text())
    is_pkg = source_path(modname).name == "__init__.py"
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = "class"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[node.name] = "function"
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    names[t.id] = "constant"
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = "constant"
        elif isinstance(node, ast.ImportFrom) and is_pkg:
            src = node.module or ""
            if node.level:
                base = modname.split(".")
                src = ".".join(base[: len(base) - node.level + 1] + ([src] if src else []))
            if src.startswith(modname + ".") or src == modname:
                for alias in node.names:
                    names[alias.asname or alias.name] = "reexport"
    explicit = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            try:
                explicit = ast.literal_eval(node.value)
            except ValueError:
                pass
    for n in explicit or ():
        names.setdefault(n, "reexport")
    return {n: k for n, k in names.items() if not n.startswith("_")}


def params(obj: Any) -> list[list[str]] | None:
    target = obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    return [[p.name, p.kind.name, "required" if p.default is p.empty else "optional"]
            for p in sig.parameters.values()]


def member_kind(cls: type, name: str) -> tuple[str, Any]:
    """How `name` is found on `cls`: the raw descriptor decides the kind."""
    raw = inspect.getattr_static(cls, name)
    if isinstance(raw, staticmethod):
        return "staticmethod", raw.__func__
    if isinstance(raw, classmethod):
        return "classmethod", getattr(cls, name)
    if isinstance(raw, property) or type(raw).__name__ in ("cached_property", "lazy_property"):
        return "property", None
    if inspect.isfunction(raw):
        return "method", raw
    if inspect.isclass(raw):
        return "attribute", None
    if callable(raw) and not isinstance(raw, (type, str, bytes, int, float, tuple, list, dict)):
        return "attribute", None
    return "attribute", None


def members(cls: type) -> dict[str, Any]:
    """Public members of `cls` defined in it or in its buildbot.* base classes."""
    names: set[str] = set()
    for base in inspect.getmro(cls):
        if not getattr(base, "__module__", "").startswith("buildbot."):
            continue
        names.update(n for n in vars(base) if not n.startswith("_"))
    out: dict[str, Any] = {}
    for name in sorted(names):
        try:
            kind, obj = member_kind(cls, name)
        except AttributeError:
            continue
        entry: dict[str, Any] = {"kind": kind}
        if obj is not None:
            p = params(obj)
            if p is not None and kind == "method" and p and \
                    p[0][1] in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD"):
                p = p[1:]
            if p is not None:
                entry["params"] = p
        out[name] = entry
    return out


def describe(modname: str, mod: Any, name: str, ast_kind: str) -> dict[str, Any]:
    obj = getattr(mod, name)
    if inspect.ismodule(obj):
        return {"kind": "module", "target": obj.__name__}
    if inspect.isclass(obj):
        entry: dict[str, Any] = {"kind": "class"}
        if getattr(obj, "__module__", None) != modname:
            entry["defined_in"] = obj.__module__
        # zope Interfaces are classes for us, but have no meaningful signature
        if type(obj).__name__ == "InterfaceClass":
            entry["kind"] = "interface"
            entry["defined_in"] = obj.__module__
            return entry
        p = params(obj)
        if p is not None and all(k in ("VAR_POSITIONAL", "VAR_KEYWORD") for _, k, _ in p) \
                and hasattr(obj, "checkConfig"):
            # BuildbotService subclasses take their arguments through checkConfig
            p = params(obj.checkConfig)
            p = p[1:] if p and p[0][0] == "self" else p
            entry["via"] = "checkConfig"
        if p is not None:
            entry["params"] = p
        if "defined_in" not in entry:
            entry["members"] = members(obj)
        return entry
    if callable(obj) and (inspect.isfunction(obj) or inspect.isbuiltin(obj)
                          or inspect.ismethod(obj)):
        entry = {"kind": "function"}
        if getattr(obj, "__module__", None) != modname:
            entry["defined_in"] = obj.__module__
        p = params(obj)
        if p is not None:
            entry["params"] = p
        return entry
    entry = {"kind": "constant", "type": type(obj).__name__}
    if type(obj).__name__ == "InterfaceClass":
        return {"kind": "interface", "defined_in": obj.__module__}
    if isinstance(obj, (bool, int, float, str)) or obj is None:
        entry["value"] = obj
    elif isinstance(obj, (tuple, list, frozenset, set)) and all(
            isinstance(x, (bool, int, float, str)) for x in obj) and len(obj) < 50:
        entry["value"] = sorted(obj) if isinstance(obj, (set, frozenset)) else list(obj)
    return entry


def public_names(modname: str) -> dict[str, Any]:
    kinds = ast_names(modname)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mod = importlib.import_module(modname)
    except Exception as e:  # noqa: BLE001 - an optional dependency missing in the ref venv
        return {"imported": False, "error": f"{type(e).__name__}: {e}",
                "names": {n: {"kind": "function" if k == "function" else
                              "class" if k == "class" else "constant"}
                          for n, k in sorted(kinds.items())}}
    names: dict[str, Any] = {}
    for name, kind in sorted(kinds.items()):
        if not hasattr(mod, name):
            continue
        obj = getattr(mod, name)
        if kind == "constant" and inspect.ismodule(obj):
            continue  # `x = some_module` aliases are not API
        if kind == "constant" and type(obj).__name__ in ("Logger", "TypeVar", "LogPublisher"):
            continue  # module loggers and typing helpers are not API
        if kind == "constant" and (inspect.isclass(obj) or inspect.isfunction(obj)) and \
                getattr(obj, "__module__", modname) != modname:
            continue  # an alias of something imported: keep only if re-exported below
        names[name] = describe(modname, mod, name, kind)
    # submodules of a package are names too
    path = source_path(modname)
    if path.name == "__init__.py":
        for info in pkgutil.iter_modules([str(path.parent)]):
            if info.name.startswith("_") or info.name == "test":
                continue
            names.setdefault(info.name, {"kind": "module", "target": f"{modname}.{info.name}"})
    return {"imported": True, "names": names}


def main() -> None:
    out = {"buildbot_version": buildbot.version, "modules": {}}
    for modname in module_names():
        out["modules"][modname] = public_names(modname)
    text = json.dumps(out, indent=1, sort_keys=True)
    # one parameter ([name, kind, required]) per line keeps the fixture small and diffable
    text = re.sub(r'\[\s+("[^"]*"),\s+("[^"]*"),\s+("[^"]*")\s+\]', r"[\1, \2, \3]", text)
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
