"""Run one workload through the data API of Buildbot 4.3 or of this project and print, as
JSON, every message produced and the answer of every getter path.

    /work/refvenv/bin/python tests/data/compare_reference.py ref  > ref.json
    /work/venv/bin/python tests/data/compare_reference.py ours > ours.json

`test_reference_comparison.py` runs both and compares them. The workload only uses the
data API's update methods, whose names and arguments both implementations share; the master
around the data connector is built by each implementation's own classes.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import json
import os
import sys
import tempfile
import warnings
from typing import Any

from twisted.internet import defer, reactor

MASTER_NAME = "compare:/basedir"
TIME_FIELDS = {"started_at", "complete_at", "submitted_at", "claimed_at", "last_active",
               "created_at", "locks_acquired_at"}  # (when_timestamp: fixed by the workload)


async def make_ref_master() -> Any:
    from buildbot.test.fake.fakemaster import FakeMaster

    from buildbot.config.master import DBConfig
    from buildbot.data.connector import DataConnector
    from buildbot.db.connector import DBConnector
    from buildbot.mq.simple import SimpleMQ

    warnings.resetwarnings()
    warnings.simplefilter("ignore")
    master = FakeMaster(reactor)
    master.basedir = tempfile.mkdtemp()
    master.db = DBConnector(master.basedir)
    await master.db.setServiceParent(master)
    master.db.configured_db_config = DBConfig("sqlite://")
    await master.db.set_master(master)
    await master.db.setup()
    await master.db.startService()  # starts the log compression thread pool
    master.mq = SimpleMQ()
    await master.mq.setServiceParent(master)
    master.data = DataConnector()
    await master.data.setServiceParent(master)
    master.masterid = await master.db.masters.findMasterId(MASTER_NAME)
    master.db.masterid = master.masterid  # no-op in 4.3 (uses master.masterid)
    return master


async def make_our_master() -> Any:
    from buildbot.config.master import MasterConfig
    from buildbot.data.connector import DataConnector
    from buildbot.db.connector import DBConnector
    from buildbot.mq.simple import SimpleMQ

    class Master:
        pass

    master: Any = Master()
    master.master = master
    master.reactor = reactor
    master.config = MasterConfig()
    master.db = DBConnector(tempfile.mkdtemp(), clock=reactor)
    await master.db.setup("sqlite://")
    await master.db.startService()
    master.mq = SimpleMQ()
    master.data = DataConnector(master)
    master.masterid = await master.data.updates.findMasterId(MASTER_NAME)
    master.db.masterid = master.masterid
    return master


async def workload(master: Any) -> dict[str, Any]:
    """Fill the database through update methods; returns the ids made."""
    from buildbot.process.properties import Properties

    u = master.data.updates
    m = master.masterid
    await u.masterActive(MASTER_NAME, m)
    projectid = await u.find_project_id("proj")
    await u.update_project_info(projectid, "proj", "A project", "markdown", "<p>A</p>")
    bid = await u.findBuilderId("linux")
    await u.updateBuilderInfo(bid, "Linux", None, None, projectid, ["fast"])
    await u.updateBuilderList(m, ["linux"])
    wid = await u.findWorkerId("w1")
    await u.workerConfigured(wid, m, [bid])
    await u.workerConnected(wid, m, {"admin": "me", "host": "box", "access_uri": None,
                                     "version": "4.3.0"})
    await u.set_worker_paused(wid, True, "why")
    await u.set_worker_paused(wid, False)
    schedid = await u.findSchedulerId("sched")
    await u.trySetSchedulerMaster(schedid, m)
    await u.schedulerEnable(schedid, True)
    csid = await u.findChangeSourceId("poller")
    await u.trySetChangeSourceMaster(csid, m)
    changeid = await u.addChange(
        author="me <me@example.org>", committer="me", files=["a.c"], comments="fix",
        revision="abc", when_timestamp=1700000000, branch="main", category="cat",
        repository="https://example.org/repo", project="proj", codebase="",
        properties={"color": "blue"})
    change = await master.data.get(("changes", changeid))
    ssid = change["sourcestamp"]["ssid"]
    bsid, brids = await u.addBuildset(
        waited_for=False, scheduler="sched", sourcestamps=[ssid], reason="because",
        properties={"a": (1, "Scheduler")}, builderids=[bid], external_idstring="ext")
    brid = brids[bid]
    await u.claimBuildRequests([brid])
    buildid, number = await u.addBuild(bid, brid, wid)
    await u.setBuildStateString(buildid, "starting")
    await u.generateNewBuildEvent(buildid)
    props = Properties()
    props.setProperty("owner", "me", "Force Build Form")
    await u.setBuildProperties(buildid, props)
    await u.setBuildProperty(buildid, "x", [1, 2], "Build")
    await u.add_build_locks_duration(buildid, 3)
    stepid, _, _ = await u.addStep(buildid, "compile")
    await u.startStep(stepid)
    await u.setStepStateString(stepid, "compiling")
    await u.addStepURL(stepid, "doc", "https://example.org/doc")
    await u.set_step_locks_acquired_at(stepid)
    logid = await u.addLog(stepid, "stdio", "s")
    await u.appendLog(logid, "hcmd\nohello\neoops\n")
    await u.finishLog(logid)
    htmlid = await u.addLog(stepid, "report", "h")
    await u.appendLog(htmlid, "<p>x</p>\n")
    await u.finishLog(htmlid)
    await u.setBuildData(buildid, "blob", b"\x00\x01", "Step")
    setid = await u.addTestResultSet(bid, buildid, stepid, "tests", "pass_fail", "boolean")
    await u.addTestResults(bid, setid, [
        {"test_name": "t1", "value": "1"},
        {"test_name": "t2", "test_code_path": "a.py", "line": 2, "duration_ns": 5,
         "value": "0"}])
    await u.completeTestResultSet(setid, 1, 1)
    await u.finishStep(stepid, 0, False)
    await u.setBuildStateString(buildid, "build successful")
    await u.finishBuild(buildid, 0)
    await u.completeBuildRequests([brid], 0)
    pending_bsid, pending = await u.addBuildset(
        waited_for=True, scheduler="sched",
        sourcestamps=[{"codebase": "", "repository": "https://example.org/repo",
                       "branch": "dev", "revision": None, "project": "proj"}],
        reason="pending", properties={}, builderids=[bid], parent_buildid=buildid,
        parent_relationship="trigger")
    cbid = await u.find_codebase_id(projectid=projectid, name="cb")
    await u.update_codebase_info(codebaseid=cbid, projectid=projectid, slug="cb")
    c1 = await u.add_commit(codebaseid=cbid, author="a", comments="one", when_timestamp=1,
                            revision="r1")
    c2 = await u.add_commit(codebaseid=cbid, author="a", comments="two", when_timestamp=2,
                            revision="r2", parent_commitid=c1)
    c3 = await u.add_commit(codebaseid=cbid, author="a", comments="three",
                            when_timestamp=3, revision="r3", parent_commitid=c1)
    await u.update_branch(codebaseid=cbid, name="main", commitid=c2, last_timestamp=4)
    await u.workerDisconnected(wid, m)
    return {"m": m, "projectid": projectid, "bid": bid, "wid": wid, "schedid": schedid,
            "csid": csid, "changeid": changeid, "ssid": ssid, "bsid": bsid, "brid": brid,
            "buildid": buildid, "number": number, "stepid": stepid, "logid": logid,
            "htmlid": htmlid, "setid": setid, "pending_bsid": pending_bsid,
            "pending_brid": pending[bid], "cbid": cbid, "c1": c1, "c2": c2, "c3": c3}


def paths(i: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Every getter path of the spec, with the workload's ids."""
    b, n, build, step, log = i["bid"], i["number"], i["buildid"], i["stepid"], i["logid"]
    out: list[tuple[Any, ...]] = [("application.spec",)]
    for prefix in [("builds", build), ("builders", b, "builds", n),
                   ("builders", "linux", "builds", n)]:
        out += [prefix, (*prefix, "steps"), (*prefix, "steps", "compile"),
                (*prefix, "steps", 0), (*prefix, "steps", 0, "logs"),
                (*prefix, "steps", "compile", "logs", "stdio"), (*prefix, "data"),
                (*prefix, "data", "blob"), (*prefix, "data", "blob", "value")]
    for prefix in [("logs", log), ("steps", step, "logs", "stdio"),
                   ("builds", build, "steps", "compile", "logs", "stdio"),
                   ("builders", b, "builds", n, "steps", 0, "logs", "stdio")]:
        out += [prefix, (*prefix, "contents"), (*prefix, "raw"), (*prefix, "raw_inline")]
    out += [
        ("logs", i["htmlid"], "raw"), ("logs", i["htmlid"], "raw_inline"),
        ("builders",), ("builders", b), ("builders", "linux"), ("masters", i["m"], "builders"),
        ("masters", i["m"], "builders", b), ("projects", i["projectid"], "builders"),
        ("workers", i["wid"], "builders"), ("builds",), ("builders", b, "builds"),
        ("builders", "linux", "builds"), ("buildrequests", i["brid"], "builds"),
        ("changes", i["changeid"], "builds"), ("workers", i["wid"], "builds"),
        ("builds", build, "triggered_builds"), ("builds", build, "properties"),
        ("builders", b, "builds", n, "properties"), ("builds", build, "property_list"),
        ("buildsets", i["bsid"], "properties"), ("buildsets", i["bsid"], "properties_list"),
        ("buildrequests",), ("buildrequests", i["brid"]), ("builders", b, "buildrequests"),
        ("buildrequests", i["pending_brid"]), ("buildsets",), ("buildsets", i["bsid"]),
        ("buildsets", i["pending_bsid"]), ("buildsets", i["bsid"], "sourcestamps"),
        ("sourcestamps",), ("sourcestamps", i["ssid"]), ("sourcestamps", i["ssid"], "changes"),
        ("changes",), ("changes", i["changeid"]), ("builds", build, "changes"),
        ("builders", b, "builds", n, "changes"), ("changesources",),
        ("changesources", i["csid"]), ("masters", i["m"], "changesources"),
        ("masters", i["m"], "changesources", i["csid"]), ("schedulers",),
        ("schedulers", i["schedid"]), ("masters", i["m"], "schedulers"),
        ("masters", i["m"], "schedulers", i["schedid"]), ("masters",), ("masters", i["m"]),
        ("builders", b, "masters"), ("builders", b, "masters", i["m"]), ("workers",),
        ("workers", i["wid"]), ("workers", "w1"), ("masters", i["m"], "workers"),
        ("masters", i["m"], "workers", "w1"), ("masters", i["m"], "builders", b, "workers"),
        ("masters", i["m"], "builders", b, "workers", i["wid"]), ("builders", b, "workers"),
        ("builders", b, "workers", "w1"), ("steps", step), ("steps", step, "logs"),
        ("projects",), ("projects", i["projectid"]), ("projects", "proj"),
        ("projects", i["projectid"], "codebases", "cb"), ("codebases",),
        ("codebases", i["cbid"]), ("codebases", i["cbid"], "commits"),
        ("commits", i["c2"]), ("codebases", i["cbid"], "commits_by_revision", "r2"),
        ("codebases", i["cbid"], "branches"),
        ("codebases", i["cbid"], "commit_range", i["c2"], i["c3"], "commits_common_parent"),
        ("codebases", i["cbid"], "commit_range", i["c1"], i["c2"], "test_result_sets"),
        ("test_result_sets",), ("test_result_sets", i["setid"]),
        ("builders", b, "test_result_sets"), ("builders", "linux", "test_result_sets"),
        ("builds", build, "test_result_sets"), ("steps", step, "test_result_sets"),
        ("test_result_sets", i["setid"], "results"),
        ("builds", 999), ("builders", "nope", "builds"),
        ("logs", 999, "contents"),
    ]
    return out


