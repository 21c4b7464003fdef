"""GerritStatusPush: reviews on Gerrit through its ssh command line (`gerrit review`).

The default generator posts, when a buildset completes, one review message summing up the
buildset's builds and a `Verified` label (+1 if all succeeded, else -1). The Gerrit version
(`gerrit version`, cached 10 minutes) decides the label syntax and the `--tag` option.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from twisted.internet import defer, protocol
from twisted.logger import Logger
from zope.interface import implementer

from buildbot.interfaces import IReportGenerator
from buildbot.process.results import (
    EXCEPTION,
    FAILURE,
    RETRY,
    SUCCESS,
    WARNINGS,
    Results,
)
from buildbot.reporters import utils
from buildbot.reporters.base import ReporterBase
from buildbot.util.deferred import maybe_await

log = Logger()

GERRIT_VERSION_CACHE_TIMEOUT = 600

GERRIT_LABEL_VERIFIED = "Verified"
GERRIT_LABEL_REVIEWED = "Code-Review"


def parse_gerrit_version(text: str) -> tuple[int, ...]:
    """Numeric components of a Gerrit version ("3.5.1-12-gabc" -> (3, 5, 1))."""
    m = re.match(r"\s*v?(\d+(?:\.\d+)*)", text)
    if m is None:
        raise ValueError(f"cannot interpret gerrit version {text!r}")
    return tuple(int(p) for p in m.group(1).split("."))


def makeReviewResult(message: str | None, *labels: tuple[str, Any]) -> dict[str, Any]:
    """A review: its message and `{label: value}`."""
    return {"message": message, "labels": dict(labels)}


def _old_add_label(label: str, value: Any) -> list[str]:
    if label == GERRIT_LABEL_VERIFIED:
        return [f"--verified {int(value)}"]
    if label == GERRIT_LABEL_REVIEWED:
        return [f"--code-review {int(value)}"]
    log.info("Gerrit older than 2.6 does not support custom labels. Setting {label} is "
             "ignored.", label=label)
    return []


def _new_add_label(label: str, value: Any) -> list[str]:
    return [f"--label {label}={int(value)}"]


def defaultReviewCB(builderName: str, build: dict[str, Any], result: int, master: Any,
                    arg: Any) -> dict[str, Any]:
    """The review of one finished build (none for RETRY)."""
    if result == RETRY:
        return makeReviewResult(None)
    message = (f"Buildbot finished compiling your patchset\non configuration: {builderName}\n"
               f"The result is: {Results[result].upper()}\n")
    return makeReviewResult(message, (GERRIT_LABEL_VERIFIED, result == SUCCESS or -1))


def defaultSummaryCB(buildInfoList: list[dict[str, Any]], results: Any, master: Any,
                     arg: Any) -> dict[str, Any]:
    """The review of a buildset: one paragraph per build, Verified +1 iff all succeeded."""
    success = failure = False
    msgs = []
    for info in buildInfoList:
        msg = f"Builder {info['name']} {info['resultText']} ({info['text']})"
        link = info.get("url", None)
        msg += f" - {link}" if link else "."
        msgs.append(msg)
        if info["result"] == SUCCESS:
            success = True
        else:
            failure = True
    verified = 1 if success and not failure else -1
    return makeReviewResult("\n\n".join(msgs), (GERRIT_LABEL_VERIFIED, verified))


class DEFAULT_REVIEW:
    pass


class DEFAULT_SUMMARY:
    pass


def _prop(props: dict[str, Any] | None, name: str) -> Any:
    if props is None:
        return None
    return props.get(name, [None])[0]


def _repo_download_target(downloads: Any, downloaded: str) -> tuple[Any, Any]:
    # `repo_downloads` lists "project change/patchset"; `repo_downloaded` has a
    # "change/patchset revision" pair for each. Only the first download decides (as in 4.3):
    # the project when its change is the first one downloaded, else nothing.
    pairs = downloaded.split(" ")
    if not downloads or len(pairs) != 2 * len(downloads):
        return None, None
    first = downloads[0].split(" ")
    if len(first) != 2 or first[1] != pairs[0]:
        return None, None
    return first[0], pairs[1]


def _gerrit_event_target(props: dict[str, Any] | None) -> tuple[Any, Any]:
    # A build triggered by a Gerrit event: the event's project; the revision from the patch
    # set, else what the build got or asked for (a per-codebase dict picks this codebase's)
    for name in _REVISION_PROPERTIES:
        revision = _prop(props, name)
        if revision:
            break
    if isinstance(revision, dict):
        codebase = _prop(props, "codebase")
        revision = None if codebase is None else revision[codebase]
    return _prop(props, "event.change.project"), revision


_REVISION_PROPERTIES = ("event.patchSet.revision", "got_revision", "revision")


async def extract_project_revision(master: Any, report: dict[str, Any]) -> tuple[Any, Any]:
    """(Gerrit project, revision) the report is about, from repo download properties or
    Gerrit event properties; (None, None) when it is not a Gerrit build."""
    builds = report["builds"]
    props = builds[0].get("properties") if builds else None
    if props is None:
        props = await master.data.get(("buildsets", report["buildset"]["bsid"], "properties"))
    downloads, downloaded = _prop(props, "repo_downloads"), _prop(props, "repo_downloaded")
    if downloads is not None and downloaded is not None:
        return _repo_download_target(downloads, downloaded)
    if _prop(props, "event.change.id") is not None:
        return _gerrit_event_target(props)
    return None, None


class GerritStatusGeneratorBase:
    """Shared by the Gerrit generators: a callback computing the review, a builders filter."""

    compare_attrs: tuple[str, ...] = ("callback", "callback_arg", "builders", "want_steps",
                                      "want_logs")

    def __init__(self, callback: Any, callback_arg: Any, builders: Any, want_steps: bool,
                 want_logs: bool) -> None:
        self.callback = callback
        self.callback_arg = callback_arg
        self.builders = builders
        self.want_steps = want_steps
        self.want_logs = want_logs

    def check(self) -> None:
        pass

    def generate_name(self) -> str:
        return type(self).__name__

    def is_build_reported(self, build: dict[str, Any]) -> bool:
        return self.builders is None or build["builder"]["name"] in self.builders

    async def get_build_details(self, master: Any, build: dict[str, Any]) -> None:
        br = await master.data.get(("buildrequests", build["buildrequestid"]))
        buildset = await master.data.get(("buildsets", br["buildsetid"]))
        await utils.getDetailsForBuilds(master, buildset, [build], want_properties=True,
                                        want_steps=self.want_steps)

    @staticmethod
    def _report(result: dict[str, Any], builds: list[dict[str, Any]],
                buildset: Any) -> dict[str, Any]:
        return {"body": result.get("message", None),
                "extra_info": {"labels": result.get("labels")},
                "builds": builds, "buildset": buildset}


@implementer(IReportGenerator)
class GerritBuildSetStatusGenerator(GerritStatusGeneratorBase):
    """On buildset completion: `callback(build_info_list, results_name, master, arg)`."""

    wanted_event_keys = [("buildsets", None, "complete")]  # noqa: RUF012  (4.3 surface)

    async def generate(self, master: Any, reporter: Any, key: tuple[str, ...],
                       message: dict[str, Any]) -> dict[str, Any] | None:
        res = await utils.getDetailsForBuildset(
            master, message["bsid"], want_properties=True, want_steps=self.want_steps,
            want_logs=self.want_logs, want_logs_content=self.want_logs)
        builds = [b for b in res["builds"] if self.is_build_reported(b)]
        if not builds:
            return None
        buildset = res["buildset"]

        def build_info(build: dict[str, Any]) -> dict[str, Any]:
            result = build["results"]
            text = {SUCCESS: "succeeded", FAILURE: "failed",
                    WARNINGS: "completed with warnings",
                    EXCEPTION: "encountered an exception"}.get(
                result, f"completed with unknown result {result}")
            return {"name": build["builder"]["name"], "result": result, "resultText": text,
                    "text": build["state_string"],
                    "url": utils.getURLForBuild(master, build["builder"]["builderid"],
                                                build["number"]),
                    "build": build}

        infos = sorted((build_info(b) for b in builds), key=lambda bi: bi["name"])
        result = await maybe_await(self.callback(infos, Results[buildset["results"]], master,
                                                 self.callback_arg))
        return self._report(result, [builds[0]], buildset)


@implementer(IReportGenerator)
class GerritBuildStartStatusGenerator(GerritStatusGeneratorBase):
    """On build start: `callback(builder_name, build, arg)`."""

    wanted_event_keys = [("builds", None, "new")]  # noqa: RUF012  (4.3 surface)

    async def generate(self, master: Any, reporter: Any, key: tuple[str, ...],
                       message: dict[str, Any]) -> dict[str, Any] | None:
        build = dict(message)
        await self.get_build_details(master, build)
        if not self.is_build_reported(build):
            return None
        result = await maybe_await(self.callback(build["builder"]["name"], build,
                                                 self.callback_arg))
        return self._report(result, [build], build["buildset"])


@implementer(IReportGenerator)
class GerritBuildEndStatusGenerator(GerritStatusGeneratorBase):
    """On build end: `callback(builder_name, build, results, master, arg)`."""

    wanted_event_keys = [("builds", None, "finished")]  # noqa: RUF012  (4.3 surface)

    async def generate(self, master: Any, reporter: Any, key: tuple[str, ...],
                       message: dict[str, Any]) -> dict[str, Any] | None:
        build = dict(message)
        await self.get_build_details(master, build)
        if not self.is_build_reported(build):
            return None
        result = await maybe_await(self.callback(build["builder"]["name"], build,
                                                 build["results"], master, self.callback_arg))
        return self._report(result, [build], build["buildset"])


class _VersionProtocol(protocol.ProcessProtocol):
    """`gerrit version`: calls `func(version)` once the process succeeded with a readable
    answer; `ended` fires in every case, after that call."""

    def __init__(self, func: Callable[[tuple[int, ...]], Any]) -> None:
        self.func = func
        self.gerrit_version: tuple[int, ...] | None = None
        self._out = b""
        self.ended: defer.Deferred[None] = defer.Deferred()

    def outReceived(self, data: bytes) -> None:
        self._out += data  # the answer may come in pieces; it is read once complete

    def errReceived(self, data: bytes) -> None:
        log.info("gerriterr: {data}", data=data)

    def _read_version(self) -> tuple[int, ...] | None:
        prefix = b"gerrit version "
        if not self._out.startswith(prefix):
            log.info("Error: Cannot interpret gerrit version info: {out}", out=self._out)
            return None
        text = self._out[len(prefix):].strip().decode("utf-8", "replace")
        log.info("gerrit version: {v}", v=text)
        return parse_gerrit_version(text)

    def processEnded(self, reason: Any) -> None:
        code = reason.value.exitCode
        if code:
            log.info("gerrit version status: ERROR: exit code {code}", code=code)
        else:
            self.gerrit_version = self._read_version()
            if self.gerrit_version is not None:
                self.func(self.gerrit_version)
        self.ended.callback(None)


class _ReviewProtocol(protocol.ProcessProtocol):
    """`gerrit review`: logs what the server says and the outcome; `ended` fires with the
    exit code."""

    def __init__(self, status: Any) -> None:
        self.status = status  # the reporter (4.3's constructor argument)
        self.ended: defer.Deferred[int | None] = defer.Deferred()

    def outReceived(self, data: bytes) -> None:
        log.info("gerritout: {out}", out=data)

    def errReceived(self, data: bytes) -> None:
        log.info("gerriterr: {data}", data=data)

    def processEnded(self, reason: Any) -> None:
        code = reason.value.exitCode
        if code:
            log.info("gerrit status: ERROR: exit code {code}", code=code)
        else:
            log.info("gerrit status: OK")
        self.ended.callback(code)


class GerritStatusPush(ReporterBase):
    """`reporters.GerritStatusPush(server, username, port=29418, identity_file=None,
    notify=None, generators=None)`."""

    name: str | None = "GerritStatusPush"
    gerrit_server: str | None = None
    gerrit_username: str | None = None
    gerrit_port: int | None = None
    gerrit_version_time: float | None = None
    gerrit_version: tuple[int, ...] | None = None
    gerrit_identity_file: str | None = None
    _gerrit_notify: Any = None

    # The process protocols of `gerrit version` and `gerrit review` (4.3's names), for
    # subclasses that wrap them.
    VersionPP = _VersionProtocol
    LocalPP = _ReviewProtocol

    def _create_default_generators(self) -> list[Any]:
        return [GerritBuildSetStatusGenerator(callback=defaultSummaryCB, callback_arg=None,
                                              builders=None, want_steps=False,
                                              want_logs=False)]

    def checkConfig(self, server: str, username: str, port: int = 29418,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    identity_file: str | None = None, notify: Any = None,
                    generators: Any = None, **kwargs: Any) -> None:
        super().checkConfig(generators=generators, **kwargs)

    async def reconfigService(self, server: str, username: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              port: int = 29418, identity_file: str | None = None,
                              notify: Any = None, generators: Any = None,
                              **kwargs: Any) -> None:
        await super().reconfigService(generators=generators, **kwargs)
        # the ssh destination, and what `gerrit review` gets
        self.gerrit_username, self.gerrit_server = username, server
        self.gerrit_port, self.gerrit_identity_file = port, identity_file
        self._gerrit_notify = notify
        # the server may have changed: ask its version again before the next review
        self.gerrit_version, self.gerrit_version_time = None, 0

    def _gerritCmd(self, *args: str) -> list[str]:
        """`ssh ... user@server -p port gerrit <args>` as an argument list."""
        options = ["-i", self.gerrit_identity_file] if self.gerrit_identity_file else []
        return ["ssh", "-o", "BatchMode=yes", *options,
                f"{self.gerrit_username}@{self.gerrit_server}", "-p", str(self.gerrit_port),
                "gerrit", *args]

    def getCachedVersion(self) -> tuple[int, ...] | None:
        if self.gerrit_version is None:
            return None
        if time.time() - (self.gerrit_version_time or 0) > GERRIT_VERSION_CACHE_TIMEOUT:
            self.gerrit_version = None
        return self.gerrit_version

    def processVersion(self, gerrit_version: tuple[int, ...], func: Callable[[], Any]) -> Any:
        """Cache the version the server reported, then call `func()`."""
        self.gerrit_version = gerrit_version
        self.gerrit_version_time = time.time()
        return func()

    def callWithVersion(self, func: Callable[[], Any]) -> None:
        """Ask the server its version; `func()` is called once it is cached (never if the
        server cannot tell)."""
        self._spawn_version(func)

    def _spawn_version(self, func: Callable[[], Any]) -> _VersionProtocol:
        command = self._gerritCmd("version")
        proto = self.VersionPP(lambda version: self.processVersion(version, func))
        self.spawnProcess(proto, command[0], command, env=None)
        return proto

    async def _fetch_version(self) -> tuple[int, ...] | None:
        await self._spawn_version(lambda: None).ended
        return self.gerrit_version

    async def sendMessage(self, reports: list[dict[str, Any]]) -> None:
        report = reports[0]
        project, revision = await extract_project_revision(self.master, report)
        if report["body"] is None or project is None or revision is None:
            return
        labels = (report.get("extra_info") or {}).get("labels", None)
        if labels is None and report.get("builds"):
            results = [b["results"] for b in report["builds"]]
            if any(r is not None and r != SUCCESS for r in results):
                verified = -1
            elif any(r is None for r in results):
                verified = 0
            else:
                verified = 1
            labels = {GERRIT_LABEL_VERIFIED: verified}
        await self.send_code_review(project, revision, report["body"], labels)

    async def send_code_review(self, project: str, revision: str, message: str | None,
                               labels: dict[str, Any] | None) -> None:
        """Run `gerrit review` for the revision (asking the version first if not cached)."""
        version = self.getCachedVersion()
        if version is None:
            version = await self._fetch_version()
            if version is None:
                return
        options = [f"--project {project}"]
        options += ["--tag autogenerated:buildbot"] if version >= (2, 13) else []
        if self._gerrit_notify is not None:
            options.append(f"--notify {self._gerrit_notify!s}")
        if message:
            # the message is single-quoted for the remote shell
            options.append("--message '{}'".format(message.replace("'", '"')))
        label_options = _old_add_label if version < (2, 6) else _new_add_label
        for label, value in (labels or {}).items():
            options += label_options(label, value)
        command = self._gerritCmd("review", *options)
        command.append(revision)
        proto = self.LocalPP(self)
        self.spawnProcess(proto, command[0], [str(s) for s in command], env=None)
        await proto.ended

    def spawnProcess(self, *args: Any, **kwargs: Any) -> Any:
        """Start a process (overridable, as in 4.3)."""
        return self.master.reactor.spawnProcess(*args, **kwargs)
