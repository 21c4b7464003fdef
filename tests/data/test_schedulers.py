"""schedulers, change sources and force schedulers."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted

from buildbot.data.exceptions import (
    ControlParamsError,
    InvalidControlException,
    InvalidPathError,
)
from buildbot.data.forceschedulers import forcescheduler_entity
from buildbot.data.schedulers import scheduler_entity
from tests.fixtures.stack import MASTER_NAME, Stack, at


def master_body(stack: Stack) -> dict[str, Any]:
    return {"masterid": stack.masterid, "name": MASTER_NAME, "active": True,
            "last_active": at()}


@pytest_twisted.ensureDeferred
async def test_schedulers_getters_claims_and_enable(stack: Stack) -> None:
    s1 = await stack.updates.findSchedulerId("nightly")
    s2 = await stack.updates.findSchedulerId("force")
    other = await stack.updates.findMasterId("other:/m")
    assert await stack.updates.findSchedulerId("nightly") == s1
    assert await stack.updates.trySetSchedulerMaster(s1, stack.masterid) is True
    assert await stack.updates.trySetSchedulerMaster(s1, stack.masterid) is True
    assert await stack.updates.trySetSchedulerMaster(s1, other) is False
    seen = stack.mq_record(("schedulers", None, None))

    assert await stack.data.control("enable", {"enabled": False}, ("schedulers", s1)) is None
    # Buildbot 4.3 accepts any action and unknown ids (docs/differences.md).
    with pytest.raises(InvalidControlException):
        await stack.data.control("whatever", {}, ("schedulers", s1))
    with pytest.raises(InvalidPathError):
        await stack.data.control("enable", {"enabled": True}, ("schedulers", 999))
    with pytest.raises(ControlParamsError):
        await stack.data.control("enable", {}, ("schedulers", s1))

    nightly = {"schedulerid": s1, "name": "nightly", "enabled": False,
               "master": master_body(stack)}
    force = {"schedulerid": s2, "name": "force", "enabled": True, "master": None}
    assert seen == [(("schedulers", str(s1), "updated"), nightly)]
    assert scheduler_entity.invalid_fields(nightly) == []
    assert await stack.data.get(("schedulers", s1)) == nightly
    assert await stack.data.get(("masters", stack.masterid, "schedulers", s1)) == nightly
    assert await stack.data.get(("masters", stack.masterid, "schedulers", s2)) is None
    assert await stack.data.get(("masters", stack.masterid, "schedulers", 999)) is None
    assert await stack.data.get(("schedulers",)) == [nightly, force]
    assert await stack.data.get(("masters", stack.masterid, "schedulers")) == [nightly]
    assert await stack.updates.trySetSchedulerMaster(s1, None) is True
    assert (await stack.data.get(("schedulers", s1)))["master"] is None


@pytest_twisted.ensureDeferred
async def test_changesources(stack: Stack) -> None:
    c1 = await stack.updates.findChangeSourceId("gitpoller")
    c2 = await stack.updates.findChangeSourceId("svnpoller")
    other = await stack.updates.findMasterId("other:/m")
    assert await stack.updates.trySetChangeSourceMaster(c1, stack.masterid) is True
    assert await stack.updates.trySetChangeSourceMaster(c1, other) is False

    git = {"changesourceid": c1, "name": "gitpoller", "master": master_body(stack)}
    svn = {"changesourceid": c2, "name": "svnpoller", "master": None}
    assert await stack.data.get(("changesources", c1)) == git
    assert await stack.data.get(("masters", stack.masterid, "changesources", c1)) == git
    assert await stack.data.get(("masters", stack.masterid, "changesources", 999)) is None
    assert await stack.data.get(("changesources",)) == [git, svn]
    assert await stack.data.get(("masters", stack.masterid, "changesources")) == [git]


class Param:
    def __init__(self, name: str) -> None:
        self.name = name

    def getSpec(self) -> dict[str, Any]:
        return {"name": self.name, "fullName": self.name, "type": "text"}


class ValidationFailed(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid")
        self.errors = errors


class ForceSchedulerStandIn:
    """What the data layer uses of a configured ForceScheduler (a process-layer object)."""

    def __init__(self, name: str, builderNames: list[str]) -> None:
        self.name, self.buttonName, self.label = name, "Go", f"Force {name}"
        self.builderNames, self.enabled = builderNames, True
        self.all_fields = [Param("reason")]
        self.forced: list[dict[str, Any]] = []

    async def force(self, owner: str, builderNames: list[str] | None = None,
                    builderid: int | None = None, **kwargs: Any) -> Any:
        if kwargs.get("reason") == "":
            raise ValidationFailed({"reason": "required"})
        self.forced.append(dict(owner=owner, builderid=builderid, **kwargs))
        return (1, {2: 3})


@pytest_twisted.ensureDeferred
async def test_forceschedulers(stack: Stack) -> None:
    linux = await stack.make_builder("linux")
    win = await stack.make_builder("win")
    f1 = ForceSchedulerStandIn("force", ["linux"])
    f2 = ForceSchedulerStandIn("force_all", ["linux", "win"])
    assert await stack.data.get(("forceschedulers",)) == []
    stack.data.force_scheduler_source = lambda: [f1, f2]

    body = {"all_fields": [{"name": "reason", "fullName": "reason", "type": "text"}],
            "name": "force", "button_name": "Go", "label": "Force force",
            "builder_names": ["linux"], "enabled": True}
    assert forcescheduler_entity.invalid_fields(body) == []
    assert await stack.data.get(("forceschedulers", "force")) == body
    assert await stack.data.get(("forceschedulers", "nope")) is None
    assert [s["name"] for s in await stack.data.get(("forceschedulers",))] == \
        ["force", "force_all"]
    assert [s["name"] for s in await stack.data.get(("builders", win, "forceschedulers"))] \
        == ["force_all"]
    assert len(await stack.data.get(("builders", linux, "forceschedulers"))) == 2
    assert await stack.data.get(("builders", 999, "forceschedulers")) == []  # 4.3: 500

    result = await stack.data.control("force", {"reason": "try", "builderid": linux},
                                      ("forceschedulers", "force"))
    assert result == (1, {2: 3})
    assert f1.forced == [{"owner": "user", "builderid": linux, "reason": "try"}]
    with pytest.raises(ControlParamsError) as e:
        await stack.data.control("force", {"reason": "", "owner": "me"},
                                 ("forceschedulers", "force"))
    assert e.value.errors == {"reason": "required"}
    with pytest.raises(InvalidControlException):  # (4.3: None)
        await stack.data.control("other", {}, ("forceschedulers", "force"))
    with pytest.raises(InvalidPathError):
        await stack.data.control("force", {}, ("forceschedulers", "nope"))
