"""masters: getters, heartbeat updates, expiry and the housekeeping of dead masters."""

from __future__ import annotations

import pytest_twisted

from buildbot.data.masters import master_entity
from buildbot.util.resultspec import Filter
from tests.fixtures.stack import MASTER_NAME, START_TIME, Stack


@pytest_twisted.ensureDeferred
async def test_get_master_by_id_and_in_collection(stack: Stack) -> None:
    me = {"masterid": stack.masterid, "name": MASTER_NAME, "active": True,
          "last_active": START_TIME}
    assert await stack.data.get(("masters", stack.masterid)) == me
    assert await stack.data.get(("masters", str(stack.masterid))) == me
    assert await stack.data.get(("masters",)) == [me]
    assert master_entity.invalid_fields(me) == []
    assert await stack.data.get(("masters", 999)) is None


@pytest_twisted.ensureDeferred
async def test_master_active_announces_started_only_when_it_was_inactive(stack: Stack) -> None:
    other = await stack.updates.findMasterId("other:/m")
    seen = stack.mq_record(("masters", None, None))

    await stack.updates.masterActive("other:/m", other)
    await stack.updates.masterActive("other:/m", other)

    assert seen == [(("masters", str(other), "started"),
                     {"masterid": other, "name": "other:/m", "active": True})]


@pytest_twisted.ensureDeferred
async def test_last_active_filter_is_evaluated_on_epoch_seconds(stack: Stack) -> None:
    other = await stack.updates.findMasterId("other:/m")
    stack.clock.advance(100)
    await stack.updates.masterActive("other:/m", other)

    newer = await stack.data.get(("masters",), filters=[
        Filter("last_active", "gt", [START_TIME + 50])])

    assert [m["masterid"] for m in newer] == [other]
