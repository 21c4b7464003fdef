"""ForceScheduler: getSpec() equal to Buildbot 4.3's, validation and force() on the stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.config.errors import ConfigErrors, capture_config_errors
from buildbot.data.forceschedulers import forcescheduler_message
from buildbot.schedulers.forcesched import (
    AnyPropertyParameter,
    BooleanParameter,
    ChoiceStringParameter,
    CodebaseParameter,
    CollectedValidationError,
    FileParameter,
    FixedParameter,
    ForceScheduler,
    InheritBuildParameter,
    IntParameter,
    NestedParameter,
    PatchParameter,
    StringParameter,
    TextParameter,
    UserNameParameter,
    WorkerChoiceParameter,
)
from tests.fixtures.stack import Stack
from tests.schedulers.harness import start, stop

REFERENCE = Path(__file__).with_name("reference_forcesched_spec.json")


def configured(sched: ForceScheduler) -> ForceScheduler:
    sched.reconfigService(*sched._config_args, **sched._config_kwargs)
    return sched


def reference_like() -> list[ForceScheduler]:
    # The same schedulers as those whose spec was dumped from Buildbot 4.3.0.
    big = ForceScheduler(
        name="f", builderNames=["a", "b"], label="Lbl", buttonName="Go",
        properties=[
            StringParameter("s", regex="a+", required=True, tooltip="tt"),
            TextParameter("t", default="x"), IntParameter("i"),
            BooleanParameter("b", default=True),
            ChoiceStringParameter("c", choices=["x", "y"], multiple=True, default=["x"]),
            FixedParameter("fx", default="d"), AnyPropertyParameter("any"),
            WorkerChoiceParameter(),
            InheritBuildParameter(compatible_builds=lambda m, b: [], name="inh"),
            NestedParameter("n", fields=[StringParameter("a"),
                                         UserNameParameter(need_email=False)],
                            layout="tabs", columns=3),
            FileParameter("file")],
        codebases=[CodebaseParameter("cb", patch=PatchParameter(),
                                     branch=ChoiceStringParameter("branch", choices=["main"])),
                   CodebaseParameter("", revision=None, repository="fixedrepo"), "plain"])
    return [configured(big), configured(ForceScheduler(name="g", builderNames=["a"]))]


def unregex(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__regex__"}:
            return value["__regex__"]
        return {k: unregex(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unregex(v) for v in value]
    return value


def test_spec_equals_the_reference() -> None:
    expected = unregex(json.loads(REFERENCE.read_text()))
    got = json.loads(json.dumps([forcescheduler_message(s) for s in reference_like()],
                                default=lambda o: "<callable>"))
    assert got == expected


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "a b"}, "ForceScheduler name must be an identifier: 'a b'"),
    ({"builderNames": "x"}, "ForceScheduler 'f': builderNames must be a list of strings: 'x'"),
    ({"username": "me"}, "ForceScheduler 'f': username must be a StringParameter: 'me'"),
    ({"reason": 1}, "ForceScheduler 'f': reason must be a StringParameter: 1"),
    ({"properties": [1]}, "ForceScheduler 'f': properties must be a list of BaseParameters: [1]"),
    ({"priority": StringParameter("p")},
     "ForceScheduler 'f': priority must be a IntParameter: "),
    ({"codebases": []}, "ForceScheduler 'f': 'codebases' cannot be empty; use "
                        "[CodebaseParameter(codebase='', hide=True)] if needed: [] "),
    ({"codebases": [1]}, "ForceScheduler 'f': 'codebases' must be a list of strings or "
                         "CodebaseParameter objects: [1]"),
])
def test_config_errors(kwargs: dict[str, Any], message: str) -> None:
    args = {"name": "f", "builderNames": ["a"], **kwargs}
    with pytest.raises(ConfigErrors) as e, capture_config_errors(raise_on_error=True):
        ForceScheduler(**args)
    assert e.value.errors[-1].startswith(message)


def test_reserved_parameter_name() -> None:
    with pytest.raises(ConfigErrors) as e, capture_config_errors(raise_on_error=True):
        StringParameter("owner")
    assert e.value.errors == [
        "owner cannot be used as a parameter name, because it is reserved"]


async def force_sched(stack: Stack, **kwargs: Any) -> ForceScheduler:
    stack.master.config.validation = {  # what the config loader sets by default
        "branch": __import__("re").compile(r"^[\w.+/~-]*$"),
        "revision": __import__("re").compile(r"^[ \w\.\-/]*$"),
        "property_name": __import__("re").compile(r"^[\w\.\-/~:]*$"),
        "property_value": __import__("re").compile(r"^[\w\.\-/~:]*$"),
    }
    return await start(stack, ForceScheduler(name="force", builderNames=["b1", "b2"],
                                             **kwargs))


@pytest_twisted.ensureDeferred
async def test_force_creates_a_buildset_with_form_values(stack: Stack) -> None:
    sched = await force_sched(stack, properties=[
        StringParameter("color"), IntParameter("n"), BooleanParameter("flag"),
        AnyPropertyParameter("any"), NestedParameter("grp", fields=[StringParameter("x")])])
    try:
        bsid, brids = await sched.force(
            "me <me@example.org>", builderNames=["b1"], reason="because", priority="3",
            color="red", n="7", flag=True, any_name="free", any_value="val", grp_x="in",
            branch="dev", revision="abc", repository="https://r", project="p")
        bs = await stack.data.get(("buildsets", bsid))
        assert bs["reason"] == "A build was forced by 'me <me@example.org>': because"
        assert [(ss["branch"], ss["revision"], ss["repository"], ss["project"])
                for ss in bs["sourcestamps"]] == [("dev", "abc", "https://r", "p")]
        assert list(brids) == [await stack.updates.findBuilderId("b1")]
        props = await stack.data.get(("buildsets", bsid, "properties"))
        assert props == {
            "color": ("red", "Force Build Form"), "n": (7, "Force Build Form"),
            "flag": (True, "Force Build Form"), "free": ("val", "Force Build Form"),
            "grp": ({"x": "in"}, "Force Build Form"),
            "reason": ("because", "Force Build Form"),
            "owner": ("me <me@example.org>", "Force Build Form"),
            "scheduler": ("force", "Scheduler")}
        brs = await stack.data.get(("buildrequests",))
        assert {br["priority"] for br in brs} == {3}
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_force_collects_every_validation_error(stack: Stack) -> None:
    sched = await force_sched(stack, properties=[
        StringParameter("req", required=True), IntParameter("n"),
        ChoiceStringParameter("c", choices=["a"]), AnyPropertyParameter("any")])
    try:
        with pytest.raises(CollectedValidationError) as e:
            await sched.force(None, username="nobody", n="x", c="z", any_name="bad name",
                              any_value="v")
        assert e.value.errors == {
            "username": "username: please fill in email address in the form "
                        "'User <email@email.com>'",
            "req": "'req' needs to be specified",
            "n": "invalid literal for int() with base 10: 'x'",
            "c": "'z' does not belong to list of available choices '['a']'",
            "any": "bad property name='bad name', value='v'"}
        assert await stack.data.get(("buildsets",)) == []
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_force_through_the_data_api_with_builderid(stack: Stack) -> None:
    sched = await force_sched(stack)
    stack.data.force_scheduler_source = lambda: [sched]
    try:
        b2 = await stack.updates.findBuilderId("b2")
        bsid, brids = await stack.data.control(
            "force", {"owner": "web <w@example.org>", "builderid": b2},
            ("forceschedulers", "force"))
        assert list(brids) == [b2]
        bs = await stack.data.get(("buildsets", bsid))
        assert bs["reason"] == "A build was forced by 'web <w@example.org>': force build"
        assert [(ss["branch"], ss["revision"]) for ss in bs["sourcestamps"]] == [("", "")]
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_force_refuses_unknown_builders(stack: Stack) -> None:
    sched = await force_sched(stack)
    try:
        with pytest.raises(KeyError):
            await sched.force("me <me@example.org>", builderNames=["nope"])
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_force_with_patch_and_several_codebases(stack: Stack) -> None:
    sched = await force_sched(stack, codebases=[
        CodebaseParameter("a", patch=PatchParameter()), CodebaseParameter("b", branch="fixed")])
    try:
        bsid, _ = await sched.force("me <me@example.org>", a_branch="x",
                                    a_patch_body=b"diff", a_patch_level="0")
        bs = await stack.data.get(("buildsets", bsid))
        stamps = {ss["codebase"]: ss for ss in bs["sourcestamps"]}
        assert stamps["a"]["branch"] == "x"
        assert stamps["a"]["patch"]["level"] == 0
        assert stamps["b"]["branch"] == "fixed"
    finally:
        await stop(sched)


def test_type_checks_are_overridable_methods() -> None:
    from buildbot.schedulers.forcesched import ForceScheduler, StringParameter

    sched = ForceScheduler(name="f", builderNames=["b"])
    assert sched.checkIfType("x", str) and not sched.checkIfType(1, str)
    assert sched.checkIfListOfType(["a", "b"], str)
    assert sched.checkIfListOfType([], str)
    assert not sched.checkIfListOfType(("a",), str)  # a tuple is not a list
    assert not sched.checkIfListOfType(["a", 1], str)

    class Lenient(ForceScheduler):
        def checkIfListOfType(self, obj, chkType):
            return isinstance(obj, (list, tuple)) and all(isinstance(i, chkType) for i in obj)

    # 4.3 rejects a tuple of builder names; a subclass that widens the check accepts it
    Lenient(name="g", builderNames=("b",), properties=(StringParameter(name="p"),))
