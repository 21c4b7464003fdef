"""Every public name of Buildbot 4.3.0's user-facing modules exists here, with compatible
parameters.

The list comes from the reference itself (`make_public_names.py`, run in its venv, output in
`public_names.json`), so the check runs offline and nothing silently goes missing again.
A name is compatible when it has the same kind (module, class or callable, interface, constant),
a scalar constant has the same value, and a call written against the reference binds the same
way here: its positional parameters have the same names in the same order, its keyword
parameters exist (or `**kwargs` takes them), and nothing the reference makes optional is
required here.
"""

from __future__ import annotations

import importlib
import inspect
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

FIXTURE = json.loads((Path(__file__).parent / "public_names.json").read_text())
MODULES: dict[str, Any] = FIXTURE["modules"]

# Modules (or `module:name` entries) that other helpers are implementing right now (issue 13 and
# the rest of issue 12). Their gaps are reported as xfail, not failures. The lead empties this.
PENDING: tuple[str, ...] = (
    # Every module of 4.3's user-facing surface is written; add an entry here (with the issue
    # that tracks it) only for work in progress.
)


# Values that differ from 4.3 on purpose, each listed in docs/differences.md ("Reporters: the
# default Jinja2 body templates ... carry the same facts in different wording").
VALUE_DIFFERS: frozenset[str] = frozenset({
    "buildbot.reporters.message.default_body_template_html",
    "buildbot.reporters.message.default_body_template_plain",
    "buildbot.reporters.message.default_missing_template_html",
    "buildbot.reporters.message.default_missing_template_plain",
    "buildbot.reporters.message.default_subject_template",
    "buildbot.reporters.pushjet.DEFAULT_MSG_TEMPLATE",
    "buildbot.reporters.pushover.DEFAULT_MSG_TEMPLATE",
})

DIFFERENCES = (Path(__file__).parents[2] / "docs" / "differences.md").read_text()
MARK = "__buildbot_internal__"


def is_pending(module: str, name: str | None = None, target: str | None = None) -> bool:
    """True if the entry belongs to work listed in PENDING."""
    for p in PENDING:
        if ":" in p:
            if name is not None and p == f"{module}:{name}":
                return True
            continue
        for m in (module, target):
            if m is not None and (m == p or m.startswith(p + ".")):
                return True
    return False


def _params(obj: Any, via_check_config: bool) -> list[inspect.Parameter] | None:
    target = obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    ps = list(sig.parameters.values())
    if via_check_config and all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in ps) \
            and hasattr(obj, "checkConfig"):
        ps = list(inspect.signature(obj.checkConfig).parameters.values())
        if ps and ps[0].name == "self":
            ps = ps[1:]
    return ps


def params_problems(ref: list[list[str]], ours: list[inspect.Parameter]) -> list[str]:
    """Ways in which a call written against `ref` would bind differently to `ours`."""
    problems: list[str] = []
    P = inspect.Parameter
    positional = [p for p in ours if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    by_name = {p.name: p for p in ours if p.kind != P.POSITIONAL_ONLY}
    var_pos = any(p.kind == P.VAR_POSITIONAL for p in ours)
    var_kw = any(p.kind == P.VAR_KEYWORD for p in ours)
    ref_names = {name for name, _, _ in ref}
    index = 0
    for name, kind, required in ref:
        if kind in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD"):
            if index < len(positional):
                mine = positional[index]
                if kind == "POSITIONAL_OR_KEYWORD" and mine.name != name:
                    problems.append(f"positional parameter {index} is {mine.name!r}, "
                                    f"not {name!r}")
                elif required == "optional" and mine.default is P.empty:
                    problems.append(f"{name!r} is required here, optional in 4.3")
            elif not var_pos:
                problems.append(f"missing positional parameter {name!r}")
            elif kind == "POSITIONAL_OR_KEYWORD" and name not in by_name and not var_kw:
                problems.append(f"{name!r} cannot be passed by keyword")
            index += 1
        elif kind == "KEYWORD_ONLY":
            mine = by_name.get(name)
            if mine is None and not var_kw:
                problems.append(f"missing keyword parameter {name!r}")
            elif mine is not None and required == "optional" and mine.default is P.empty:
                problems.append(f"{name!r} is required here, optional in 4.3")
        elif kind == "VAR_POSITIONAL" and not var_pos:
            problems.append("does not take *args")
        elif kind == "VAR_KEYWORD" and not var_kw:
            problems.append("does not take **kwargs")
    for p in ours:
        if p.default is P.empty and p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD,
                                               P.KEYWORD_ONLY) and p.name not in ref_names:
            problems.append(f"requires {p.name!r}, unknown to 4.3")
    return problems


