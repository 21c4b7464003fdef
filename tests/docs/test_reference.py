"""The generated configuration reference (docs/reference/) covers the code and is current."""

from __future__ import annotations

import datetime
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from buildbot.config.errors import capture_config_errors
from buildbot.config.master import KNOWN_CONFIG_KEYS
from buildbot.plugins import registry

DOCS = Path(__file__).parents[2] / "docs"
TOOLS = DOCS / "tools"


# Examples whose constructor checks this machine (a directory that exists only on a master).
NEEDS_THE_HOST = {"secrets.SecretInAFile", "util.PasswordManhole", "c['manhole']",
                  "c['secretsProviders']"}


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", TOOLS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _anchors(page: str) -> set[str]:
    return set(re.findall(r'<a id="([^"]+)"></a>', (DOCS / "reference" / page).read_text()))


def test_every_config_key_has_a_documented_row() -> None:
    data = _load("reference_data")
    text = (DOCS / "reference" / "config-keys.md").read_text()
    rows = set(re.findall(r"^\| `([^`]+)` \|", text, flags=re.M))
    assert (sorted(KNOWN_CONFIG_KEYS - set(data.CONFIG_KEYS)), rows) == ([], set(KNOWN_CONFIG_KEYS))
    assert "UNDOCUMENTED" not in text


@pytest.mark.parametrize("namespace", registry.ENTRY_POINT_GROUPS)
def test_every_plugin_has_an_entry(namespace: str) -> None:
    page = "worker.md" if namespace == "machine" else f"{namespace}.md"
    expected = {f"{namespace}.{name}" for name in registry.builtin_entries(namespace)}
    assert sorted(expected - _anchors(page)) == []


@pytest.mark.slow  # imports the modules of every plugin it builds (about 1.5 s of CPU)
def test_hand_written_examples_build_without_config_errors() -> None:
    """Each example of reference_data (plugins and c[...] keys) runs as master.cfg code would."""
    from buildbot import plugins

    data = _load("reference_data")
    scope = {name: getattr(plugins, name) for name in plugins.__all__}
    scope.update(timedelta=datetime.timedelta, re=re, c={"www": {}},
                 f=plugins.util.BuildFactory())
    examples = dict(data.PLUGIN_EXAMPLES)
    examples.update({f"c['{key}']": doc.example for key, doc in data.CONFIG_KEYS.items()})
    failures = {}
    for name, example in examples.items():
        if name in NEEDS_THE_HOST:
            continue
        with capture_config_errors() as errors:
            try:
                exec(example, dict(scope))  # noqa: S102  # our own examples, as master.cfg runs
            except Exception as e:  # noqa: BLE001  # reported below with the others
                errors.addError(f"{type(e).__name__}: {e}")
        # an optional library that is not installed here (libvirt-python needs libvirt-dev)
        missing = [e for e in errors.errors
                   if (m := _NEEDS_MODULE.search(str(e))) and importlib.util.find_spec(m.group(1)) is None]
        if errors.errors and missing != errors.errors:
            failures[name] = errors.errors
    assert failures == {}


_NEEDS_MODULE = re.compile(r"The python module '([\w.]+)' is needed")


@pytest.mark.slow  # imports every plugin module (about 2 s of CPU)
def test_generated_files_are_up_to_date() -> None:
    """`gen_reference.py` would write exactly what is committed (re-run it if this fails)."""
    gen = _load("gen_reference")
    stale = [str(path.relative_to(DOCS.parent)) for path, text in gen.render_all().items()
             if not path.exists() or path.read_text() != text]
    assert stale == [], "run .venv/bin/python docs/tools/gen_reference.py"
