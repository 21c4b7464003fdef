"""`buildbot.plugins`: namespaces, the built-in inventory, third-party entry points (§3.1, §4)."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from buildbot.plugins import db
from buildbot.plugins.registry import NAMESPACES, builtin_entries


def test_star_import_binds_exactly_the_nine_namespaces() -> None:
    scope: dict[str, Any] = {}
    exec("from buildbot.plugins import *", scope)  # noqa: S102  # what master.cfg does
    assert sorted(k for k in scope if k != "__builtins__") == [
        "changes", "reporters", "schedulers", "secrets", "statistics", "steps", "util",
        "webhooks", "worker"]


def test_inventory_has_every_reference_name() -> None:
    counts = {ns: len(builtin_entries(ns)) for ns in NAMESPACES}
    assert counts == {"changes": 13, "reporters": 28, "schedulers": 10, "secrets": 5,
                      "steps": 103, "util": 95, "webhooks": 8, "worker": 7}


def test_inventory_points_at_the_reference_module_paths() -> None:
    looked_up = [builtin_entries(ns)[name] for ns, name in [
        ("steps", "ShellCommand"), ("steps", "Git"), ("util", "BuilderConfig"),
        ("util", "BuildFactory"), ("util", "Interpolate"), ("util", "MasterLock"),
        ("util", "SUCCESS"), ("util", "svn.split_file_branches"),
        ("util", "repo.DownloadsFromChangeSource"), ("worker", "Worker"),
        ("schedulers", "ForceScheduler"), ("webhooks", "github"), ("reporters", "MailNotifier"),
        ("secrets", "SecretInAFile"), ("changes", "GitPoller")]]
    assert looked_up == [
        ("buildbot.steps.shell", "ShellCommand"), ("buildbot.steps.source.git", "Git"),
        ("buildbot.config.builder", "BuilderConfig"), ("buildbot.process.factory", "BuildFactory"),
        ("buildbot.process.properties", "Interpolate"), ("buildbot.locks", "MasterLock"),
        ("buildbot.process.results", "SUCCESS"),
        ("buildbot.changes.svnpoller", "split_file_branches"),
        ("buildbot.steps.source.repo", "RepoDownloadsFromChangeSource"),
        ("buildbot.worker.base", "Worker"), ("buildbot.schedulers.forcesched", "ForceScheduler"),
        ("buildbot.www.hooks.github", "github"), ("buildbot.reporters.mail", "MailNotifier"),
        ("buildbot.secrets.providers.file", "SecretInAFile"),
        ("buildbot.changes.gitpoller", "GitPoller")]


def test_built_in_components_resolve_to_the_classes_at_their_import_paths() -> None:
    from buildbot.config import BuilderConfig
    from buildbot.locks import MasterLock
    from buildbot.plugins import util
    from buildbot.process.factory import BuildFactory
    from buildbot.process.properties import Interpolate

    assert (util.BuilderConfig, util.BuildFactory, util.Interpolate, util.MasterLock,
            util.SUCCESS, util.CANCELLED) == (
        BuilderConfig, BuildFactory, Interpolate, MasterLock, 0, 6)


@pytest.mark.slow  # imports every plugin module of the tree (~1-2 s of CPU)
def test_every_built_in_entry_loads() -> None:
    """The inventory lists only what exists: each name imports and resolves (a module of
    ours that is missing or broken would otherwise surface only in a user's master.cfg)."""
    import importlib

    broken = []
    for namespace in NAMESPACES:
        for name, (module, attr) in builtin_entries(namespace).items():
            try:
                obj: Any = importlib.import_module(module)
                for part in attr.split("."):
                    obj = getattr(obj, part)
            except Exception as e:  # collected: the assertion lists every broken entry
                broken.append(f"{namespace}.{name} ({module}:{attr}): {e!r}")
    assert broken == []


def test_unknown_names_raise_attribute_error() -> None:
    from buildbot.plugins import steps, util

    with pytest.raises(AttributeError) as top:
        steps.NoSuchStep  # noqa: B018
    with pytest.raises(AttributeError) as nested:
        util.svn.no_such_function  # noqa: B018
    assert (type(top.value), str(top.value), str(nested.value)) == (
        AttributeError, "Unknown component name: NoSuchStep",
        "Unknown component name: no_such_function")
    assert getattr(steps, "NoSuchStep", None) is None


def test_dir_lists_component_names_and_sub_namespaces() -> None:
    from buildbot.plugins import util

    names = dir(util)
    assert ({"BuilderConfig", "svn", "repo", "SUCCESS"} <= set(names), names == sorted(names),
            dir(util.svn)) == (True, True, ["split_file_alwaystrunk", "split_file_branches",
                                            "split_file_projects_branches"])


def test_statistics_is_not_imported_by_star_import() -> None:
    from buildbot.plugins import statistics

    assert repr(statistics) == "<lazy module buildbot.statistics>"


def test_www_plugins_of_installed_distributions_are_found() -> None:
    www = db.get_plugins("www")
    assert ("base" in www, www.info("base")) == (True, "buildbot-www 4.3.0")


# -- third-party distributions -----------------------------------------------------------

@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installed distribution 'fakeplug-t' registering buildbot.* entry points."""
    info = tmp_path / "fakeplug_t-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeplug-t\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent("""
        [buildbot.steps]
        GoodStep = fakeplug_t.mod:GoodStep
        NotAStep = fakeplug_t.mod:NotAStep
        Broken = fakeplug_t.broken:Thing
        ShellCommand = fakeplug_t.mod:GoodStep
        [buildbot.util]
        helper = fakeplug_t.mod:helper
        deep.er.thing = fakeplug_t.mod:helper
    """))
    pkg = tmp_path / "fakeplug_t"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text(textwrap.dedent("""
        from zope.interface import implementer
        from buildbot.interfaces import IBuildStep

        @implementer(IBuildStep)
        class GoodStep:
            pass

        class NotAStep:
            pass

        def helper():
            return 1
    """))
    (pkg / "broken.py").write_text("import nonexistent_module_zzz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    db._third_party_entry_points.cache_clear()
    yield tmp_path
    db._third_party_entry_points.cache_clear()
    for name in ("fakeplug_t", "fakeplug_t.mod", "fakeplug_t.broken"):
        sys.modules.pop(name, None)


def test_third_party_components_join_the_namespace(fake_distribution: Path) -> None:
    steps = db._build_namespace("steps", None)
    util = db._build_namespace("util", None)

    assert (steps.GoodStep.__name__, util.helper(), util.deep.er.thing(),
            steps.info("GoodStep"), util.info("BuilderConfig"), "deep.er.thing" in util.names) == (
        "GoodStep", 1, 1, "fakeplug-t 1.0", "buildbot (built in)", True)


def test_third_party_component_must_provide_the_interface(fake_distribution: Path) -> None:
    steps = db._build_namespace("steps", None)

    with pytest.raises(db.PluginDBError) as info:
        steps.NotAStep  # noqa: B018
    assert str(info.value).startswith(
        "Plugin buildbot.steps:NotAStep does not implement IBuildStep: The object "
        "<class 'fakeplug_t.mod.NotAStep'> has failed to implement interface "
        "buildbot.interfaces.IBuildStep")


def test_component_failing_to_import(fake_distribution: Path) -> None:
    steps = db._build_namespace("steps", None)

    with pytest.raises(db.PluginDBError) as info:
        steps.Broken  # noqa: B018
    assert (str(info.value), isinstance(info.value, AttributeError)) == (
        "Unable to load buildbot.steps:Broken: No module named 'nonexistent_module_zzz'", True)


def test_third_party_name_clashing_with_a_built_in(fake_distribution: Path) -> None:
    steps = db._build_namespace("steps", None)

    with pytest.raises(db.PluginDBError) as info:
        steps.ShellCommand  # noqa: B018
    assert str(info.value) == (
        'Duplicate entry point for "buildbot.steps:ShellCommand".\n'
        "  Previous definition buildbot.steps.shell:ShellCommand (buildbot (built in))\n"
        "  This definition fakeplug_t.mod:GoodStep (fakeplug-t 1.0)")


def test_get_reaches_nested_components_and_reports_load_failures(fake_distribution: Path) -> None:
    ns = db._build_namespace("util", None)
    assert ns.get("deep.er.thing")() == 1
    with pytest.raises(db.PluginDBError):
        db._build_namespace("steps", None).get("Broken")
