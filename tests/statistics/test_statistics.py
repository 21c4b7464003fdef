"""buildbot.statistics on a real master with a LocalWorker: every capture class records, for
one real build, the values 4.3's captures record (series names, fields, context tags; times as
ISO 8601, durations in the asked unit), into a recording backend and, through the `influxdb`
client, into a local HTTP server standing in for InfluxDB."""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import pytest_twisted
from twisted.internet import defer, reactor
from twisted.web import resource, server

from buildbot.config.errors import capture_config_errors
from buildbot.errors import CaptureCallbackError
from buildbot.plugins import schedulers, statistics, steps, util, worker
from buildbot.statistics.storage_backends.base import StatsStorageBase
from tests.fixtures.master import running_master, wait_for_message


class Recorder(StatsStorageBase):
    """A backend keeping every call; `wait(n)` fires once n values arrived."""

    def __init__(self, captures: list[Any]) -> None:
        self.captures = captures
        self.calls: list[tuple[Any, str, Any]] = []
        self._lock = threading.Lock()
        self._waiters: list[tuple[int, defer.Deferred[None]]] = []

    def thd_postStatsValue(self, post_data: Any, series_name: str, context: Any = None) -> None:
        with self._lock:
            self.calls.append((post_data, series_name, context))
        reactor.callFromThread(self._check)

    def _check(self) -> None:
        for item in list(self._waiters):
            if len(self.calls) >= item[0]:
                self._waiters.remove(item)
                item[1].callback(None)

    async def wait(self, n: int) -> None:
        d: defer.Deferred[None] = defer.Deferred()
        self._waiters.append((n, d))
        self._check()
        d.addTimeout(20, reactor)
        await d


def all_captures() -> list[Any]:
    return [
        statistics.CaptureProperty("b", "answer"),
        statistics.CapturePropertyAllBuilders("ans.*", regex=True),
        statistics.CaptureBuildStartTime("b"),
        statistics.CaptureBuildStartTimeAllBuilders(),
        statistics.CaptureBuildEndTime("b"),
        statistics.CaptureBuildEndTimeAllBuilders(callback=lambda end: end.year),
        statistics.CaptureBuildDuration("b", report_in="minutes"),
        statistics.CaptureBuildDurationAllBuilders(),
        statistics.CaptureProperty("other", "answer"),  # another builder: records nothing
        statistics.CaptureData("tests", "b"),
        statistics.CaptureDataAllBuilders("tests", callback=lambda d: {"n": d["passed"] * 2}),
        statistics.CaptureData("other-data", "b"),  # another name: records nothing
    ]


class YieldMetrics(steps.BuildStep):
    """Posts a value through the StatsService, as a user's step would."""

    async def run(self) -> int:
        svc = self.master.namedServices["services"].namedServices["stats"]
        await svc.yieldMetricsValue("tests", {"passed": 21}, self.build.buildid)
        return util.SUCCESS


