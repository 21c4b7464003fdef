"""BuilderConfig arguments: defaults, derived values and exact error texts (§3.3)."""

from __future__ import annotations

from typing import Any

import pytest

from buildbot.config import BuilderConfig
from buildbot.config.builder import builddir_for
from buildbot.config.errors import capture_config_errors
from buildbot.locks import MasterLock
from buildbot.process.factory import BuildFactory
from buildbot.process.properties import Property


def builder_errors(**kwargs: Any) -> list[str]:
    with capture_config_errors() as errs:
        BuilderConfig(**kwargs)
    return errs.errors


def test_defaults() -> None:
    f = BuildFactory()
    b = BuilderConfig(name="b1", workername="w", factory=f)

    assert {k: v for k, v in vars(b).items() if k != "do_build_if"} == {
        "name": "b1", "project": None, "factory": f, "workernames": ["w"], "builddir": "b1",
        "workerbuilddir": "b1", "tags": [], "nextWorker": None, "nextBuild": None,
        "canStartBuild": None, "locks": [], "env": {}, "properties": {},
        "defaultProperties": {}, "collapseRequests": None, "description": None,
        "description_format": None}
    assert b.do_build_if(object()) is True


def test_workername_is_appended_to_workernames() -> None:
    b = BuilderConfig(name="b", workernames=["a"], workername="z", factory=BuildFactory())
    assert b.workernames == ["a", "z"]


def test_single_string_workernames() -> None:
    assert BuilderConfig(name="b", workernames="a", factory=BuildFactory()).workernames == ["a"]


def test_builddir_replaces_unsafe_characters() -> None:
    assert (builddir_for("a b!#$%&'()*+,./:;<=>?@[\\]^{}~|\tz-_\"`é€"),
            builddir_for("plain-name_1")) == ("a_b_____________________________z-_\"`é€",
                                              "plain-name_1")


def test_explicit_builddirs() -> None:
    b = BuilderConfig(name="b", workername="w", factory=BuildFactory(), builddir="bd",
                      workerbuilddir="wb")
    c = BuilderConfig(name="c", workername="w", factory=BuildFactory(), builddir="bd")
    assert ((b.builddir, b.workerbuilddir), (c.builddir, c.workerbuilddir)) == (
        ("bd", "wb"), ("bd", "bd"))


def test_ascii_bytes_name_is_decoded() -> None:
    b = BuilderConfig(name=b"abc", workername="w", factory=BuildFactory())
    assert (b.name, b.builddir) == ("abc", "abc")


