"""Try schedulers: the master side of `buildbot try`.

`Try_Jobdir` reads job files dropped into a maildir-like directory (by `buildbot tryserver`
over ssh); `Try_Userpass` accepts jobs over PB and reports their builds back to the client.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.spread import pb

from buildbot.changes.pb import NewCredPerspective
from buildbot.process.properties import Properties
from buildbot.schedulers.base import ReconfigurableBaseScheduler
from buildbot.util.deferred import as_deferred, gather
from buildbot.util.internal import internal_class

log = Logger()

JOBDIR_POLL_INTERVAL = 10  # seconds between scans of <jobdir>/new
MAX_JOB_SIZE = 99999  # the netstring limit of the reference's parser


class BadJobfile(Exception):
    """A job file that cannot be parsed."""


class TryBase(ReconfigurableBaseScheduler):
    def filterBuilderList(self, builderNames: list[str] | None) -> list[str]:
        """The requested builders if all are ours (else none); ours if none requested."""
        if builderNames:
            for b in builderNames:
                if b not in self.builderNames:
                    log.info("{sched} got with builder {b} but that wasn't in our list: "
                             "{ours}", sched=self, b=b, ours=self.builderNames)
                    return []
            return builderNames
        return list(self.builderNames)


def parse_netstrings(data: bytes) -> list[bytes]:
    """The complete netstrings (`<len>:<bytes>,`) of `data`; BadJobfile if malformed."""
    out = []
    pos = 0
    while pos < len(data):
        colon = data.find(b":", pos)
        if colon < 0:
            break
        try:
            length = int(data[pos:colon])
        except ValueError:
            raise BadJobfile("unable to parse netstrings") from None
        end = colon + 1 + length
        if end >= len(data):
            break
        if data[end:end + 1] != b",":
            raise BadJobfile("unable to parse netstrings")
        out.append(data[colon + 1:end])
        pos = end + 1
    return out


V1_KEYS = ["jobid", "branch", "baserev", "patch_level", "patch_body"]
VERSION_KEYS = {"1": V1_KEYS, "2": [*V1_KEYS, "repository", "project"],
                "3": [*V1_KEYS, "repository", "project", "who"],
                "4": [*V1_KEYS, "repository", "project", "who", "comment"]}


def parse_job(data: bytes) -> dict[str, Any]:
    """A try job file (versions 1 to 6) as a dict."""
    if len(data) > MAX_JOB_SIZE:
        raise BadJobfile("The patch size is greater that NetStringReceiver.MAX_LENGTH. "
                         "Please Set this higher in the master.cfg")
    strings = parse_netstrings(data)
    if not strings:
        raise BadJobfile("could not find any complete netstrings")
    ver = strings.pop(0).decode()
    job: dict[str, Any]
    if ver in VERSION_KEYS:
        keys = VERSION_KEYS[ver]
        job = {k: (v if k == "patch_body" else v.decode()) for k, v in zip(keys, strings)}
        job["builderNames"] = [s.decode() for s in strings[len(keys):]]
    elif ver in ("5", "6"):
        try:
            job = json.loads(strings[0].decode())
        except ValueError as e:
            raise BadJobfile("unable to parse JSON") from e
        if ver == "5":
            job["patch_body"] = job["patch_body"].encode()
        else:
            job["patch_body"] = base64.b64decode(job.pop("patch_body_base64"))
    else:
        raise BadJobfile(f"unknown version '{ver}'")
    job["branch"] = job.get("branch") or None
    job["baserev"] = job.get("baserev") or None
    job["patch_level"] = int(job["patch_level"])
    for key in ("repository", "project", "who", "comment"):
        job[key] = job.get(key, "")
    job["properties"] = job.get("properties", {})
    return job


class Try_Jobdir(TryBase):
    """Builds the jobs found in `<basedir>/<jobdir>/new` (moved to `cur` once read)."""

    def __init__(self, name: str, builderNames: Any, jobdir: str, **kwargs: Any) -> None:
        self._scan_call: Any = None
        self.jobdir = jobdir
        super().__init__(name=name, builderNames=builderNames, jobdir=jobdir, **kwargs)

    def checkConfig(self, builderNames: Any = None, jobdir: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    **kwargs: Any) -> None:
        super().checkConfig(builderNames=builderNames, **kwargs)

    def reconfigService(self, builderNames: Any = None, jobdir: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                        **kwargs: Any) -> Any:
        super().reconfigService(builderNames=builderNames, **kwargs)
        self.jobdir = jobdir
        return None

    @property
    def jobdir_path(self) -> str:
        return os.path.join(self.master.basedir, self.jobdir)

    async def activate(self) -> None:
        await super().activate()
        if not self.enabled:
            return
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.jobdir_path, sub), exist_ok=True)
        self._scan_soon(0)

    async def deactivate(self) -> None:
        await super().deactivate()
        if self._scan_call is not None and self._scan_call.active():
            self._scan_call.cancel()
        self._scan_call = None

    def _scan_soon(self, delay: float) -> None:
        self._scan_call = self.master.reactor.callLater(
            delay, lambda: self.tasks.spawn("jobdir scan", self.scan()))

    async def scan(self) -> None:
        """Handle every job file in `new`, then look again later."""
        newdir = os.path.join(self.jobdir_path, "new")
        try:
            for filename in sorted(os.listdir(newdir)):
                path = os.path.join(newdir, filename)
                os.replace(path, os.path.join(self.jobdir_path, "cur", filename))
                with open(os.path.join(self.jobdir_path, "cur", filename), "rb") as f:
                    # the open file, as 4.3 passes it to handleJobFile overrides
                    await self.handleJobFile(filename, f)
        finally:
            if self.active and self.enabled:
                self._scan_soon(JOBDIR_POLL_INTERVAL)

    def parseJob(self, f: Any) -> dict[str, Any]:
        return parse_job(f.read() if hasattr(f, "read") else f)

    async def handleJobFile(self, filename: str, f: Any) -> Any:
        """Start the buildset a job file asks for; `f` is the open file (as in 4.3) or its
        bytes."""
        try:
            job = self.parseJob(f)
        except BadJobfile:
            log.failure("{sched} reports a bad jobfile in {filename}", sched=self,
                        filename=filename)
            return None
        builderNames = self.filterBuilderList(job["builderNames"])
        if not builderNames:
            log.info("incoming Try job did not specify any allowed builder names")
            return None
        who = job["who"] or ""
        sourcestamp = {
            "branch": job["branch"], "codebase": "", "revision": job["baserev"],
            "patch_body": job["patch_body"], "patch_level": job["patch_level"],
            "patch_author": who, "patch_comment": job["comment"] or "", "patch_subdir": "",
            "project": job["project"], "repository": job["repository"]}
        reason = "'try' job" + (f" by user {who}" if who else "")
        props = Properties()
        props.update(job["properties"], "try build")
        return await self.addBuildsetForSourceStamps(
            sourcestamps=[sourcestamp], reason=reason, external_idstring=job["jobid"],
            builderNames=builderNames, priority=self.priority, properties=props)


class RemoteBuildSetStatus(pb.Referenceable):
    """What `buildbot try --wait` follows: the build requests of the try buildset."""

    def __init__(self, master: Any, bsid: int, brids: dict[int, int]) -> None:
        self.master, self.bsid, self.brids = master, bsid, brids

    @as_deferred  # PB needs a Deferred
    async def remote_getBuildRequests(self) -> list[tuple[str, RemoteBuildRequest]]:
        out = []
        for builderid, brid in self.brids.items():
            builder = await self.master.data.get(("builders", builderid))
            out.append((builder["name"], RemoteBuildRequest(self.master, builder["name"],
                                                            brid)))
        return out


class RemoteBuildRequest(pb.Referenceable):
    """One build request: tells the subscriber about each of its builds."""

    def __init__(self, master: Any, builderName: str, brid: int) -> None:
        self.master, self.builderName, self.brid = master, builderName, brid
        self.consumer: Any = None

    @as_deferred  # PB needs a Deferred
    async def remote_subscribe(self, subscriber: Any) -> None:
        br = await self.master.data.get(("buildrequests", self.brid))
        if not br:
            return
        reported: set[int] = set()

        def got_build(key: Any, msg: dict[str, Any]) -> Any:
            if msg["buildrequestid"] != self.brid or key[-1] != "new" or \
                    msg["buildid"] in reported:
                return None
            reported.add(msg["buildid"])
            return subscriber.callRemote("newbuild", RemoteBuild(self.master, msg,
                                                                 self.builderName),
                                         self.builderName)

        self.consumer = await self.master.mq.startConsuming(
            got_build, ("builders", str(br["builderid"]), "builds", None, None))
        subscriber.notifyOnDisconnect(lambda _: self.remote_unsubscribe(subscriber))
        for build in await self.master.data.get(("buildrequests", self.brid, "builds")):
            if build["buildid"] not in reported:
                reported.add(build["buildid"])
                await subscriber.callRemote("newbuild", RemoteBuild(self.master, build,
                                                                    self.builderName),
                                            self.builderName)

    def remote_unsubscribe(self, subscriber: Any) -> None:
        if self.consumer is not None:
            self.consumer.stopConsuming()
            self.consumer = None


class RemoteBuild(pb.Referenceable):
    """One build: step events, completion, results."""

    def __init__(self, master: Any, builddict: dict[str, Any], builderName: str) -> None:
        self.master, self.builddict, self.builderName = master, builddict, builderName
        self.consumer: Any = None

    @as_deferred  # PB needs a Deferred
    async def remote_subscribe(self, subscriber: Any, interval: Any) -> None:
        def step_changed(key: Any, msg: dict[str, Any]) -> Any:
            if key[-1] == "started":
                return subscriber.callRemote("stepStarted", self.builderName, self,
                                             msg["name"], None)
            if key[-1] == "finished":
                return subscriber.callRemote("stepFinished", self.builderName, self,
                                             msg["name"], None, msg["results"])
            return None

        self.consumer = await self.master.mq.startConsuming(
            step_changed, ("builds", str(self.builddict["buildid"]), "steps", None, None))
        subscriber.notifyOnDisconnect(lambda _: self.remote_unsubscribe(subscriber))

    def remote_unsubscribe(self, subscriber: Any) -> None:
        if self.consumer is not None:
            self.consumer.stopConsuming()
            self.consumer = None

    @as_deferred  # PB needs a Deferred
    async def remote_waitUntilFinished(self) -> RemoteBuild:
        finished: defer.Deferred[None] = defer.Deferred()
        buildid = self.builddict["buildid"]

        def event(key: Any, msg: Any) -> None:
            if key[-1] == "finished" and not finished.called:
                finished.callback(None)

        consumer = await self.master.mq.startConsuming(event, ("builds", str(buildid), None))
        try:
            build = await self.master.data.get(("builds", buildid))
            if not build.get("complete", False):
                await finished
        finally:
            consumer.stopConsuming()
        return self

    @as_deferred  # PB needs a Deferred
    async def remote_getResults(self) -> Any:
        return (await self.master.data.get(("builds", self.builddict["buildid"])))["results"]

    @as_deferred  # PB needs a Deferred
    async def remote_getText(self) -> list[str]:
        build = await self.master.data.get(("builds", self.builddict["buildid"]))
        return [build["state_string"]]


class Try_Userpass_Perspective(NewCredPerspective):
    """A logged-in `buildbot try --connect=pb` client."""

    def __init__(self, scheduler: Try_Userpass, username: str) -> None:
        self.scheduler, self.username = scheduler, username

    @as_deferred  # PB needs a Deferred
    async def perspective_try(self, branch: Any, revision: Any, patch: Any, repository: Any,
                              project: Any, builderNames: Any, who: Any = "",
                              comment: Any = "", properties: Any = None
                              ) -> RemoteBuildSetStatus | None:
        log.info("user {user} requesting build on builders {names}", user=self.username,
                 names=builderNames)
        names = self.scheduler.filterBuilderList(builderNames)
        if not names:
            return None

        def text(v: Any) -> Any:
            return v.decode() if isinstance(v, bytes) else v

        who, comment = text(who), text(comment)
        reason = "'try' job" + (f" by user {who}" if who else "") + \
            (f" ({comment})" if comment else "")
        body = patch[1].encode() if isinstance(patch[1], str) else patch[1]
        sourcestamp = {
            "branch": text(branch), "revision": text(revision),
            "repository": text(repository), "project": text(project),
            "patch_level": patch[0], "patch_body": body, "patch_subdir": "",
            "patch_author": who or "", "patch_comment": comment or "", "codebase": ""}
        props = Properties()
        props.update(properties or {}, "try build")
        bsid, brids = await self.scheduler.addBuildsetForSourceStamps(
            sourcestamps=[sourcestamp], reason=reason, properties=props, builderNames=names)
        return RemoteBuildSetStatus(self.scheduler.master, bsid, brids)

    def perspective_getAvailableBuilderNames(self) -> Any:
        return self.scheduler.listBuilderNames()


class Try_Userpass(TryBase):
    """Accepts try jobs over PB on `port` for the (user, password) pairs of `userpass`."""

    def __init__(self, name: str, builderNames: Any, port: Any, userpass: Any,
                 **kwargs: Any) -> None:
        self.registrations: list[Any] = []
        super().__init__(name=name, builderNames=builderNames, port=port, userpass=userpass,
                         **kwargs)

    def checkConfig(self, builderNames: Any = None, port: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    userpass: Any = None, **kwargs: Any) -> None:
        super().checkConfig(builderNames=builderNames, **kwargs)

    async def reconfigService(self, builderNames: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              port: Any = None, userpass: Any = None, **kwargs: Any) -> None:
        super().reconfigService(builderNames=builderNames, **kwargs)
        self.port, self.userpass = port, userpass
        if self.active and self.enabled:
            await self._destroy_pb()
            await self._create_pb()

    async def _create_pb(self) -> None:
        def factory(mind: Any, username: str) -> Try_Userpass_Perspective:
            return Try_Userpass_Perspective(self, username)

        for user, passwd in self.userpass:
            self.registrations.append(await self.master.pbmanager.register(
                self.port, user, passwd, factory))

    async def _destroy_pb(self) -> None:
        registrations, self.registrations = self.registrations, []
        await gather(r.unregister() for r in registrations)

    async def activate(self) -> None:
        await super().activate()
        if not self.enabled:
            return
        await self._create_pb()

    async def deactivate(self) -> None:
        await super().deactivate()
        if not self.enabled:
            return
        await self._destroy_pb()


JobdirService = internal_class(__name__, "JobdirService",
                               "Try_Jobdir watches its job directory itself")
