"""Value types of times, as Buildbot 4.3 gives them to Python code: every `datetime` field
of the data API is an aware UTC datetime in getter results and in the bodies in-process mq
consumers receive; the fields 4.3 declares as integers (buildset times, change and commit
`when_timestamp`) stay epoch seconds."""

from __future__ import annotations

import datetime
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest_twisted

from buildbot.util.results import SUCCESS
from buildbot.util.resultspec import Filter
from tests.fixtures.stack import START_TIME, Stack, at

REFERENCE = json.loads((Path(__file__).parent / "reference_application_spec.json").read_text())

TIME_FIELDS = frozenset({"started_at", "complete_at", "submitted_at", "claimed_at",
                         "last_active", "created_at", "locks_acquired_at"})
# Time fields Buildbot 4.3 declares as integers: {resource type: fields}.
EPOCH_FIELDS = {"buildset": frozenset({"submitted_at", "complete_at"}),
                "change": frozenset({"when_timestamp"}), "commit": frozenset({"when_timestamp"})}


def reference_datetime_fields() -> dict[str, frozenset[str]]:
    """{resource type name: fields typed `datetime` in Buildbot 4.3's /application.spec}."""
    out: dict[str, frozenset[str]] = {}
    for endpoint in REFERENCE["spec"]:
        fields = endpoint["type_spec"].get("fields", [])
        out[endpoint["type"]] = frozenset(
            f["name"] for f in fields if f["type"] in ("datetime", "datetime or None"))
    return out


def is_utc_datetime(value: Any) -> bool:
    return isinstance(value, datetime.datetime) and \
        value.utcoffset() == datetime.timedelta(0)


def check_times(value: Any, epoch_fields: frozenset[str], seen: Counter[str],
                where: str) -> None:
    """Assert the type of every time field in `value` (nested resources included), counting
    the non-null ones in `seen`."""
    if isinstance(value, list):
        for item in value:
            check_times(item, epoch_fields, seen, where)
        return
    if not isinstance(value, dict):
        return
    for key, v in value.items():
        if key in epoch_fields:
            assert v is None or type(v) is int, (where, key, v)
            seen[f"epoch {key}"] += v is not None
        elif key in TIME_FIELDS:
            assert v is None or is_utc_datetime(v), (where, key, v)
            seen[key] += v is not None
        elif isinstance(v, (dict, list)) and key != "properties":
            check_times(v, frozenset(), seen, where)


async def workload(stack: Stack) -> dict[str, int]:
    """A finished build with a finished step, its completed request and buildset, a change,
    a scheduler and a change source owned by the master; returns the ids."""
    schedid = await stack.updates.findSchedulerId("sched")
    await stack.updates.trySetSchedulerMaster(schedid, stack.masterid)
    csid = await stack.updates.findChangeSourceId("poller")
    await stack.updates.trySetChangeSourceMaster(csid, stack.masterid)
    changeid = await stack.make_change()
    build = await stack.make_build()
    stack.clock.advance(1)
    stepid, _, _ = await stack.updates.addStep(build.id, "compile")
    await stack.updates.startStep(stepid)
    await stack.updates.set_step_locks_acquired_at(stepid)
    stack.clock.advance(1)
    await stack.updates.finishStep(stepid, SUCCESS, False)
    await stack.updates.finishBuild(build.id, SUCCESS)
    await stack.updates.completeBuildRequests([build.buildrequestid], SUCCESS)
    br = await stack.data.get(("buildrequests", build.buildrequestid))
    bs = await stack.data.get(("buildsets", br["buildsetid"]))
    return {"buildid": build.id, "stepid": stepid, "brid": build.buildrequestid,
            "bsid": bs["bsid"], "ssid": bs["sourcestamps"][0]["ssid"], "changeid": changeid,
            "schedid": schedid, "csid": csid}


def test_datetime_fields_are_those_of_buildbot_4_3(stack: Stack) -> None:
    reference = reference_datetime_fields()
    ours = {name: rtype.datetime_fields for name, rtype in stack.data.rtypes_by_name.items()}
    assert {k: v for k, v in ours.items() if v} == {k: v for k, v in reference.items() if v}
    assert ours["build"] == {"started_at", "complete_at"}  # (the list is not empty)


