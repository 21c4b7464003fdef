"""Interpolate: every selector and modifier, nesting, delimiters, construction errors.

Expected values were checked against Buildbot 4.3 side by side.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted

from buildbot.config.errors import ConfigErrors, capture_config_errors
from buildbot.process.properties import Interpolate, Properties, Property, render


class Patch:
    level = 1
    body = b"BODY"
    subdir = "sd"
    author = "au"
    comment = "cm"


class SourceStamp:
    def __init__(self, codebase: str, branch: str | None, revision: str,
                 patch: Patch | None = None) -> None:
        self.codebase = codebase
        self.branch = branch
        self.revision = revision
        self.repository = f"repo-{codebase}"
        self.project = "proj"
        self.patch = patch


class SecretsManager:
    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = secrets
        self.asked: list[str] = []

    async def get(self, name: str) -> str | None:
        self.asked.append(name)
        return self.secrets.get(name)


class Master:
    def __init__(self) -> None:
        self.secrets_manager = SecretsManager({"tok": "S3CRET"})


class Build:
    def __init__(self) -> None:
        self.master = Master()
        self.sourcestamps = [SourceStamp("cb", "br", "rev"),
                             SourceStamp("pcb", None, "", Patch()),
                             SourceStamp("", "main", "r0")]
        self.worker_info = {"host": "h", "n": 3, "z": 0, "none": None}

    def getSourceStamp(self, codebase: str) -> SourceStamp | None:
        return next((s for s in self.sourcestamps if s.codebase == codebase), None)

    def getWorkerInfo(self) -> dict[str, Any]:
        return self.worker_info


def make_props(with_build: bool = True) -> Properties:
    props = Properties()
    props.update({"foo": "FOO", "empty": "", "none": None, "zero": 0, "lst": [1, 2],
                  "t": True, "f": False}, "test")
    props.setProperty("rend", Interpolate("%(prop:foo)s-r"), "test")
    if with_build:
        props.build = Build()
    return props


async def rendered(fmt: str, **kwargs: Any) -> Any:
    return await render(Interpolate(fmt, **kwargs), make_props())


PROP_CASES = [
    (("%(prop:foo)s|%(prop:missing)s|%(prop:none)s|%(prop:zero)s|%(prop:lst)s|%(prop:t)s|"
      "%(prop:f)s|%(prop:rend)s"), "FOO|||0|[1, 2]|True|False|FOO-r"),
    (("%(prop:foo:-x)s|%(prop:missing:-x)s|%(prop:none:-x)s|%(prop:empty:-x)s|%(prop:f:-x)s|"
      "%(prop:zero:-x)s"), "FOO|x|||False|0"),
    (("%(prop:foo:~x)s|%(prop:missing:~x)s|%(prop:none:~x)s|%(prop:empty:~x)s|"
      "%(prop:zero:~x)s|%(prop:f:~x)s"), "FOO|x|x|x|x|x"),
    ("%(prop:foo:+x)s|%(prop:missing:+x)s|%(prop:none:+x)s|%(prop:empty:+x)s", "x||x|x"),
    ("%(prop:foo:?|a|b)s|%(prop:missing:?|a|b)s|%(prop:none:?|a|b)s|%(prop:empty:?|a|b)s",
     "a|b|a|a"),
    (("%(prop:foo:#?|a|b)s|%(prop:missing:#?|a|b)s|%(prop:none:#?|a|b)s|"
      "%(prop:empty:#?|a|b)s|%(prop:zero:#?|a|b)s"), "a|b|b|b|b"),
    (("%(prop:a.b-c)s|%(prop:)s|%(prop:missing:-)s|%(prop:foo:-)s|%(prop:foo:~)s|"
      "%(prop:foo:+)s|%(prop:é)s"), "|||FOO|FOO||"),
]

DELIMITER_CASES = [
    ("%(prop:foo:?|a|b|c)s|%(prop:missing:?|a|b|c)s", "a|b|c"),  # false branch keeps the rest
    ("%(prop:foo:?:a:b)s|%(prop:missing:?:a:b)s|%(prop:foo:?||)s", "a|b|"),
    ("%(prop:foo:? a b)s|%(prop:missing:? a b)s", "a|b"),
    ("%(prop:foo:??a?b)s|%(prop:missing:?%a%b)s", "a|b"),
    ("%(prop:missing:?|a|)s|%(prop:missing:?||b)s", "|b"),
    ("%(prop:missing:?|(x)|(y))s|%(prop:missing:-(a(b)c))s", "(y)|(a(b)c)"),
    ("%(prop:missing:?|((a|b))|c)s|%(prop:foo:?|((a|b))|c)s", "c|((a|b))"),
    ("%(prop:missing:?|a(|)b|c)s|%(prop:foo:?|a(|)b|c)s", "c|a(|)b"),
]

NESTING_CASES = [
    ("%(prop:missing:-%(prop:foo)s)s", "FOO"),
    ("%(prop:foo:?|%(prop:foo)s-%(kw:kw1)s|b)s", "FOO-K"),
    ("%(prop:missing:~%(prop:missing:-deep)s)s", "deep"),
    ("%(prop:missing:-%(prop:missing:-%(kw:kw1)s)s)s", "K"),
    ("%(prop:foo:?|%(prop:missing:?|%(prop:foo:?|1|2)s|3)s|c)s", "3"),
    ("%(prop:missing:?|x|%(prop:missing:?|%(prop:foo:?|1|2)s|3)s)s", "3"),
    ("%(prop:foo:?|%(prop:missing:-x|y)s|b)s", "x|y"),  # delimiter inside a nested key
    ("%(prop:missing:-(x)%(prop:foo)s(y))s", "(x)FOO(y)"),
    ("%(prop:missing:#?|a|%(prop:foo)s)s", "FOO"),
    ("%(prop:missing:-%%)s|%(prop:missing:-50%%)s|%(prop:missing:-%(kw:kw1)s%%)s", "%|50%|K%"),
    ("%(prop:missing:?|%%|b)s|%(prop:foo:?|%%|b)s", "b|%"),
]

SRC_CASES = [
    (("%(src:cb:branch)s|%(src:cb:revision)s|%(src:cb:repository)s|%(src:cb:project)s|"
      "%(src:cb:codebase)s"), "br|rev|repo-cb|proj|cb"),
    (("%(src:cb:patch_level)s|%(src:cb:patch_body)s|%(src:cb:nope)s|%(src:nocb:branch)s|"
      "%(src:nocb:branch:-x)s|%(src:cb:branch:+x)s|%(src:cb:nope:-x)s"), "||||x|x|x"),
    (("%(src:nocb:branch:?|y|n)s|%(src:cb:nope:?|y|n)s|%(src:cb:patch_level:?|y|n)s|"
      "%(src:cb:patch_level:-x)s|%(src:cb:patch_level:#?|y|n)s"), "n|n|y||n"),
    (("%(src:pcb:patch_level)s|%(src:pcb:patch_body)s|%(src:pcb:patch_subdir)s|"
      "%(src:pcb:patch_author)s|%(src:pcb:patch_comment)s"), "1|b'BODY'|sd|au|cm"),
    (("%(src:pcb:branch:-x)s|%(src:pcb:revision:-x)s|%(src:pcb:revision:~x)s|"
      "%(src:pcb:branch:?|y|n)s|%(src:pcb:patch:?|y|n)s|%(src:pcb:branch)s"), "||x|y|n|"),
    (("%(src::branch)s|%(src::revision:~x)s|%(src:cb:__class__)s|%(src:nocb:branch:+x)s|"
      "%(src:cb:nope:+x)s"), "main|r0|||"),
]

WORKER_CASES = [
    ("%(worker:host)s|%(worker:n)s|%(worker:nope)s|%(worker:nope:-x)s|%(worker:z:~x)s",
     "h|3||x|x"),
    ("%(worker:none)s|%(worker:none:-x)s|%(worker:host:?|y|n)s|%(worker:z:#?|y|n)s", "||y|n"),
    ("%(worker:nope:+x)s|%(worker:host:+x)s|%(worker:nope:#?|y|n)s", "|x|n"),
]

KW_CASES = [
    (("%(kw:kw1)s|%(kw:nope)s|%(kw:kwnone)s|%(kw:kwnone:-x)s|%(kw:kwe:~x)s|%(kw:nope:-x)s|"
      "%(kw:kw1:+p)s|%(kw:kwe:?|y|n)s|%(kw:kwe:#?|y|n)s"), "K||||x|x|p|y|n"),
]

FORMAT_CASES = [
    ("%%(prop:foo)s|100%%|%(prop:foo)r|%(prop:lst)r", "%(prop:foo)s|100%|'FOO'|[1, 2]"),
    ("%(prop:foo)10s|%(prop:foo)-6s|plain", "       FOO|FOO   |plain"),
    ("%(prop:foo:?|a|b)s%(prop:foo:?|a|b)s", "aa"),  # the same key twice
]


@pytest.mark.parametrize(("fmt", "expected"),
                         PROP_CASES + DELIMITER_CASES + NESTING_CASES + SRC_CASES
                         + WORKER_CASES + KW_CASES + FORMAT_CASES)
@pytest_twisted.ensureDeferred
async def test_interpolate_renders_like_the_reference(fmt: str, expected: str) -> None:
    got = await rendered(fmt, kw1="K", kwnone=None, kwe="")
    assert got == expected


@pytest_twisted.ensureDeferred
async def test_kw_values_are_rendered() -> None:
    got = await rendered("%(kw:r)s|%(kw:l)s|%(kw:i)s", r=Property("foo"),
                         l=[Property("foo")], i=Interpolate("%(prop:foo)s!"))
    assert got == "FOO|['FOO']|FOO!"


@pytest.mark.parametrize("fmt", ["%(src:cb:branch)s", "%(worker:host)s",
                                 "%(src:cb:branch:?|y|)s", "%(worker:host:#?|y|)s"])
@pytest_twisted.ensureDeferred
async def test_build_selectors_are_missing_outside_a_build(fmt: str) -> None:
    # The reference raises AttributeError here; outside a build there is nothing to find.
    assert await render(Interpolate(fmt), make_props(with_build=False)) == ""


@pytest_twisted.ensureDeferred
async def test_secret_is_rendered_and_recorded_for_redaction() -> None:
    props = make_props()
    got = await render(Interpolate("token=%(secret:tok)s %(secret:tok:?|y|n)s"), props)
    assert got == "token=S3CRET y"
    assert props.get_used_secrets() == {"S3CRET": "<tok>"}
    assert props.cleanupTextFromSecrets("curl -H S3CRET") == "curl -H <tok>"


@pytest.mark.parametrize("fmt", ["%(secret:nope)s", "%(secret:nope:-x)s"])
@pytest_twisted.ensureDeferred
async def test_missing_secret_fails_naming_it(fmt: str) -> None:
    with pytest.raises(KeyError, match="secret key nope is not found in any provider"):
        await render(Interpolate(fmt), make_props())


@pytest_twisted.ensureDeferred
async def test_replacement_is_rendered_only_when_chosen() -> None:
    props = make_props()
    await render(Interpolate("%(prop:foo:-%(secret:tok)s)s"), props)
    assert props.build.master.secrets_manager.asked == []


POSITIONAL_CASES: list[tuple[tuple[Any, ...], Any]] = [
    (("%s-%s", Property("foo"), "x"), "FOO-x"),
    (("%s", Property("foo")), "FOO"),
    (("%s", (1, 2)), "(1, 2)"),
    (("%d", 5), "5"),
    (("%s", {"a": 1}), "{'a': 1}"),
]


@pytest.mark.parametrize(("args", "expected"), POSITIONAL_CASES)
@pytest_twisted.ensureDeferred
async def test_positional_form_renders_its_arguments(args: tuple[Any, ...],
                                                     expected: Any) -> None:
    assert await render(Interpolate(*args), make_props()) == expected


@pytest.mark.parametrize(("args", "error"), [
    (("%s-%s", "x"), "not enough arguments for format string"),
    (("%(a)s", {"a": 1}), "format requires a mapping"),
])
@pytest_twisted.ensureDeferred
async def test_positional_form_format_errors_surface_when_rendering(
        args: tuple[Any, ...], error: str) -> None:
    with pytest.raises(TypeError, match=error):
        await render(Interpolate(*args), make_props())


CONFIG_ERRORS = [
    ("%(foo)s", "invalid Interpolate substitution without selector 'foo'"),
    ("%()s", "invalid Interpolate substitution without selector ''"),
    ("%(prop)s", "invalid Interpolate substitution without selector 'prop'"),
    ("%(bar:foo)s", "invalid Interpolate selector 'bar'"),
    ("%(PROP:x)s", "invalid Interpolate selector 'PROP'"),
    ("%(:x)s", "invalid Interpolate selector ''"),
    ("%(prop:f o)s", "Property name must be alphanumeric for prop Interpolation 'f o'"),
    ("%(prop:a/b)s", "Property name must be alphanumeric for prop Interpolation 'a/b'"),
    ("%(prop:a b:-x)s", "Property name must be alphanumeric for prop Interpolation 'a b:-x'"),
    ("%(kw:a b)s", "Keyword must be alphanumeric for kw Interpolation 'a b'"),
    ("%(src:cb)s", "Must specify both codebase and attribute for src Interpolation 'cb'"),
    ("%(src:)s", "Must specify both codebase and attribute for src Interpolation ''"),
    ("%(src:c b:branch)s", "Codebase must be alphanumeric for src Interpolation 'c b:branch'"),
    ("%(src:cb:br anch)s",
     "Attribute must be alphanumeric for src Interpolation 'cb:br anch'"),
    ("%(prop:foo:z)s", "invalid Interpolate default type 'z'"),
    ("%(prop:foo:#)s", "invalid Interpolate default type '#'"),
    ("%(src:cb:branch:z)s", "invalid Interpolate default type 'z'"),
    ("%(kw:a:z)s", "invalid Interpolate default type 'z'"),
    ("%(worker:a:z)s", "invalid Interpolate default type 'z'"),
    ("%(secret:a:z)s", "invalid Interpolate default type 'z'"),
    ("%(prop:foo:?|a)s", "invalid Interpolate ternary expression 'a' with delimiter '|'"),
    ("%(prop:foo:#?|)s", "invalid Interpolate ternary expression '' with delimiter '|'"),
    ("%(prop:foo:?(a(b)c)d(e)f)s", "invalid Interpolate ternary delimiter '('"),
    ("%(prop:foo:-%(bad:x)s)s", "invalid Interpolate selector 'bad'"),
    ("%(prop:foo:?|a|%(kw:a b)s)s", "Keyword must be alphanumeric for kw Interpolation 'a b'"),
    # The reference crashes with IndexError on these three; we report them.
    ("%(prop:foo:)s", "invalid Interpolate default type ''"),
    ("%(prop:foo:?)s", "invalid Interpolate ternary expression '' with no delimiter after '?'"),
    ("%(prop:foo:#?)s",
     "invalid Interpolate ternary expression '' with no delimiter after '#?'"),
]


@pytest.mark.parametrize(("fmt", "message"), CONFIG_ERRORS)
def test_malformed_substitution_is_a_config_error(fmt: str, message: str) -> None:
    with pytest.raises(ConfigErrors) as info:
        Interpolate(fmt)
    assert info.value.errors == [message]


@pytest.mark.parametrize("fmt", [
    "%(prop:)s", "%(prop::-x)s", "%(prop:foo:-x:y)s", "%(src::branch)s", "%(src:cb:)s",
    "%(src:c-b.x:br-anch)s", "%(kw:)s", "%(kw:a.b-c)s", "%(worker:x y)s", "%(secret:x y:-z)s",
    "%(worker::-x)s", "%(secret:)s", "%(prop:foo:??a?b)s", "%%(bad)s",
])
def test_unusual_but_valid_substitutions_are_accepted(fmt: str) -> None:
    Interpolate(fmt)


def test_errors_are_collected_while_a_config_loads() -> None:
    with capture_config_errors() as errors:
        interpolation = Interpolate("%(a)s %(b)s %(prop:c d)s")
    assert errors.errors == [
        "invalid Interpolate substitution without selector 'a'",
        "invalid Interpolate substitution without selector 'b'",
        "Property name must be alphanumeric for prop Interpolation 'c d'",
    ]
    assert interpolation.fmtstring == "%(a)s %(b)s %(prop:c d)s"


def test_positional_and_keyword_forms_cannot_mix() -> None:
    with pytest.raises(ConfigErrors, match="Interpolate takes either positional or keyword "
                                           "substitutions, not both."):
        Interpolate("%s", 1, a=2)


@pytest.mark.parametrize(("fmt", "exc", "message"), [
    ("100%", ValueError, "incomplete format"),
    ("%(prop:foo", ValueError, "incomplete format key"),
    ("%(prop:foo:?(a)s", ValueError, "incomplete format key"),
    ("%(prop:foo)d", TypeError, "real number is required"),
])
def test_bad_format_strings_raise_python_errors_at_construction(
        fmt: str, exc: type[Exception], message: str) -> None:
    # As in the reference: these are not config errors (master.cfg reports "error while
    # parsing config file: ...").
    with pytest.raises(exc, match=message):
        Interpolate(fmt)


def test_repr_shows_the_arguments() -> None:
    assert repr(Interpolate("a%(prop:foo)s", k=1)) == "Interpolate('a%(prop:foo)s', **{'k': 1})"
    assert repr(Interpolate("a%s", 1)) == "Interpolate('a%s', *(1,))"
    assert repr(Interpolate("a")) == "Interpolate('a')"


def test_format_is_parsed_once_at_construction() -> None:
    interpolation = Interpolate("%(prop:foo:-%(kw:x)s)s %(prop:foo:-%(kw:x)s)s", x="1")
    assert list(interpolation.interpolations) == ["prop:foo:-%(kw:x)s"]
