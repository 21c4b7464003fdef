"""The client side of `buildbot try`: build the job, deliver it (ssh to a Try_Jobdir, or PB to
a Try_Userpass scheduler) and, with --wait, follow the builds until they finish."""

from __future__ import annotations

import base64
import json
import os
import random
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from twisted.internet import defer, protocol
from twisted.python.failure import Failure
from twisted.spread import pb

from buildbot.scripts.try_sourcestamp import SourceStamp, TryError, find_topdir, get_source_stamp
from buildbot.util.results import SUCCESS, Results

#: Seconds between two status summaries while waiting.
STATUS_INTERVAL = 3.0


def netstring(text: str) -> str:
    """`text` as a netstring (`<length>:<text>,`), the try job file framing."""
    return f"{len(text)}:{text},"


def job_file(jobid: str, ss: SourceStamp, project: str, who: str | None, comment: str | None,
             builder_names: list[str], properties: dict[str, Any]) -> str:
    """The job file Try_Jobdir reads: version 5 (patch as text) or, for a patch that is not
    UTF-8, version 6 (patch in base64)."""
    patch_level, body = ss.patch
    job: dict[str, Any] = {
        "jobid": jobid,
        "branch": ss.branch or "",
        "baserev": str(ss.revision if ss.revision is not None else ""),
        "patch_level": patch_level,
        "repository": ss.repository,
        "project": project,
        "who": who,
        "comment": comment,
        "builderNames": builder_names,
        "properties": properties,
    }
    raw = body or b""
    try:
        job["patch_body"] = raw.decode("utf-8")
        version = 5
    except UnicodeDecodeError:
        job["patch_body_base64"] = base64.b64encode(raw).decode("ascii")
        version = 6
    return netstring(str(version)) + netstring(json.dumps(job))


class _TryServerProcess(protocol.ProcessProtocol):
    """Runs `ssh ... buildbot tryserver`, feeding it the job; `done` fires on success."""

    def __init__(self, job: str) -> None:
        self.job = job
        self.done: defer.Deferred[None] = defer.Deferred()

    def connectionMade(self) -> None:
        transport: Any = self.transport
        transport.write(self.job.encode("utf-8"))
        transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        sys.stdout.write(data.decode("utf-8", "replace"))

    def errReceived(self, data: bytes) -> None:
        sys.stderr.write(data.decode("utf-8", "replace"))

    def processEnded(self, reason: Failure) -> None:
        sig, code = getattr(reason.value, "signal", None), getattr(reason.value, "exitCode", 1)
        if sig is not None or code != 0:
            self.done.errback(TryError(
                f"remote 'buildbot tryserver' failed: sig={sig}, rc={code}"))
        else:
            self.done.callback(None)