def config(backend: Any) -> dict[str, Any]:
    return {
        "workers": [worker.LocalWorker("local")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b"])],
        "builders": [util.BuilderConfig(name="b", workernames=["local"], factory=util.BuildFactory([
            steps.SetProperty(property="answer", value=42),
            steps.SetProperty(property="answer_text", value="forty-two"),
            YieldMetrics(name="yield"),
        ]))],
        "services": [statistics.StatsService(storage_backends=[backend], name="stats")],
    }


async def run_build(master: Any) -> dict[str, Any]:
    done = wait_for_message(master, ("builds", None, "finished"))
    await master.data.control("force", {"owner": "me"}, ("forceschedulers", "force"))
    _, build = await done
    return build


def expected_calls(build: dict[str, Any]) -> list[tuple[Any, str, Any]]:
    """What 4.3's captures record for `build` (written from its documented behaviour)."""
    ctx = {"builder_name": "b", "build_number": str(build["number"])}
    start, end = build["started_at"], build["complete_at"]
    seconds = (end - start).total_seconds()
    return [
        ({"name": "answer", "value": 42}, "b-answer", ctx),
        ({"name": "answer", "value": 42}, "b-answer", ctx),
        ({"name": "answer_text", "value": "forty-two"}, "b-answer_text", ctx),
        ({"start-time": start.isoformat()}, "b-build-times", ctx),
        ({"start-time": start.isoformat()}, "b-build-times", ctx),
        ({"end-time": end.isoformat()}, "b-build-times", ctx),
        ({"end-time": end.year}, "b-build-times", ctx),
        ({"duration": seconds / 60}, "b-build-times", ctx),
        ({"duration": seconds}, "b-build-times", ctx),
        ({"passed": 21}, "b-tests", ctx),
        ({"n": 42}, "b-tests", ctx),
    ]


def key(call: tuple[Any, str, Any]) -> str:
    return repr(call)


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_captures_record_the_values_of_a_real_build(tmp_path: Path) -> None:
    backend = Recorder(all_captures())
    async with running_master(tmp_path, config(backend)) as master:
        build = await run_build(master)
        expected = expected_calls(build)
        await backend.wait(len(expected))
        build = await master.data.get(("builds", build["buildid"]))
    assert build["started_at"].tzinfo is not None  # ISO strings carry +00:00, as in 4.3
    assert sorted(backend.calls, key=key) == sorted(expected, key=key)


class InfluxWrite(resource.Resource):
    """Answers the influxdb client's /write like InfluxDB 1.x (204), keeping each request."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, bytes, dict[str, Any]]] = []
        self.arrived: list[defer.Deferred[None]] = []

    def render_POST(self, request: Any) -> bytes:
        self.requests.append((request.uri.decode(), request.content.read(),
                              {k.decode(): v for k, v in request.requestHeaders.getAllRawHeaders()}))
        request.setResponseCode(204)
        request.setHeader(b"connection", b"close")  # no idle keep-alive left behind
        for d in self.arrived:
            if not d.called:
                d.callback(None)
        return b""


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_influx_storage_sends_line_protocol_points(tmp_path: Path) -> None:
    pytest.importorskip("influxdb", reason="the influxdb client (pip install influxdb) is "
                        "not installed")
    site = InfluxWrite()
    port = reactor.listenTCP(0, server.Site(site, timeout=None), interface="127.0.0.1")
    try:
        influx = statistics.InfluxStorageService(
            "127.0.0.1", port.getHost().port, "bb", "secret", "buildbot",
            captures=[statistics.CaptureBuildDuration("b"), statistics.CaptureProperty("b", "answer")])
        async with running_master(tmp_path, config(influx)) as master:
            build = await run_build(master)
            while len(site.requests) < 2:
                d: defer.Deferred[None] = defer.Deferred()
                site.arrived = [d]
                d.addTimeout(20, reactor)
                await d
    finally:
        await port.stopListening()
    seconds = (build["complete_at"] - build["started_at"]).total_seconds()
    tags = f"build_number={build['number']},builder_name=b"
    bodies = sorted(body.decode() for _, body, _ in site.requests)
    assert bodies == sorted([
        f"b-answer,{tags} name=\"answer\",value=42i\n",
        f"b-build-times,{tags} duration={seconds!r}\n",
    ])
    for uri, _, headers in site.requests:
        parsed = urlparse(uri)
        assert parsed.path == "/write"
        assert parse_qs(parsed.query)["db"] == ["buildbot"]
        auth = "Basic " + base64.b64encode(b"bb:secret").decode()
        assert headers["Authorization"] == [auth.encode()]


def test_bad_arguments() -> None:
    with capture_config_errors() as errors:
        statistics.CaptureBuildDuration("b", report_in="days")
    assert errors.errors == [
        ("Error during initialization of class CaptureBuildDuration. `report_in` parameter must "
         "be one of 'seconds', 'minutes' or 'hours'")]
    with pytest.raises(TypeError, match="Should be of type StatsStorageBase"):
        statistics.StatsService(storage_backends=["influx"], name="stats")


@pytest_twisted.ensureDeferred
async def test_missing_property_is_a_capture_error() -> None:
    class Data:
        async def get(self, path: tuple[Any, ...]) -> Any:
            return {"name": "b"} if path[0] == "builders" else {}

    class Master:
        data = Data()

    capture = statistics.CaptureProperty("b", "nope")
    capture.master = Master()
    with pytest.raises(CaptureCallbackError, match="The property nope not found for build "
                       "number 3 on builder b"):
        await capture.consume(None, {"builderid": 1, "buildid": 7, "number": 3})
