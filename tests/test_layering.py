"""The import rules of docs/contributing.md ("Layers"), checked on every module under buildbot/
with `ast`.

Every import counts: module level, inside functions, under `if TYPE_CHECKING:`. A failure
lists each offending import as `path:line: <module> (<layer>) imports <target> (<layer>)`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Layer of a module: the first matching prefix wins (longest prefixes first).
LAYER_PREFIXES = [
    ("buildbot.util", "util"),
    ("buildbot.db", "db"),
    ("buildbot.mq", "mq"),
    ("buildbot.data", "data"),
    ("buildbot.www", "www"),
    ("buildbot.master", "top"),
    ("buildbot.scripts", "top"),
    # Leaves every layer but util may import; they import only util themselves, so they
    # cannot become a path from a lower layer to a higher one.
    ("buildbot.interfaces", "shared"),
    ("buildbot.warnings", "shared"),
]
# Everything else (process, steps, schedulers, changes, worker, reporters, config, secrets,
# locks, plugins, and other top-level modules such as statistics or revlinks) is process-level.
DEFAULT_LAYER = "process"

MAY_IMPORT: dict[str, set[str]] = {
    "util": {"util"},
    "db": {"db", "util", "shared"},
    "mq": {"mq", "util", "shared"},
    "data": {"data", "db", "mq", "util", "shared"},
    "process": {"process", "data", "util", "shared"},
    "www": {"www", "data", "util", "shared"},
    "shared": {"shared", "util"},
    "top": {"util", "db", "mq", "data", "process", "www", "shared", "top"},
}


def layer_of(module: str) -> str | None:
    """The layer of a `buildbot...` module; None for the root package (importable by all)."""
    if module == "buildbot":
        return None
    for prefix, layer in LAYER_PREFIXES:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return DEFAULT_LAYER


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(dotted: str, root: Path) -> bool:
    base = root.joinpath(*dotted.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def imported_modules(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in the file (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base = ".".join(base_parts[: len(base_parts) - node.level + 1])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            for alias in node.names:
                # `from buildbot import config` imports the module buildbot.config.
                candidate = f"{source}.{alias.name}"
                yield node.lineno, candidate if is_module(candidate, root) else source


def violations(root: Path = ROOT) -> list[str]:
    """Every import under root/buildbot that breaks the rules."""
    found = []
    for path in sorted((root / "buildbot").rglob("*.py")):
        here = module_name(path, root)
        own = layer_of(here)
        assert own is not None or here == "buildbot"
        for line, target in imported_modules(path, root):
            if target != "buildbot" and not target.startswith("buildbot."):
                continue
            theirs = layer_of(target)
            if own is None:
                allowed = theirs is None
            else:
                allowed = theirs is None or theirs in MAY_IMPORT[own]
            if not allowed:
                found.append(f"{path.relative_to(root)}:{line}: {here} ({own}) imports "
                             f"{target} ({theirs})")
    return found


@pytest.mark.slow  # parses every module of the tree (a few hundred files): ~2 s of CPU
def test_every_import_follows_the_layering() -> None:
    bad = violations()
    assert not bad, ("imports breaking the layering rules of docs/contributing.md:\n"
                     + "\n".join(bad))


def test_the_checker_sees_function_level_and_type_checking_imports(tmp_path: Path) -> None:
    for pkg in ("buildbot", "buildbot/util", "buildbot/db"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "buildbot/db/pool.py").write_text("from buildbot import interfaces, util\n")
    (tmp_path / "buildbot/util/probe.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from buildbot.data import base\n"
        "def f():\n    from ..db import pool\n    import buildbot.www.resource\n"
        "from buildbot import version\nfrom . import misc\n")

    assert violations(tmp_path) == [
        "buildbot/util/probe.py:3: buildbot.util.probe (util) imports buildbot.data (data)",
        "buildbot/util/probe.py:5: buildbot.util.probe (util) imports buildbot.db.pool (db)",
        ("buildbot/util/probe.py:6: buildbot.util.probe (util) imports buildbot.www.resource "
         "(www)"),
    ]


def test_layers_of_modules() -> None:
    assert [layer_of(m) for m in (
        "buildbot.util.misc", "buildbot.db.pool", "buildbot.data.base", "buildbot.steps.shell",
        "buildbot.config.master", "buildbot.plugins", "buildbot.locks", "buildbot.interfaces",
        "buildbot.warnings", "buildbot.www.resource", "buildbot.master", "buildbot.scripts.base",
        "buildbot")] == [
        "util", "db", "data", "process", "process", "process", "process", "shared", "shared",
        "www", "top", "top", None]