@pytest_twisted.ensureDeferred
async def test_getters_give_aware_utc_datetimes_for_time_fields(stack: Stack) -> None:
    i = await workload(stack)
    paths = [
        ("builds",), ("builds", i["buildid"]), ("builds", i["buildid"], "steps"),
        ("steps", i["stepid"]), ("buildrequests",), ("buildrequests", i["brid"]),
        ("buildsets",), ("buildsets", i["bsid"]), ("buildsets", i["bsid"], "sourcestamps"),
        ("sourcestamps",), ("sourcestamps", i["ssid"]), ("changes",),
        ("changes", i["changeid"]), ("masters",), ("masters", stack.masterid),
        ("schedulers",), ("schedulers", i["schedid"]), ("changesources",),
        ("changesources", i["csid"]),
    ]
    seen: Counter[str] = Counter()
    for path in paths:
        rtype = stack.data.getEndpoint(path)[0].rtype.name
        check_times(await stack.data.get(path), EPOCH_FIELDS.get(rtype, frozenset()), seen,
                    "/".join(map(str, path)))
    assert set(seen) == TIME_FIELDS | {"epoch submitted_at", "epoch complete_at",
                                       "epoch when_timestamp"}
    assert 0 not in seen.values(), seen  # every kind of field was seen with a value

    build = await stack.data.get(("builds", i["buildid"]))
    assert (build["started_at"], build["complete_at"]) == (at(), at(2))
    assert build["complete_at"].timestamp() == START_TIME + 2  # what dashboards call
    bs = await stack.data.get(("buildsets", i["bsid"]))
    assert (bs["submitted_at"], bs["complete_at"]) == (START_TIME, START_TIME + 2)


@pytest_twisted.ensureDeferred
async def test_in_process_messages_carry_datetimes_where_getters_do(stack: Stack) -> None:
    seen = stack.mq_record(*[(None,) * n for n in range(2, 9)])
    await workload(stack)

    counts: Counter[str] = Counter()
    for key, body in seen:
        rtype = {"builds": "build", "steps": "step", "buildrequests": "buildrequest",
                 "buildsets": "buildset", "changes": "change", "masters": "master",
                 "schedulers": "scheduler"}.get(key[-3] if len(key) >= 3 else "", "")
        epochs = EPOCH_FIELDS.get(rtype, frozenset())
        if key[0] == "buildsets" and key[-1] == "complete" and len(key) == 3:
            epochs = frozenset()  # Buildbot 4.3's `complete` message carries datetimes
        check_times(body, epochs, counts, "/".join(key))
    assert {"started_at", "complete_at", "submitted_at", "claimed_at", "created_at",
            "locks_acquired_at", "epoch submitted_at", "epoch when_timestamp"} <= set(counts)
    buildsets = {k[-1]: b for k, b in seen if k[0] == "buildsets" and len(k) == 3}
    new, complete = buildsets["new"], buildsets["complete"]
    assert (new["submitted_at"], complete["submitted_at"], complete["complete_at"]) == \
        (START_TIME, at(), at(2))


@pytest_twisted.ensureDeferred
async def test_in_memory_filter_on_a_time_field_takes_epoch_or_datetime(stack: Stack) -> None:
    build = await stack.make_build()
    first = await stack.make_step(build.id, "first")
    stack.clock.advance(10)
    second = await stack.make_step(build.id, "second")

    for since in (START_TIME + 5, at(5)):
        # (steps of a build are filtered in memory, not in SQL)
        later = await stack.data.get(("builds", build.id, "steps"),
                                     filters=[Filter("started_at", "gt", [since])])
        assert [(s["stepid"], s["started_at"]) for s in later] == [(second.id, at(10))]
    ordered = await stack.data.get(("builds", build.id, "steps"), order=["-started_at"])
    assert [s["stepid"] for s in ordered] == [second.id, first.id]
