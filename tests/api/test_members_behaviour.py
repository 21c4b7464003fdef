"""Behaviour of class members that 4.3 code calls, added for issue 12 (class members).

Expected values were recorded by running the same calls on Buildbot 4.3.0 (its venv).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from twisted.internet import defer

from buildbot.process.build import Build
from buildbot.process.buildrequest import BuildRequest, TempSourceStamp
from buildbot.process.buildstep import BuildStep
from buildbot.process.logobserver import LineConsumerLogObserver, LogLineObserver
from buildbot.process.properties import (
    FlattenList,
    Interpolate,
    Properties,
    Property,
    RenderableOperatorsMixin,
)
from buildbot.process.remotecommand import RemoteCommand, RemoteException
from buildbot.steps.shell import WarningCountingShellCommand
from buildbot.util import ComparableMixin
from buildbot.util.internal import InternalToReferenceError
from buildbot.util.service import AsyncService, BuildbotServiceManager, MasterService


class _Cfg(ComparableMixin):
    compare_attrs = ("x", "password")

    def __init__(self, x: int) -> None:
        self.x = x
        self.password = "secret"


def test_is_equivalent_is_static_and_compares_by_value() -> None:
    assert _Cfg.isEquivalent(_Cfg(1), _Cfg(1)) is True
    assert _Cfg.isEquivalent(_Cfg(1), _Cfg(2)) is False
    # renderables compare by their attributes, not through their `==` (a renderable)
    assert ComparableMixin.isEquivalent(Property("a"), Property("a")) is True
    assert ComparableMixin.isEquivalent(Property("a"), Property("b")) is False
    assert ComparableMixin.isEquivalent(1, 1) is True
    assert Properties.isEquivalent(Properties(a=1), Properties(a=1)) is True


def test_config_dicts_leave_passwords_out() -> None:
    assert _Cfg(3).getConfigDict() == {"x": 3}
    assert Property("a", default=2).getConfigDict() == {
        "key": "a", "default": 2, "defaultWhenFalse": True}
    assert Interpolate("x%(prop:a)s").getConfigDict() == {
        "fmtstring": "x%(prop:a)s", "args": (), "kwargs": {}}
    assert FlattenList([1, [2]]).getConfigDict() == {"nestedlist": [1, [2]]}
    assert Properties(a=1).getConfigDict() == {"properties": {"a": (1, "TEST")}}


def test_renderable_helpers() -> None:
    assert Interpolate.identifier_re.match("a.b-c_d")
    assert not Interpolate.identifier_re.match("a b")
    assert type(FlattenList([1]).in_([1])).__name__ == "_OperatorRenderer"
    with pytest.raises(NotImplementedError):
        RenderableOperatorsMixin().getRenderingFor(Properties())


def test_build_step_members() -> None:
    step = BuildStep(name="x")
    assert BuildStep.has_key is BuildStep.hasProperty
    assert set(step.getConfigDict()) == {"_factory"}
    assert step.set_runtime_properties is True
    assert (step.build, step.cmd, step.rendered, step.progress) == (None, None, False, None)
    assert BuildStep.isEquivalent(1, 1)


def test_log_line_observer_custom_delimiter() -> None:
    class Semicolons(LogLineObserver):
        stdoutDelimiter = ";"

        def __init__(self) -> None:
            super().__init__()
            self.got: list[str] = []

        def outLineReceived(self, line: str) -> None:
            self.got.append(line)

    obs = Semicolons()
    obs.outReceived("a;b;c\n")
    obs.outReceived("dd;e")
    assert obs.got == ["a", "b", "c", "dd", "e"]  # as 4.3


def test_line_consumer_feed() -> None:
    seen: list[Any] = []

    def consumer() -> Any:
        while True:
            seen.append((yield))

    obs = LineConsumerLogObserver(consumer)
    obs.feed(("o", "first"))
    obs.outLineReceived("second")
    assert seen == [("o", "first"), ("o", "second")]


def test_warning_counting_suppression_syntax() -> None:
    cls = WarningCountingShellCommand
    assert cls.commentEmptyLineRe.match("  # x")
    m = cls.suppressionLineRe.match("foo.c : .*warn.* : 10-20")
    assert m is not None and m.groups() == ("foo.c", ".*warn.*", "10", "20")
    assert isinstance(cls._unset, cls.Sentinel)


class _Log:
    def __init__(self) -> None:
        self.text: list[tuple[str, str]] = []
        self.finished = False

    def getName(self) -> str:
        return "stdio"

    def addStdout(self, data: str) -> None:
        self.text.append(("o", data))

    def addStderr(self, data: str) -> None:
        self.text.append(("e", data))

    def addHeader(self, data: str) -> None:
        self.text.append(("h", data))

    def isFinished(self) -> bool:
        return self.finished

    def finish(self) -> defer.Deferred[None]:
        self.finished = True
        return defer.succeed(None)


def test_remote_command_line_helpers() -> None:
    cmd = RemoteCommand("shell", {}, collectStdout=True)
    assert cmd.split_line("stdout", "ab") is None
    assert cmd.split_line("stdout", "c\nde") == "abc\n"
    assert cmd.split_line("stdout", "\r\n") == "de\n"
    first = RemoteCommand.generate_new_command_id()
    assert RemoteCommand.get_last_generated_command_id() == first
    assert int(RemoteCommand.generate_new_command_id()) > int(first)
    log_ = _Log()
    cmd.useLog(log_, closeWhenFinished=True)
    cmd.add_stdout_lines("one\n", False)
    cmd.add_stdout_lines("tail\n", True)
    assert cmd.stdout == "one\ntail"  # the newline the flush added is not collected
    cmd.remote_update_msgpack([("stderr", ["oops\n", [0]])])
    assert ("e", "oops\n") in log_.text


def test_remote_complete_flushes_and_fails() -> None:
    cmd = RemoteCommand("shell", {})
    log_ = _Log()
    cmd.useLog(log_, closeWhenFinished=True)
    cmd.split_line("stdout", "partial")
    done: list[Any] = []
    cmd.remoteComplete(None).addBoth(done.append)
    assert done == [None] and log_.finished and ("o", "partial\n") in log_.text
    cmd2 = RemoteCommand("shell", {})
    failed: list[Any] = []
    cmd2.remoteComplete("boom").addErrback(failed.append)
    assert failed and failed[0].check(RemoteException)


def _request(reason: str, sources: dict[str, Any]) -> BuildRequest:
    req = BuildRequest()
    req.reason = reason
    req.sources = sources
    req.submittedAt = 1700000000
    return req


def _ss(codebase: str, revision: str) -> TempSourceStamp:
    return TempSourceStamp({"codebase": codebase, "revision": revision, "branch": "main",
                            "repository": "r", "project": "p"}, [])


def test_build_request_merging() -> None:
    a = _request("one", {"": _ss("", "1")})
    b = _request("two", {"": _ss("", "2"), "lib": _ss("lib", "9")})
    c = _request("one", {})
    assert a.mergeReasons([b, c]) == "one, two"
    merged = {ss.codebase: ss.revision for ss in a.mergeSourceStampsWith([b, c])}
    assert merged == {"": "2", "lib": "9"}
    assert a.getSubmitTime() == 1700000000
    assert BuildRequest.filter_buildset_props_for_collapsing(
        {"a": (1, "Scheduler"), "scheduler": ("s", "Scheduler"), "b": (2, "Force")}) == {"a": 1}


def test_build_helpers() -> None:
    build = Build([])
    assert [build.setUniqueStepName(n) for n in ("a", "a", "b", "a")] == ["a", "a_1", "b", "a_2"]
    props = Properties()
    Build.setupBuildProperties(props, [], sources=[_ss("", "abc")], number=7)
    assert props.getProperty("buildnumber") == 7 and props.getProperty("revision") == "abc"
    assert props.getProperty("branch") == "main"
    assert list(Build.allChangesFromSources([_ss("", "1")])) == []
    waited: list[Any] = []
    build.get_buildid().addCallback(waited.append)
    assert waited == []
    build.buildid = 12
    build._buildid_known()
    assert waited == [12]
    with pytest.raises(InternalToReferenceError, match="Build.startNextStep"):
        build.startNextStep()


def test_service_master_and_manager_helpers() -> None:
    root = MasterService()
    child = AsyncService(name="child")
    child.setServiceParent(root)
    assert child.master is root
    loose = AsyncService()
    assert loose.master is None
    loose.master = root  # assigned directly, as 4.3 plugins do
    assert loose.master is root

    class Config:
        services: ClassVar[list[AsyncService]] = [AsyncService(name="a"),
                                                  AsyncService(name="b")]

    manager = BuildbotServiceManager()
    assert sorted(manager.get_service_config(Config)) == ["a", "b"]
    Config.services.append(AsyncService(name="a"))
    with pytest.raises(ValueError, match="Two services share the same name 'a'"):
        manager.get_service_config(Config)
    assert manager.getConfigDict() == {"name": None, "childs": []}


def test_change_text_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from buildbot.changes.changes import Change
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        change = Change("me <m@x>", ["b.c", "a.c"], "fix it", committer="c", when=1700000000,
                        repository="repo", properties={"x": 1, "y": "z"})
        # recorded from 4.3 (its quirks included: no break after the comments)
        assert change.asText() == (
            "Files:\n a.c\n b.c\nOn: repo\nAt: Tue 14 Nov 2023 22:13:20\n"
            "Changed By: me <m@x>\nCommitted By: c\nComments: fix itProperties: \n"
            "  x: 1  y: z\n\n")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert change.getText() == ["me &lt;m@x&gt;"]
    assert change.getTimes() == (1700000000, None)
    assert change.getLogs() == {}
    got: list[Any] = []
    Change.fromChdict(None, {"changeid": 4, "author": "a", "when_timestamp": 1700000000,
                             "files": ["f"], "properties": {"p": (1, "Change")}}
                      ).addCallback(got.append)
    assert got[0].number == 4 and got[0].when == 1700000000
    assert got[0].properties.getProperty("p") == 1


def test_lock_declarations_and_releases() -> None:
    from buildbot import locks
    m = locks.MasterLock("a", maxCount=2)
    w = locks.WorkerLock("w", maxCountForWorker={"x": 3})
    assert m.getConfigDict() == {"name": "a", "maxCount": 2}
    assert w.getConfigDict() == {"name": "w", "maxCount": 1,
                                 "_maxCountForWorkerList": (("x", 3),)}
    assert locks.MasterLock.isEquivalent(m, locks.MasterLock("a", maxCount=2))
    assert not locks.MasterLock.isEquivalent(m, locks.MasterLock("a"))
    assert (m.lockClass.__name__, w.lockClass.__name__) == ("RealMasterLock", "RealWorkerLock")
    real = locks.RealMasterLock("a")
    real.setMaxCount(count=1)
    assert real.getLockForWorker("any") is real
    released: list[int] = []
    sub = real.subscribeToReleases(lambda: released.append(1))
    owner = object()
    access = m.access("exclusive")
    assert real.isAvailable(requester=owner, access=access)
    real.claim(owner, access)
    real.release(owner, access)
    sub.unsubscribe()
    real.claim(owner, access)
    real.release(owner, access)
    assert released == [1]


def test_force_parameters_take_4_3_keywords() -> None:
    from buildbot.schedulers.forcesched import (
        StringParameter,
        ValidationErrorCollector,
        WorkerChoiceParameter,
    )
    assert StringParameter("x").parse_from_args(l=["a"]) == "a"
    props: dict[str, Any] = {}
    chooser = WorkerChoiceParameter()
    chooser.updateFromKwargs(kwargs={"workername": [chooser.anySentinel]}, properties=props,
                             collector=ValidationErrorCollector())
    assert props == {}
    chooser.updateFromKwargs(kwargs={"workername": ["w1"]}, properties=props,
                             collector=ValidationErrorCollector())
    assert props == {"workername": "w1"}


def test_worker_helpers_without_a_connection() -> None:
    from buildbot.worker.base import Worker
    worker = Worker("w1", "pw")
    assert Worker.quarantine_timer is None and worker.quarantine_timer is None
    assert worker.locksAvailable() is True  # no worker-level locks
    done: list[Any] = []
    worker.waitForCompleteShutdown().addCallback(done.append)
    worker.updateLocks().addCallback(done.append)
    assert done == [None, None]


def test_botmaster_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    from buildbot.process.botmaster import BotMaster
    from buildbot.process.builder import Builder

    class Cfg:
        workernames: ClassVar[list[str]] = ["w1"]

    botmaster = BotMaster()
    builder = Builder("b1")
    builder.config = Cfg()
    botmaster.builders = {"b1": builder}
    botmaster.builderNames = ["b1"]
    assert botmaster.getBuildernames() == ["b1"] and botmaster.getBuilders() == [builder]
    assert botmaster.getBuildersForWorker("w1") == [builder]
    assert botmaster.getBuildersForWorker("w2") == []
    detached: list[Any] = []
    monkeypatch.setattr(builder, "detached", detached.append)

    class Bot:
        workername = "w1"
    bot = Bot()
    botmaster.workerLost(bot)
    assert detached == [bot]