class BuildWatcher(pb.Referenceable):
    """Receives the master's build notifications for one buildset and tracks their results.

    The remote methods are the try status protocol of Try_Userpass: build requests call
    `remote_newbuild`, builds call the step and ETA methods.
    """

    def __init__(self, quiet: bool) -> None:
        from buildbot.scripts.base import get_reactor

        self.reactor: Any = get_reactor()
        self.quiet = quiet
        self.builds: dict[str, Any] = {}
        self.results: dict[str, tuple[int | None, list[str] | None]] = {}
        self.current_step: dict[str, str | None] = {}
        self.eta: dict[str, float | None] = {}
        self.outstanding: set[str] = set()
        self.all_done: defer.Deferred[None] = defer.Deferred()

    async def follow(self, buildset_status: Any) -> int:
        """Subscribe to every build request of the buildset; wait for all the builds.

        Returns 0 if every build succeeded, else 1.
        """
        from twisted.internet import task

        requests = await buildset_status.callRemote("getBuildRequests")
        for name, request in requests:
            self.builds[name] = None
            self.results[name] = (None, None)
            self.current_step[name] = None
            self.eta[name] = None
            self.outstanding.add(name)
            request.callRemote("subscribe", self)
        if not self.outstanding:
            self.all_done.callback(None)
        loop = None
        if not self.quiet:
            loop = task.LoopingCall(self.print_status)
            loop.start(STATUS_INTERVAL, now=False)
        try:
            await self.all_done
        finally:
            if loop is not None and loop.running:
                loop.stop()
        return self.print_summary()

    def remote_newbuild(self, build: Any, builder_name: str) -> None:
        previous = self.builds.get(builder_name)
        if previous is not None:
            previous.callRemote("unsubscribe", self)
        self.builds[builder_name] = build
        build.callRemote("subscribe", self, 20)
        d = build.callRemote("waitUntilFinished")
        d.addCallback(lambda b: defer.ensureDeferred(self._finished(b, builder_name)))

    def remote_stepStarted(self, builder_name: str, build: Any, step_name: str,
                           step: Any) -> None:
        self.current_step[builder_name] = step_name

    def remote_stepFinished(self, builder_name: str, build: Any, step_name: str, step: Any,
                            results: Any) -> None:
        pass

    def remote_buildETAUpdate(self, builder_name: str, build: Any, eta: float) -> None:
        self.eta[builder_name] = self.reactor.seconds() + eta

    async def _finished(self, build: Any, builder_name: str) -> None:
        self.builds[builder_name] = None
        self.eta[builder_name] = None
        self.current_step[builder_name] = "finished"
        code = await build.callRemote("getResults")
        text = await build.callRemote("getText")
        self.results[builder_name] = (code, text)
        self.outstanding.discard(builder_name)
        if not self.outstanding and not self.all_done.called:
            self.all_done.callback(None)

    def describe(self, name: str) -> str:
        """One builder's state for the status lines."""
        if name not in self.outstanding:
            code, text = self.results[name]
            desc = Results[code] if code is not None else "unknown"
            return desc + (f' ({" ".join(text)})' if text else "")
        if self.builds[name] is not None:
            desc = self.current_step[name] or "building"
            eta = self.eta[name]
            if eta:
                desc += f" [ETA {eta - self.reactor.seconds():.0f}s]"
            return desc
        return "no build"

    def print_status(self) -> None:
        for name in sorted(self.results):
            print(f"{name}: {self.describe(name)}")
        print()

    def print_summary(self) -> int:
        print("All Builds Complete")
        happy = True
        for name in sorted(self.results):
            print(f"{name}: {self.describe(name)}")
            if self.results[name][0] != SUCCESS:
                happy = False
        return 0 if happy else 1


