"""Times in the db API, as in Buildbot 4.3: models carry aware UTC datetimes (the columns
hold epoch seconds), and the methods taking a time accept a datetime (aware, or naive
meaning UTC) as well as epoch seconds."""

from __future__ import annotations

import dataclasses
import datetime
import typing
from typing import Any

import pytest
import pytest_twisted
import sqlalchemy as sa

from buildbot.db.buildrequests import BuildRequestModel
from buildbot.db.builds import BuildModel
from buildbot.db.buildsets import BuildSetModel
from buildbot.db.changes import ChangeModel
from buildbot.db.connector import DBConnector
from buildbot.db.masters import MasterModel
from buildbot.db.sourcestamps import SourceStampModel
from buildbot.db.steps import StepModel
from buildbot.util.results import SUCCESS
from tests.db import rows

pytestmark = pytest.mark.db

NOW = 1_700_000_000
UTC = datetime.UTC

# The time fields of Buildbot 4.3's db models.
MODEL_TIMES: dict[type, set[str]] = {
    BuildModel: {"started_at", "complete_at"},
    StepModel: {"started_at", "locks_acquired_at", "complete_at"},
    BuildRequestModel: {"submitted_at", "complete_at", "claimed_at"},
    BuildSetModel: {"submitted_at", "complete_at"},
    ChangeModel: {"when_timestamp"},
    MasterModel: {"last_active"},
    SourceStampModel: {"created_at"},
}


@pytest.mark.parametrize("model", list(MODEL_TIMES), ids=lambda m: m.__name__)
def test_time_fields_of_models_are_datetimes(model: type) -> None:
    hints = typing.get_type_hints(model)
    datetimes = {name for name, hint in hints.items()
                 if datetime.datetime in (typing.get_args(hint) or (hint,))}
    assert datetimes == MODEL_TIMES[model]


def times_of(model: Any) -> dict[str, Any]:
    return {f.name: getattr(model, f.name) for f in dataclasses.fields(model)
            if f.name in MODEL_TIMES[type(model)]}


@pytest_twisted.ensureDeferred
async def test_models_give_the_stored_seconds_as_aware_utc_datetimes(db: DBConnector) -> None:
    db.clock.advance(NOW)
    masterid = await rows.master(db)
    await db.masters.setMasterState(masterid, True)
    changeid = await db.changes.addChange(author="a", repository="r", project="p",
                                          when_timestamp=NOW - 50)
    _, brid, buildid = await rows.build(db)
    await db.buildrequests.claimBuildRequests([brid])
    stepid, _, _ = await db.steps.addStep(buildid, "s", "pending")
    await db.steps.startStep(stepid, started_at=NOW + 1, locks_acquired=True)
    db.clock.advance(5)
    await db.steps.finishStep(stepid, SUCCESS, False)
    await db.builds.finishBuild(buildid, SUCCESS)
    await db.buildrequests.completeBuildRequests([brid], SUCCESS)
    br = await db.buildrequests.getBuildRequest(brid)
    assert br is not None
    await db.buildsets.completeBuildset(br.buildsetid, SUCCESS)
    change = await db.changes.getChange(changeid)
    assert change is not None

    models = [await db.builds.getBuild(buildid), await db.steps.getStep(stepid), br,
              await db.buildsets.getBuildset(br.buildsetid), change,
              await db.masters.getMaster(masterid),
              await db.sourcestamps.getSourceStamp(change.sourcestampid)]
    got = {type(m).__name__: times_of(m) for m in models}

    def t(seconds: int) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(seconds, UTC)

    assert got == {
        "BuildModel": {"started_at": t(NOW), "complete_at": t(NOW + 5)},
        "StepModel": {"started_at": t(NOW + 1), "locks_acquired_at": t(NOW + 1),
                      "complete_at": t(NOW + 5)},
        "BuildRequestModel": {"submitted_at": t(NOW), "claimed_at": t(NOW),
                              "complete_at": t(NOW + 5)},
        "BuildSetModel": {"submitted_at": t(NOW), "complete_at": t(NOW + 5)},
        "ChangeModel": {"when_timestamp": t(NOW - 50)},
        "MasterModel": {"last_active": t(NOW)},
        "SourceStampModel": {"created_at": t(NOW)},
    }
    for fields in got.values():
        for value in fields.values():
            assert value.tzinfo is not None and value.utcoffset() == datetime.timedelta(0)
    stored = await db.pool.run(lambda conn: conn.execute(
        sa.select(db.tables.builds.c.started_at)).scalar_one())
    assert stored == NOW  # the column keeps epoch seconds (the schema is 4.3's)


@pytest_twisted.ensureDeferred
async def test_times_may_be_given_as_datetimes(db: DBConnector) -> None:
    await rows.master(db)
    _, brid, _ = await rows.build(db)
    paris = datetime.timezone(datetime.timedelta(hours=1))
    await db.buildrequests.claimBuildRequests(
        [brid], claimed_at=datetime.datetime(2024, 1, 1, 13, 0, tzinfo=paris))
    await db.buildrequests.completeBuildRequests(
        [brid], SUCCESS, complete_at=datetime.datetime(2024, 1, 1, 12, 30))  # naive: UTC
    changeid = await db.changes.addChange(
        author="a", repository="r", project="p",
        when_timestamp=datetime.datetime(2024, 1, 1, 11, 0, tzinfo=UTC))

    br = await db.buildrequests.getBuildRequest(brid)
    change = await db.changes.getChange(changeid)
    assert br is not None and change is not None
    assert (br.claimed_at, br.complete_at, change.when_timestamp) == (
        datetime.datetime(2024, 1, 1, 12, 0, tzinfo=UTC),
        datetime.datetime(2024, 1, 1, 12, 30, tzinfo=UTC),
        datetime.datetime(2024, 1, 1, 11, 0, tzinfo=UTC))
