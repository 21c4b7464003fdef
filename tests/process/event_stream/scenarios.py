"""Builds whose live event stream is compared with Buildbot 4.3's, and the recorder.

This module runs on both masters: under `/work/refvenv/bin/python` by `record_reference.py`
(which writes `reference_4.3.json`), and under our interpreter by `test_event_stream.py`. It
therefore imports only the plugin surface both share (`buildbot.plugins`,
`buildbot.process.buildstep`, `buildbot.process.results`) and Twisted.

Each scenario is a builder with its own LocalWorker (so losing one worker leaves the others
alone). `record_scenario` forces one build and keeps every `builds/...`, `steps/...` and
`logs/...` message until `builds/<id>/finished`; `normalise` turns them into a list of
`[routing key, changed fields]`, with ids replaced by per-build ordinals (`B`, `S1`, `L1`...)
and timestamps by `"<ts>"`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer, task

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.buildstep import BuildStep
from buildbot.process.results import EXCEPTION, SUCCESS, WARNINGS


class AddStepsAfterMe(BuildStep):
    """Adds two shell steps right after itself (`build.addStepsAfterCurrentStep`)."""

    name = "add-steps"

    async def run(self) -> int:
        self.build.addStepsAfterCurrentStep([
            steps.ShellCommand(name="added-1", command=["echo", "added one"]),
            steps.ShellCommand(name="added-2", command="exit 1"),
        ])
        return SUCCESS


class Explode(BuildStep):
    """A step whose `run` raises: the step ends EXCEPTION with a traceback log."""

    name = "explode"

    async def run(self) -> int:
        raise RuntimeError("boom")


def _hide_on_success(results: int, step: Any) -> bool:
    return bool(results == SUCCESS)


def _sh(name: str, command: Any, **kwargs: Any) -> Any:
    return steps.ShellCommand(name=name, command=command, **kwargs)


STEP_LOCK = util.MasterLock("step-lock")
BUILD_LOCK = util.WorkerLock("build-lock")
# builder arguments other than the name, workers and factory
BUILDER_ARGS: dict[str, dict[str, Any]] = {
    "locks": {"locks": [BUILD_LOCK.access("counting")]},
    "build_skipped": {"do_build_if": lambda build: False},
}

# name -> (step factories, action once the step named "wait" runs: None, "stop", "lose")
SCENARIOS: dict[str, tuple[Callable[[], list[Any]], str | None]] = {
    "success": (lambda: [_sh("hello", ["echo", "hello"])], None),
    "warnings": (lambda: [
        _sh("warn", "exit 1", decodeRC={0: SUCCESS, 1: WARNINGS}),
        _sh("after", ["echo", "after"]),
    ], None),
    "failure_flunk": (lambda: [
        _sh("fail", "exit 1"),
        _sh("after", ["echo", "after"]),
    ], None),
    "failure_no_flunk": (lambda: [
        _sh("fail", "exit 1", flunkOnFailure=False),
        _sh("after", ["echo", "after"]),
    ], None),
    "failure_warn_only": (lambda: [
        _sh("fail", "exit 1", flunkOnFailure=False, warnOnFailure=True),
        _sh("after", ["echo", "after"]),
    ], None),
    "failure_halt": (lambda: [
        _sh("fail", "exit 1", haltOnFailure=True),
        _sh("never", ["echo", "never"]),
        _sh("always", ["echo", "always"], alwaysRun=True),
    ], None),
    "two_failures": (lambda: [
        _sh("fail-1", "exit 1"),
        _sh("fail-2", "exit 2"),
        _sh("after", ["echo", "after"]),
    ], None),
    "exception_rc": (lambda: [
        _sh("exc", "exit 2", decodeRC={0: SUCCESS, 2: EXCEPTION}),
        _sh("never", ["echo", "never"]),
        _sh("always", ["echo", "always"], alwaysRun=True),
    ], None),
    "exception_raised": (lambda: [
        Explode(),
        _sh("never", ["echo", "never"]),
    ], None),
    "skipped": (lambda: [
        _sh("one", ["echo", "one"]),
        _sh("skip", ["echo", "skip"], doStepIf=False),
        _sh("three", ["echo", "three"]),
    ], None),
    "hidden": (lambda: [
        _sh("hide", ["echo", "hide"], hideStepIf=True),
        _sh("hide-on-success", ["echo", "ok"], hideStepIf=_hide_on_success),
        _sh("shown-failure", "exit 1", hideStepIf=_hide_on_success),
        _sh("skip-hidden", ["echo", "x"], doStepIf=False, hideStepIf=True),
    ], None),
    "dynamic": (lambda: [
        AddStepsAfterMe(),
        _sh("last", ["echo", "last"]),
    ], None),
    "properties": (lambda: [
        steps.SetProperty(property="color", value="blue"),
        steps.SetPropertyFromCommand(command="echo 42", property="answer"),
        _sh("render", util.Interpolate("echo %(prop:color)s %(prop:answer)s")),
    ], None),
    "warnings_reported": (lambda: [
        _sh("warn", "exit 1", decodeRC={0: SUCCESS, 1: WARNINGS}, warnOnWarnings=True),
        _sh("after", ["echo", "after"]),
    ], None),
    "summary_policy": (lambda: [
        _sh("told", ["echo", "told"], updateBuildSummaryPolicy=True),
        _sh("untold", "exit 1", updateBuildSummaryPolicy=False),
        _sh("after", ["echo", "after"]),
    ], None),
    "locks": (lambda: [
        _sh("locked", ["echo", "locked"], locks=[STEP_LOCK.access("exclusive")]),
        _sh("fail", "exit 1", locks=[STEP_LOCK.access("counting")]),
    ], None),
    "build_skipped": (lambda: [_sh("hello", ["echo", "hello"])], None),
    "cancelled": (lambda: [
        _sh("wait", ["sleep", "30"]),
        _sh("never", ["echo", "never"]),
        _sh("always", ["echo", "always"], alwaysRun=True),
    ], "stop"),
    "worker_lost": (lambda: [
        _sh("wait", ["sleep", "30"]),
        _sh("never", ["echo", "never"]),
    ], "lose"),
}


def config(names: list[str] | None = None) -> dict[str, Any]:
    """A master configuration with one builder (and LocalWorker) per scenario."""
    names = list(SCENARIOS) if names is None else names
    return {
        "workers": [worker.LocalWorker(f"w-{n}") for n in names],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=names)],
        "builders": [util.BuilderConfig(name=n, workernames=[f"w-{n}"],
                                        factory=util.BuildFactory(SCENARIOS[n][0]()),
                                        **BUILDER_ARGS.get(n, {}))
                     for n in names],
    }


_RECORDED = ("builds", "steps", "logs")


async def record_scenario(master: Any, name: str, timeout: float = 120.0) -> list[Any]:
    """Force a build of scenario `name` and return its normalised event stream."""
    from twisted.internet import reactor

    action = SCENARIOS[name][1]
    seen: list[tuple[tuple[str, ...], Any]] = []
    finished: defer.Deferred[None] = defer.Deferred()
    acted: list[bool] = []
    acting: list[defer.Deferred[None]] = []
    waiting: list[int] = []
    buildids: list[int] = []

    def on_message(key: tuple[str, ...], body: Any) -> None:
        if finished.called:
            return
        seen.append((tuple(key), body))
        if key == ("steps", str(body.get("stepid")), "new") and body["name"] == "wait":
            waiting.append(body["stepid"])
        # Act once the command of the step "wait" runs (its log has output), so both
        # masters are interrupted at the same point; after this message has been
        # delivered to everyone, as a user would act.
        if (key[0] == "logs" and key[-1] == "append" and body["stepid"] in waiting
                and action is not None and not acted):
            acted.append(True)
            acting.append(task.deferLater(reactor, 0, lambda: defer.ensureDeferred(
                _act(master, action, buildids[0], name))))
        if key[0] == "builds" and len(key) == 3 and not buildids:
            buildids.append(body["buildid"])
        if key[0] == "builds" and len(key) == 3 and key[2] == "finished":
            finished.callback(None)

    consumers = []
    for length in range(3, 7):
        for first in _RECORDED:
            consumers.append(await master.mq.startConsuming(
                on_message, (first,) + (None,) * (length - 1)))
    finished.addTimeout(timeout, reactor)
    try:
        await master.data.control("force", {"builderNames": [name], "owner": "me"},
                                  ("forceschedulers", "force"))
        try:
            await finished
        except defer.TimeoutError:
            raise AssertionError(f"scenario {name!r}: the build did not finish within "
                                 f"{timeout} s") from None
        for d in acting:
            await d
    finally:
        for c in consumers:
            c.stopConsuming()
    if action == "lose":
        await _end_orphaned_command(master, name)
    return normalise(seen)


async def _end_orphaned_command(master: Any, name: str) -> None:
    """A worker that lost its master goes on running the command it had: interrupt it and
    wait until it has ended, so that stopping the master leaves no process behind."""
    bot = master.workers.workers[f"w-{name}"].remote_worker.bot
    command = bot.builders[name].protocol_command
    if command is None:
        return
    ended: defer.Deferred[None] = defer.Deferred()
    on_complete = command.on_command_complete

    def complete() -> None:
        on_complete()
        ended.callback(None)

    command.on_command_complete = complete
    command.command.doInterrupt()
    await ended


async def _act(master: Any, action: str, buildid: int, name: str) -> None:
    if action == "stop":
        await master.data.control("stop", {"reason": "stopped by test"}, ("builds", buildid))
    else:
        local = master.workers.workers[f"w-{name}"]
        command = local.remote_worker.bot.builders[name].protocol_command
        if command is not None:
            # the worker's side of a lost connection: it sends nothing more to the master
            command.builder_is_running = False
        local.conn.loseConnection()


_KINDS = {"builds": "B", "steps": "S", "logs": "L"}
_ID_FIELDS = {"buildid": "builds", "stepid": "steps", "logid": "logs"}
_OTHER_IDS = {"builderid", "buildrequestid", "workerid", "masterid"}
_TIMES = {"started_at", "complete_at", "locks_acquired_at", "timestamp"}
# property values that depend on the machine or the run
_VOLATILE_PROPERTIES = {"basedir", "builddir", "workername", "builderid"}
_BODY_ID = {"builds": "buildid", "steps": "stepid", "logs": "logid"}


def normalise(seen: list[tuple[tuple[str, ...], Any]]) -> list[Any]:
    """`[key, changed fields]` per message: ids by ordinal, times by `"<ts>"`, fields that
    did not change since the previous message about the same resource left out.

    Log line counts and the number of `append` messages in a row depend on how the worker's
    output was chunked, so a run of appends to one log becomes one `append` entry."""
    ordinals: dict[tuple[str, str], str] = {}

    def ident(kind: str, raw: Any) -> str:
        k = (kind, str(raw))
        if k not in ordinals:
            n = sum(1 for o in ordinals if o[0] == kind)
            ordinals[k] = _KINDS[kind] + ("" if kind == "builds" else str(n + 1))
        return ordinals[k]

    last: dict[tuple[str, str], dict[str, Any]] = {}
    out: list[Any] = []
    for key, body in seen:
        # numeric parts are ids; `steps/<id>/logs/<slug>/...` names the log by its slug
        parts = [ident(key[i - 1], p) if i and key[i - 1] in _KINDS and p.isdigit() else p
                 for i, p in enumerate(key)]
        nkey = "/".join(parts)
        if len(key) == 4 and key[2] == "properties":
            out.append([nkey, {n: [("<volatile>" if n in _VOLATILE_PROPERTIES else v[0]), v[1]]
                               for n, v in sorted(body.items())}])
            continue
        kind = key[-3]
        resource = (kind, ident(kind, body[_BODY_ID[kind]]))
        fields = {f: _value(f, v, ident) for f, v in body.items()}
        if fields.get("num_lines"):
            fields["num_lines"] = "<n>"  # the header lists the worker's environment
        before = last.get(resource, {})
        changed = {f: v for f, v in sorted(fields.items()) if f not in before or before[f] != v}
        last[resource] = fields
        if key[-1] == "append" and any(o[0] == nkey for o in out[-2:]):
            continue  # the same run of appends (the two keys of one append alternate)
        out.append([nkey, changed])
    return out


def _value(field: str, value: Any, ident: Callable[[str, Any], str]) -> Any:
    if value is None:
        return None
    if field in _ID_FIELDS:
        return ident(_ID_FIELDS[field], value)
    if field in _OTHER_IDS:
        return "<id>"
    if field in _TIMES:
        return "<ts>"
    if field == "properties":
        return sorted(value) if isinstance(value, dict) else value
    if hasattr(value, "isoformat"):
        return "<ts>"
    return value