class TryClient:
    """One `buildbot try` run, from the parsed options."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.connect = config.get("connect")
        self.quiet = bool(config.get("quiet"))
        self.builder_names: list[str] = list(config.get("builders") or [])
        self.project: str = config.get("project") or ""
        self.who = config.get("who")
        self.comment = config.get("comment")
        self._broker: Any = None

    def announce(self, message: str) -> None:
        if not self.quiet:
            print(message)

    async def run(self) -> int:
        """Do the whole try command; returns the exit status."""
        if self.connect not in ("ssh", "pb"):
            print("you must specify a connect style: ssh or pb")
            return 1
        print(f"using '{self.connect}' connect method")
        try:
            if self.config.get("get-builder-names"):
                return await self.list_builders()
            ss = await self.source_stamp()
            if ss.patch[1] is None:
                print("WARNING: There is no patch to try, diff is empty.")
            self.announce("job created")
            if self.config.get("dryrun"):
                self.show_job(ss)
                self.announce("job has been delivered")
                return 0
            buildset_status = await self.deliver(ss)
            self.announce("job has been delivered")
            return await self.wait(buildset_status)
        except TryError as e:
            print(str(e))
            return 1
        finally:
            if self._broker is not None:
                self._broker.transport.loseConnection()

    async def source_stamp(self) -> SourceStamp:
        config = self.config
        branch, repository = config.get("branch"), config.get("repository")
        diff_file = config.get("diff")
        if diff_file:
            # a local file or stdin, read once before anything runs: blocking is harmless
            diff = sys.stdin.buffer.read() if diff_file == "-" else Path(diff_file).read_bytes()
            return SourceStamp(branch, config.get("baserev"),
                               (int(config.get("patchlevel") or 0), diff or None), repository)
        vc = config.get("vc")
        treetop = os.getcwd()
        if vc in ("cvs", "svn"):
            if config.get("topdir"):
                treetop = os.path.expanduser(config["topdir"])
            elif config.get("topfile"):
                treetop = find_topdir(config["topfile"])
            else:
                raise TryError("Must specify topdir or topfile.")
        return await get_source_stamp(vc, treetop, branch, repository)

    def show_job(self, ss: SourceStamp) -> None:
        body = ss.patch[1]
        print(f"Job:\n\tRepository: {ss.repository}\n\tProject: {self.project}\n"
              f"\tBranch: {ss.branch}\n\tRevision: {ss.revision}\n"
              f"\tBuilders: {self.builder_names}\n"
              f"{body.decode('utf-8', 'replace') if body is not None else None}")

    async def login(self) -> Any:
        """Log in to the master's try scheduler over PB; returns the perspective."""
        from twisted.cred import credentials

        from buildbot.scripts.base import get_reactor

        host, port = self.config["master"].split(":")
        factory: Any = pb.PBClientFactory()  # unannotated
        get_reactor().connectTCP(host, int(port), factory)
        user = (self.config.get("username") or "").encode()
        passwd = (self.config.get("passwd") or "").encode()
        perspective = await factory.login(credentials.UsernamePassword(user, passwd))
        self._broker = perspective.broker
        return perspective

    async def list_builders(self) -> int:
        if self.connect == "ssh":
            print("Cannot get available builders over ssh.")
            return 1
        perspective = await self.login()
        names = await perspective.callRemote("getAvailableBuilderNames")
        print("The following builders are available for the try scheduler: ")
        for name in names:
            print(name)
        return 0

    async def deliver(self, ss: SourceStamp) -> Any:
        """Send the job; returns the buildset status reference (pb) or None (ssh)."""
        if self.connect == "ssh":
            await self.deliver_ssh(ss)
            return None
        perspective = await self.login()
        print("Delivering job; comment= " + str(self.comment))
        return await perspective.callRemote(
            "try", ss.branch, ss.revision, ss.patch, ss.repository, self.project,
            self.builder_names, self.who, self.comment, self.config.get("properties") or {})

    async def deliver_ssh(self, ss: SourceStamp) -> None:
        from buildbot.scripts.base import get_reactor

        config = self.config
        jobid = f"{time.time()}-{random.randint(0, 1000000)}"
        job = job_file(jobid, ss, self.project, self.who, self.comment, self.builder_names,
                       config.get("properties") or {})
        if config.get("ssh"):
            argv = shlex.split(config["ssh"])
        else:
            ssh = shutil.which("ssh")
            if not ssh:
                raise TryError("couldn't find ssh executable, make sure it is available in "
                               "the PATH")
            argv = [ssh]
        if config.get("username"):
            argv += ["-l", config["username"]]
        if config.get("port"):
            argv += ["-p", str(config["port"])]
        argv += [config.get("host") or "", config.get("buildbotbin") or "buildbot",
                 "tryserver", "--jobdir", config.get("jobdir") or ""]
        process = _TryServerProcess(job)
        get_reactor().spawnProcess(process, argv[0], argv, env=dict(os.environ))
        await process.done

    async def wait(self, buildset_status: Any) -> int:
        if not self.config.get("wait"):
            print("not waiting for builds to finish")
            return 0
        if self.connect == "ssh":
            print("waiting for builds with ssh is not supported")
            return 0
        if not buildset_status:
            print("try scheduler on the master does not have the builder configured")
            return 0
        return await BuildWatcher(self.quiet).follow(buildset_status)
