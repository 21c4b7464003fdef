"""Periodic, Nightly and NightlyTriggerable on the real data stack with a task.Clock."""

from __future__ import annotations

import datetime
import time

import pytest
import pytest_twisted

from buildbot.config.errors import ConfigErrors, capture_config_errors
from buildbot.process.properties import Properties
from buildbot.schedulers.timed import Nightly, NightlyTriggerable, Periodic, Timed, _cron_field
from tests.fixtures.stack import Stack
from tests.schedulers.harness import buildsets, start, stop


async def advance(stack: Stack, sched: Timed, *steps: float) -> None:
    """Advance the clock step by step, letting each run finish (and the next be scheduled)."""
    for step in steps:
        stack.clock.advance(step)
        await sched.tasks.wait()


def local_epoch(*fields: int) -> int:
    """Epoch of a local time (the cron fields are local time, as in the reference)."""
    return int(time.mktime(datetime.datetime(*fields).timetuple()))


@pytest_twisted.ensureDeferred
async def test_periodic_builds_at_once_then_every_interval(stack: Stack) -> None:
    sched = await start(stack, Periodic(name="p", builderNames=["b1"], periodicBuildTimer=100))
    try:
        stack.clock.advance(0)  # "as soon as possible" is a 0 s timer
        assert len(await buildsets(stack, sched)) == 1
        stack.clock.advance(99)
        assert len(await buildsets(stack, sched)) == 1
        stack.clock.advance(1)
        got = await buildsets(stack, sched)
        assert [b["reason"] for b in got] == [
            "The Periodic scheduler named 'p' triggered this build"] * 2
        oid = await stack.updates.getObjectId("p", "Periodic")
        assert await stack.updates.getState(oid, "last_build") == stack.clock.seconds()
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_periodic_restart_waits_for_the_rest_of_the_interval(stack: Stack) -> None:
    sched = await start(stack, Periodic(name="p", builderNames=["b1"], periodicBuildTimer=100))
    stack.clock.advance(0)
    await sched.tasks.wait()
    await stop(sched)
    stack.clock.advance(30)
    sched = await start(stack, Periodic(name="p", builderNames=["b1"], periodicBuildTimer=100),
                        builders=())
    try:
        assert len(await buildsets(stack, sched)) == 1
        stack.clock.advance(69)
        assert len(await buildsets(stack, sched)) == 1
        stack.clock.advance(1)
        assert len(await buildsets(stack, sched)) == 2
    finally:
        await stop(sched)


@pytest.mark.parametrize(("value", "dow", "expected"), [
    (0, False, "0"), ("*", False, "*"), ([1, 15], False, "1,15"), (0, True, "1"),
    (6, True, "0"), ([0, 4], True, "1,5"), ("*", True, "*"), ("1,2", True, "2,3"),
])
def test_cron_fields(value: object, dow: bool, expected: str) -> None:
    assert _cron_field(value, day_of_week=dow) == expected


def test_nightly_next_times_follow_the_fields(stack: Stack) -> None:
    sched = Nightly(name="n", builderNames=["b1"], hour=[3, 15], minute=30)
    sched.reconfigService(*sched._config_args, **sched._config_kwargs)
    start_at = local_epoch(2024, 5, 6, 10, 0)  # a Monday
    assert sched.getNextBuildTime(start_at) == local_epoch(2024, 5, 6, 15, 30)
    assert sched.getNextBuildTime(local_epoch(2024, 5, 6, 15, 30)) == \
        local_epoch(2024, 5, 7, 3, 30)
    weekly = Nightly(name="w", builderNames=["b1"], dayOfWeek=0, hour=1, minute=0)
    weekly.reconfigService(*weekly._config_args, **weekly._config_kwargs)
    assert weekly.getNextBuildTime(start_at) == local_epoch(2024, 5, 13, 1, 0)