def db_getters(db: Any, i: dict[str, Any]) -> list[tuple[str, Any]]:
    """The db API calls (of both implementations) returning the models that carry times."""
    return [
        ("builds.getBuild", lambda: db.builds.getBuild(i["buildid"])),
        ("builds.getBuilds", lambda: db.builds.getBuilds()),
        ("steps.getStep", lambda: db.steps.getStep(stepid=i["stepid"])),
        ("buildrequests.getBuildRequest", lambda: db.buildrequests.getBuildRequest(i["brid"])),
        ("buildrequests.getBuildRequests", lambda: db.buildrequests.getBuildRequests()),
        ("buildsets.getBuildset", lambda: db.buildsets.getBuildset(i["bsid"])),
        ("buildsets.getBuildset pending", lambda: db.buildsets.getBuildset(i["pending_bsid"])),
        ("changes.getChange", lambda: db.changes.getChange(i["changeid"])),
        ("masters.getMaster", lambda: db.masters.getMaster(i["m"])),
        ("masters.getMasters", lambda: db.masters.getMasters()),
        ("sourcestamps.getSourceStamp", lambda: db.sourcestamps.getSourceStamp(i["ssid"])),
    ]


def normalize(value: Any, key: str | None = None) -> Any:
    """JSON-able, with the clock-dependent times replaced by their type: '<datetime UTC>' (an
    aware datetime in UTC), '<datetime other>' (naive or another zone) or '<epoch>' (an int
    in a time field)."""
    if isinstance(value, datetime.datetime):
        utc = value.utcoffset() == datetime.timedelta(0)
        return "<datetime UTC>" if utc else "<datetime other>"
    if key in TIME_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return "<epoch>"
    if isinstance(value, dict):
        return {k: normalize(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple, collections.UserList)):
        return [normalize(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return normalize(dataclasses.asdict(value))
    if isinstance(value, bytes):
        return {"<bytes>": value.decode("latin-1")}
    if hasattr(value, "__aiter__"):
        return "<stream>"
    return value


async def run(impl: str) -> dict[str, Any]:
    master = await (make_ref_master() if impl == "ref" else make_our_master())
    messages: list[Any] = []
    for length in range(2, 9):
        await master.mq.startConsuming(
            lambda k, b: messages.append([list(k), normalize(b)]), tuple([None] * length))
    ids = await workload(master)
    answers = {}
    for path in paths(ids):
        try:
            answers["/".join(map(str, path))] = normalize(await master.data.get(path))
        except Exception as e:  # noqa: BLE001  (the comparison reports it)
            answers["/".join(map(str, path))] = {"<error>": type(e).__name__}
    models = {}
    for name, get in db_getters(master.db, ids):
        try:
            models[name] = normalize(await get())
        except Exception as e:  # noqa: BLE001  (the comparison reports it)
            models[name] = {"<error>": type(e).__name__}
    await master.db.stopService()
    return {"messages": messages, "answers": answers, "models": models}


def main() -> None:
    impl = sys.argv[1]
    if impl == "ours":
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))))
    result: dict[str, Any] = {}

    async def go() -> None:
        result.update(await run(impl))

    def start() -> None:
        d = defer.ensureDeferred(go())
        d.addErrback(lambda f: result.update(failure=f.getTraceback()))
        d.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(start)
    reactor.run()
    json.dump(result, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
