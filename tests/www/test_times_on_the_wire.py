"""Times leave the master as epoch seconds (REST, WebSocket, SSE), as in Buildbot 4.3, while
the data API hands the same values to Python code as aware UTC datetimes."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import protocol

from buildbot.util.results import SUCCESS
from buildbot.util.timestamps import to_datetime
from buildbot.www.encoding import dumps
from tests.fixtures.master import running_master
from tests.www.harness import WsClient, http, with_timeout
from tests.www.test_sse_avatar import SseClient

pytestmark = pytest.mark.integration

TIME_FIELDS = {"started_at", "complete_at", "submitted_at", "claimed_at", "last_active",
               "created_at", "locks_acquired_at", "when_timestamp"}


def _config() -> dict[str, object]:
    # (multiMaster: a master without builders or workers is not a configuration error)
    return {"multiMaster": True, "www": {"port": "tcp:0:interface=127.0.0.1"}}


def epochs(value: Any) -> Any:
    """`value` (a data API result) as its JSON form should be: datetimes as epoch ints."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp())
    if isinstance(value, dict):
        return {k: epochs(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [epochs(v) for v in value]
    return value


def time_values(value: Any) -> list[Any]:
    """Every value of a time field in `value`, nested resources included."""
    if isinstance(value, list):
        return [t for v in value for t in time_values(v)]
    if not isinstance(value, dict):
        return []
    out = []
    for k, v in value.items():
        if k in TIME_FIELDS and v is not None:
            out.append(v)
        elif k != "properties":
            out += time_values(v)
    return out


async def finished_build(master: Any) -> tuple[int, int]:
    """(buildid, stepid) of a finished build with a finished step, and a change."""
    up = master.data.updates
    await up.addChange(author="me", comments="c", revision="r1", branch="main")
    builderid = await up.findBuilderId("b1")
    workerid = await up.findWorkerId("w1")
    _, brids = await up.addBuildset(waited_for=False, builderids=[builderid], sourcestamps=[
        {"codebase": "", "repository": "r", "branch": "main", "revision": "x", "project": ""}])
    await up.claimBuildRequests([brids[builderid]])
    buildid, _ = await up.addBuild(builderid, brids[builderid], workerid)
    stepid, _, _ = await up.addStep(buildid, "compile")
    await up.startStep(stepid, locks_acquired=True)
    await up.finishStep(stepid, SUCCESS, False)
    await up.finishBuild(buildid, SUCCESS)
    await up.completeBuildRequests([brids[builderid]], SUCCESS)
    return buildid, stepid


@pytest_twisted.ensureDeferred
async def test_rest_bodies_give_epoch_seconds(tmp_path: Path) -> None:
    async with running_master(tmp_path / "m", _config) as master:
        buildid, stepid = await finished_build(master)
        base = f"http://127.0.0.1:{master.www.port_number}/api/v2/"
        checked = 0
        for path in (("builds",), ("builds", buildid, "steps"), ("buildrequests",),
                     ("buildsets",), ("masters",), ("sourcestamps",), ("changes",),
                     ("schedulers",), ("steps", stepid)):
            for accept in ("application/json", "text/plain"):  # compact and indented
                res = await http.get(base + "/".join(map(str, path)),
                                     headers={"Accept": accept})
                assert res.code == 200, path
                body = json.loads(res.body)
                plural = next(k for k in body if k != "meta")
                # the same values as the data API's, datetimes as epoch ints
                got = await master.data.get(path)
                assert body[plural] == epochs(got if isinstance(got, list) else [got]), path
                sent = time_values(body[plural])
                assert all(type(v) is int for v in sent), (path, sent)
                checked += len(sent)
        assert checked > 20
        build = await master.data.get(("builds", buildid))
        assert isinstance(build["started_at"], datetime.datetime)


@pytest_twisted.ensureDeferred
async def test_websocket_and_sse_events_give_epoch_seconds(tmp_path: Path) -> None:
    from twisted.internet import reactor

    async with running_master(tmp_path / "m", _config) as master:
        base = f"http://127.0.0.1:{master.www.port_number}/"
        ws = await WsClient.connect(base.replace("http", "ws") + "ws")
        assert (await ws.call(cmd="startConsuming", path="builds/*/*", _id=1))["code"] == 200
        sse = SseClient("/sse/listen/builds/*/*")
        await protocol.ClientCreator(reactor, lambda: sse).connectTCP(
            "127.0.0.1", master.www.port_number)
        kind, _ = await with_timeout(sse.events.get(), "the SSE handshake")
        assert kind == "handshake"
        in_process: list[Any] = []
        consumer = await master.mq.startConsuming(lambda k, b: in_process.append(b),
                                                  ("builds", None, "finished"))
        try:
            buildid, _ = await finished_build(master)
            while True:
                event = await ws.next("the build's finished event")
                if event["k"] == f"builds/{buildid}/finished":
                    break
            while True:
                kind, data = await with_timeout(sse.events.get(), "the SSE finished event")
                sse_event = json.loads(data)
                if sse_event["key"] == ["builds", str(buildid), "finished"]:
                    break
        finally:
            consumer.stopConsuming()
            sse.transport.loseConnection()
            await ws.close()
        [body] = in_process  # in process: datetimes
        assert isinstance(body["started_at"], datetime.datetime)
        for sent in (event["m"], sse_event["message"]):
            assert sent == epochs(body)
            assert type(sent["started_at"]) is int and type(sent["complete_at"]) is int


@pytest.mark.parametrize("value", [
    to_datetime(1_700_000_000),  # from a database row: its epoch is known
    datetime.datetime(2023, 11, 14, 23, 13, 20, tzinfo=datetime.timezone(
        datetime.timedelta(hours=1))),  # made by user code, another zone
    datetime.datetime(2023, 11, 14, 22, 13, 20),  # naive: UTC
])
def test_json_encoding_of_a_datetime_is_its_epoch(value: datetime.datetime) -> None:
    assert json.loads(dumps({"t": value})) == {"t": 1_700_000_000}