@pytest_twisted.ensureDeferred
async def test_nightly_only_if_changed_skips_quiet_days(stack: Stack) -> None:
    stack.clock.advance(local_epoch(2030, 1, 1, 12, 0) - stack.clock.seconds())
    sched = await start(stack, Nightly(name="n", builderNames=["b1"], hour=13, minute=0,
                                       onlyIfChanged=True, branch="main"))
    try:
        await advance(stack, sched, 3600)  # the first run always builds
        assert len(await buildsets(stack, sched)) == 1
        await advance(stack, sched, 86400)  # nothing changed
        assert len(await buildsets(stack, sched)) == 1
        await stack.make_change(branch="other", revision="o1")
        await stack.make_change(branch="main", revision="m1")
        await sched.tasks.wait()
        stack.clock.advance(86400)
        got = await buildsets(stack, sched)
        assert [b["revisions"] for b in got] == [[None], ["m1"]]
        oid = await stack.updates.getObjectId("n", "Nightly")
        # Stored only when it differs from the default (True), as in the reference.
        assert await stack.updates.getState(oid, "last_only_if_changed", None) is None
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_nightly_force_at_builds_without_changes(stack: Stack) -> None:
    stack.clock.advance(local_epoch(2030, 1, 1, 12, 0) - stack.clock.seconds())
    sched = await start(stack, Nightly(name="n", builderNames=["b1"], hour=[13, 14],
                                       minute=0, onlyIfChanged=True, force_at_hour=14))
    try:
        # 13:00 first run, 14:00 forced, 13:00 next day skipped
        await advance(stack, sched, 3600, 3600, 82800)
        assert len(await buildsets(stack, sched)) == 2
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_nightly_triggerable_builds_only_when_triggered(stack: Stack) -> None:
    stack.clock.advance(local_epoch(2030, 1, 1, 12, 0) - stack.clock.seconds())
    sched = await start(stack, NightlyTriggerable(name="nt", builderNames=["b1"], hour=13,
                                                  minute=0))
    try:
        stack.clock.advance(3600)
        assert await buildsets(stack, sched) == []
        props = Properties()
        props.setProperty("reason", "later", "Trigger")
        ids, done = sched.trigger(False, [{"codebase": "", "revision": "abc", "branch": "b",
                                           "repository": "r", "project": ""}], props)
        assert await ids == (None, {})
        assert await done == 0
        stack.clock.advance(86400)
        got = await buildsets(stack, sched)
        assert [b["revisions"] for b in got] == [["abc"]]
        bsprops = await stack.data.get(("buildsets", got[0]["bsid"], "properties"))
        assert bsprops["reason"] == ("later", "Trigger")
        stack.clock.advance(86400)
        assert len(await buildsets(stack, sched)) == 1
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_nightly_triggerable_trigger_survives_a_restart(stack: Stack) -> None:
    stack.clock.advance(local_epoch(2030, 1, 1, 12, 0) - stack.clock.seconds())

    def make() -> NightlyTriggerable:
        return NightlyTriggerable(name="nt", builderNames=["b1"], hour=13, minute=0)

    sched = await start(stack, make())
    _, done = sched.trigger(False, [{"codebase": "", "revision": "abc"}])
    await done
    await stop(sched)
    sched = await start(stack, make(), builders=())
    try:
        stack.clock.advance(3600)
        assert [b["revisions"] for b in await buildsets(stack, sched)] == [["abc"]]
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_disabled_timed_scheduler_does_not_build(stack: Stack) -> None:
    sched = await start(stack, Periodic(name="p", builderNames=["b1"], periodicBuildTimer=10))
    try:
        stack.clock.advance(0)
        await sched.tasks.wait()
        await stack.data.control("enable", {"enabled": False}, ("schedulers", sched.serviceid))
        await sched.tasks.wait()
        stack.clock.advance(50)
        assert len(await buildsets(stack, sched)) == 1
        await stack.data.control("enable", {"enabled": True}, ("schedulers", sched.serviceid))
        await advance(stack, sched, 0, 0)  # the missed run happens at once
        assert len(await buildsets(stack, sched)) == 2
    finally:
        await stop(sched)


def test_periodic_timer_must_be_positive() -> None:
    with pytest.raises(ConfigErrors) as e, capture_config_errors(raise_on_error=True):
        Periodic(name="p", builderNames=["b"], periodicBuildTimer=0)
    assert e.value.errors == ["periodicBuildTimer must be positive"]