def entry_problems(module: Any, modname: str, name: str, entry: dict[str, Any]) -> list[str]:
    kind = entry["kind"]
    if kind == "module":
        try:
            importlib.import_module(entry["target"])
        except ImportError as e:
            return [f"module {entry['target']} does not import: {e}"]
        return []
    if not hasattr(module, name):
        return ["missing"]
    obj = getattr(module, name)
    if MARK in getattr(obj, "__dict__", {}):
        # A 4.3 internal: present (raises a clear error when used, or is built differently by
        # the master); the user documentation must say so.
        if f"`{modname}.{name}`" not in DIFFERENCES:
            return ["internal to 4.3 here but not listed in docs/differences.md"]
        return []
    if kind == "interface":
        return []
    if kind == "class" and not callable(obj):
        return [f"is {type(obj).__name__}, 4.3 has a class"]
    if kind == "function" and not callable(obj):
        return [f"is {type(obj).__name__}, 4.3 has a function"]
    if kind == "constant":
        if "value" in entry:
            value = obj
            if isinstance(value, (set, frozenset)):
                value = sorted(value)
            elif isinstance(value, tuple):
                value = list(value)
            if value != entry["value"] and f"{modname}.{name}" not in VALUE_DIFFERS:
                return [f"value {obj!r}, 4.3 has {entry['value']!r}"]
        return []
    if "params" not in entry:
        return []
    ours = _params(obj, entry.get("via") == "checkConfig")
    if ours is None:
        return []
    return params_problems(entry["params"], ours)


# Modules whose import fills in values of another module, in 4.3 as here
# (`words.dangerous_commands` gets JOIN and LEAVE from `irc`). The recording imported every
# module first; a value must not depend on which tests ran before in this process.
VALUE_CONTRIBUTORS: dict[str, tuple[str, ...]] = {
    "buildbot.reporters.words": ("buildbot.reporters.irc",),
}


@pytest.mark.parametrize("modname", sorted(MODULES))
def test_public_names_of_module(modname: str) -> None:
    spec = MODULES[modname]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for contributor in VALUE_CONTRIBUTORS.get(modname, ()):
            importlib.import_module(contributor)
        try:
            module = importlib.import_module(modname)
        except ImportError as e:
            if is_pending(modname):
                pytest.xfail(f"pending: {modname} does not import ({e})")
            raise
        failures: list[str] = []
        pending: list[str] = []
        for name, entry in sorted(spec["names"].items()):
            problems = entry_problems(module, modname, name, entry)
            if not problems:
                continue
            line = f"{modname}.{name}: {'; '.join(problems)}"
            if is_pending(modname, name, entry.get("target")):
                pending.append(line)
            else:
                failures.append(line)
    assert not failures, "\n".join(failures)
    if pending:
        pytest.xfail("pending:\n" + "\n".join(pending))


def test_fixture_covers_the_user_facing_modules() -> None:
    """The fixture was made from 4.3.0 and lists the modules a configuration imports."""
    assert FIXTURE["buildbot_version"] == "4.3.0"
    for must in ("buildbot.util.giturlparse", "buildbot.util.service", "buildbot.process.log",
                 "buildbot.steps.shell", "buildbot.plugins", "buildbot.config"):
        assert must in MODULES
    assert len(MODULES) > 200