F = BuildFactory()


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, ["builder's name is required", "builder '<unknown>': has no factory",
          "builder '<unknown>': at least one workername is required"]),
    ({"name": 3, "workername": "a", "factory": F}, ["builder's name is required"]),
    ({"name": "", "workername": "a", "factory": F}, ["builder's name is required"]),
    ({"name": b"\xff", "workername": "a", "factory": F},
     ["builder names must be unicode or ASCII"]),
    ({"name": "_x", "workername": "a", "factory": F},
     ["builder names must not start with an underscore: '_x'"]),
    ({"name": "__Janitor", "workername": "a", "factory": F}, []),
    ({"name": "n", "workernames": 3, "factory": F},
     ["builder 'n': workernames must be a list or a string",
      "builder 'n': at least one workername is required"]),
    ({"name": "n", "workernames": ("a",), "factory": F},
     ["builder 'n': workernames must be a list or a string",
      "builder 'n': at least one workername is required"]),
    ({"name": "n", "workername": 3, "factory": F},
     ["builder 'n': workername must be a string but it is 3"]),
    ({"name": "n", "workernames": [], "factory": F},
     ["builder 'n': at least one workername is required"]),
    ({"name": "n", "workername": "a"}, ["builder 'n': has no factory"]),
    ({"name": "n", "workername": "a", "factory": 3},
     ["builder 'n': factory is not a BuildFactory instance"]),
    ({"name": "n", "workername": "a", "factory": BuildFactory},
     ["builder 'n': factory is not a BuildFactory instance"]),
    ({"name": "n", "workername": "a", "factory": F, "tags": 3},
     ["builder 'n': tags must be a list"]),
    ({"name": "n", "workername": "a", "factory": F, "tags": ("a",)},
     ["builder 'n': tags must be a list"]),
    ({"name": "n", "workername": "a", "factory": F, "tags": [3, "y", "x", "x", "y", "z"]},
     ["builder 'n': tags list contains something that is not a string",
      "builder 'n': tags list contains duplicate tags: x y"]),
    ({"name": "n", "workername": "a", "factory": F, "nextWorker": 3, "nextBuild": 3,
      "canStartBuild": 3},
     ["nextWorker must be a callable", "nextBuild must be a callable",
      "canStartBuild must be a callable"]),
    ({"name": "n", "workername": "a", "factory": F, "env": 3},
     ["builder's env must be a dictionary"]),
    ({"name": "n", "workername": "a", "factory": F, "locks": 3},
     ["builder 'n': locks must be a list or a renderable"]),
    ({"name": "n", "workername": "a", "factory": F, "properties": {"x" * 257: 1},
      "defaultProperties": {"y" * 257: 1}},
     [f"Builder n property '{'x' * 257}' exceeds maximum length of 256",
      f"Builder n default property '{'y' * 257}' exceeds maximum length of 256"]),
    ({"name": "n", "workername": "a", "factory": F, "properties": 3},
     ["builder 'n': properties must be a dictionary"]),
    ({"name": "n", "workername": "a", "factory": F, "description": 3,
      "description_format": "html"},
     ["BuilderConfig argument description must be an instance of str or None",
      'builder description format must be None or "markdown"']),
    ({"name": "n", "workername": "a", "factory": F, "project": 3},
     ["builder project must be None or str"]),
    ({"name": "n", "workername": "a", "factory": F, "do_build_if": 3},
     ["builder 'n': do_build_if must be a callable"]),
])
def test_argument_errors(kwargs: dict[str, Any], expected: list[str]) -> None:
    assert builder_errors(**kwargs) == expected


def test_error_outside_a_load_raises_at_once() -> None:
    from buildbot.config import ConfigErrors

    with pytest.raises(ConfigErrors) as info:
        BuilderConfig(name="n", workername="a")
    assert info.value.errors == ["builder 'n': has no factory"]


def test_markdown_description_needs_the_markdown_package() -> None:
    try:
        import markdown  # noqa: F401
    except ImportError:
        assert builder_errors(name="n", workername="a", factory=F, description="*hi*",
                              description_format="markdown") == [
            ("BuilderConfig: Markdown library is required in order to use markdown format "
            "('pip install Markdown')")]
    else:
        b = BuilderConfig(name="n", workername="a", factory=F, description="*hi*",
                          description_format="markdown")
        assert b.describe_html() == "<p><em>hi</em></p>"


def test_plain_description_has_no_html() -> None:
    b = BuilderConfig(name="n", workername="a", factory=F, description="hi")
    assert b.describe_html() is None


def test_renderable_locks_are_accepted() -> None:
    b = BuilderConfig(name="n", workername="a", factory=F, locks=Property("l"))
    assert isinstance(b.locks, Property)


def test_config_dict_lists_set_values_only() -> None:
    lock = MasterLock("x")
    b = BuilderConfig(name="n", workernames=["a"], factory=F, tags=["t"], locks=[lock],
                      env={"a": "b"}, properties={"p": 1}, collapseRequests=False,
                      description="d", project="p")
    plain = BuilderConfig(name="m", workernames=["a"], factory=F)

    assert (b.getConfigDict(), plain.getConfigDict()) == (
        {"name": "n", "workernames": ["a"], "factory": F, "builddir": "n",
         "workerbuilddir": "n", "tags": ["t"], "locks": [lock], "env": {"a": "b"},
         "properties": {"p": 1}, "collapseRequests": False, "description": "d",
         "project": "p"},
        {"name": "m", "workernames": ["a"], "factory": F, "builddir": "m",
         "workerbuilddir": "m"})