# --- members of classes ---------------------------------------------------------------------

from tests.api.pending_members import PENDING_MEMBERS


def _instance_params(cls: type, name: str) -> tuple[str, list[inspect.Parameter] | None]:
    """Kind of `cls.name` and the parameters of a call made through an instance."""
    raw = inspect.getattr_static(cls, name)
    if isinstance(raw, staticmethod):
        obj, drop = raw.__func__, False
    elif isinstance(raw, classmethod):
        obj, drop = getattr(cls, name), False
    elif isinstance(raw, property) or type(raw).__name__ in ("cached_property", "lazy_property"):
        return "property", None
    elif inspect.isfunction(raw):
        obj, drop = raw, True
    else:
        return "attribute", None
    try:
        ps = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        return "method", None
    if drop and ps and ps[0].kind in (ps[0].POSITIONAL_ONLY, ps[0].POSITIONAL_OR_KEYWORD):
        ps = ps[1:]
    return "method", ps


def member_problems(cls: type, qualname: str, name: str, entry: dict[str, Any]) -> list[str]:
    try:
        raw = inspect.getattr_static(cls, name)
    except AttributeError:
        return ["missing"]
    if MARK in getattr(raw, "__dict__", {}) or MARK in getattr(
            getattr(raw, "__func__", None), "__dict__", {}):
        if f"`{qualname}.{name}`" not in DIFFERENCES:
            return ["internal to 4.3 here but not listed in docs/differences.md"]
        return []
    kind, ours = _instance_params(cls, name)
    if entry["kind"] in ("method", "classmethod", "staticmethod"):
        if kind != "method" and not callable(raw):
            return [f"is a {kind} here, 4.3 has a method"]
        if ours is None or "params" not in entry:
            return []
        if [kind for _, kind, _ in entry["params"]] == ["VAR_POSITIONAL", "VAR_KEYWORD"]:
            return []  # a 4.3 decorator hid the real parameters: nothing to compare
        return params_problems(entry["params"], ours)
    return []  # properties and class attributes: existence is enough


def _classes() -> list[tuple[str, str]]:
    return sorted((m, n) for m, spec in MODULES.items() if spec.get("imported")
                  for n, e in spec["names"].items() if e.get("members"))


@pytest.mark.parametrize("modname,clsname", _classes())
def test_members_of_class(modname: str, clsname: str) -> None:
    """Methods, properties and class attributes of 4.3's classes (own or inherited from
    Buildbot bases) exist here, and a call valid for 4.3 binds the same way."""
    qualname = f"{modname}.{clsname}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            module = importlib.import_module(modname)
        except ImportError:
            pytest.skip(f"{modname} does not import (checked by test_public_names_of_module)")
        cls = getattr(module, clsname, None)
        if not inspect.isclass(cls) or MARK in cls.__dict__:
            pytest.skip(f"{qualname} is missing or internal (checked by "
                        "test_public_names_of_module)")
        pending = set(PENDING_MEMBERS.get(qualname, ()))
        failures: list[str] = []
        for name, entry in sorted(MODULES[modname]["names"][clsname]["members"].items()):
            problems = member_problems(cls, qualname, name, entry)
            if problems and name not in pending:
                failures.append(f"{qualname}.{name}: {'; '.join(problems)}")
            elif not problems and name in pending:
                failures.append(f"{qualname}.{name}: done, remove it from PENDING_MEMBERS")
    assert not failures, "\n".join(failures)


def test_pending_members_name_real_classes() -> None:
    """Every PENDING_MEMBERS key is a 4.3 class with members; nothing stale hides there."""
    known = {f"{m}.{n}": set(MODULES[m]["names"][n]["members"]) for m, n in _classes()}
    for qualname, names in PENDING_MEMBERS.items():
        assert qualname in known, qualname
        assert set(names) <= known[qualname], (qualname, set(names) - known[qualname])
