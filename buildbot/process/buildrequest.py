"""Build requests as builds see them: the request, its buildset's properties, source stamps
and changes, fetched through the data API."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from buildbot.process.properties import Properties
from buildbot.util.deferred import ensure_deferred
from buildbot.util.internal import differs_internally, internal_class
from buildbot.util.timestamps import to_epoch


class TempChange:
    """A change attached to a source stamp (fields of the data API's change resource)."""

    def __init__(self, d: dict[str, Any]) -> None:
        self.number = d.get("changeid")
        self.who = self.author = d.get("author")
        self.committer = d.get("committer")
        self.comments = d.get("comments")
        self.revision = d.get("revision")
        self.when = d.get("when_timestamp")
        self.branch = d.get("branch")
        self.category = d.get("category")
        self.revlink = d.get("revlink")
        self.repository = d.get("repository")
        self.codebase = d.get("codebase")
        self.project = d.get("project")
        self.files = list(d.get("files") or [])
        self.properties = Properties()
        for name, (value, source) in (d.get("properties") or {}).items():
            self.properties.setProperty(name, value, source)

    def asChDict(self) -> dict[str, Any]:
        return {"changeid": self.number, "author": self.author, "committer": self.committer,
                "comments": self.comments, "revision": self.revision,
                "when_timestamp": self.when, "branch": self.branch,
                "category": self.category, "revlink": self.revlink,
                "repository": self.repository, "codebase": self.codebase,
                "project": self.project, "files": self.files,
                "properties": self.properties.asDict()}


class TempSourceStamp:
    """A source stamp of a build (attributes as the reference's, plus its changes)."""

    def __init__(self, d: dict[str, Any], changes: list[TempChange]) -> None:
        self.ssid = d.get("ssid")
        self.branch = d.get("branch")
        self.revision = d.get("revision")
        self.repository = d.get("repository") or ""
        self.project = d.get("project") or ""
        self.codebase = d.get("codebase") or ""
        self.created_at = d.get("created_at")
        patch = d.get("patch")
        self.patch = patch
        self.patch_info: tuple[Any, Any] | None = None
        if patch:
            self.patch_body = patch.get("body")
            self.patch_level = patch.get("level")
            self.patch_subdir = patch.get("subdir")
            self.patch_author = patch.get("author")
            self.patch_comment = patch.get("comment")
            self.patch_info = (self.patch_author, self.patch_comment)
        else:
            self.patch_body = self.patch_level = self.patch_subdir = None
            self.patch_author = self.patch_comment = None
        self.changes = changes

    def asDict(self) -> dict[str, Any]:
        """The stamp as the keyword arguments of a source stamp lookup (the reference's
        shape: the five attributes, plus `patch_*` when there is a patch)."""
        out: dict[str, Any] = {"branch": self.branch, "revision": self.revision,
                               "repository": self.repository, "project": self.project,
                               "codebase": self.codebase}
        if self.patch:
            out.update(patch_level=self.patch_level, patch_body=self.patch_body,
                       patch_subdir=self.patch_subdir, patch_author=self.patch_author,
                       patch_comment=self.patch_comment)
        return out

    def asSSDict(self) -> dict[str, Any]:
        """The data API's source stamp dict."""
        return {"ssid": self.ssid, "branch": self.branch, "revision": self.revision,
                "repository": self.repository, "project": self.project,
                "codebase": self.codebase, "patch": self.patch,
                "created_at": self.created_at}

    def getAbsoluteSourceStamp(self, got_revision: str | None) -> TempSourceStamp:
        d = self.asSSDict()
        d["revision"] = got_revision
        return TempSourceStamp(d, self.changes)


class BuildRequest:
    """One build request with what a build needs from its buildset."""

    # class-level defaults, as in 4.3 (each request sets its own in __init__)
    submittedAt: int | None = None
    sources: dict[str, TempSourceStamp] = {}  # noqa: RUF012 - never mutated, replaced

    def __init__(self) -> None:
        self.id: int = 0
        self.bsid: int = 0
        self.builderid: int = 0
        self.buildername: str | None = None
        self.priority = 0
        self.submittedAt = None
        self.reason = ""
        self.waitedFor = False
        self.properties = Properties()
        self.sources = {}
        self.master: Any = None
        self.brdict: dict[str, Any] = {}
        self.parent_buildid: int | None = None

    def __repr__(self) -> str:
        return f"<BuildRequest {self.id} on builder {self.builderid}>"

    @classmethod
    async def fromBrdict(cls, master: Any, brdict: dict[str, Any]) -> BuildRequest:
        """Build the object from a data API buildrequest, fetching its buildset (the
        buildset part is cached on the master per buildset id)."""
        req = cls()
        req.master = master
        req.brdict = brdict
        req.id = brdict["buildrequestid"]
        req.bsid = brdict["buildsetid"]
        req.builderid = brdict["builderid"]
        req.priority = brdict.get("priority", 0)
        # epoch seconds, as in Buildbot 4.3 (the data API gives a datetime)
        req.submittedAt = to_epoch(brdict.get("submitted_at"))
        req.waitedFor = bool(brdict.get("waited_for"))
        bset, props, sources = await _buildset_info(master, req.bsid)
        req.reason = (bset or {}).get("reason") or ""
        req.parent_buildid = (bset or {}).get("parent_buildid")
        for name, (value, source) in props.items():
            req.properties.setProperty(name, value, source)
        req.sources = sources
        return req

    @property
    def changes(self) -> list[TempChange]:
        out: list[TempChange] = []
        for ss in self.sources.values():
            out.extend(ss.changes)
        return out

    def getSubmitTime(self) -> int | None:
        """When the request was submitted (epoch seconds)."""
        return self.submittedAt

    def mergeReasons(self, others: list[BuildRequest]) -> str:
        """The distinct non-empty reasons of this request and `others`, joined by ", "."""
        reasons: list[str] = []
        for req in [self, *others]:
            if req.reason and req.reason not in reasons:
                reasons.append(req.reason)
        return ", ".join(reasons)

    def mergeSourceStampsWith(self, others: list[BuildRequest]) -> list[TempSourceStamp]:
        """One source stamp per codebase of all the requests: the last request's wins."""
        merged: dict[str, TempSourceStamp] = {}
        for req in [self, *others]:
            merged.update(req.sources)
        return list(merged.values())

    @staticmethod
    def filter_buildset_props_for_collapsing(bs_props: dict[str, Any]) -> dict[str, Any]:
        """The buildset properties that keep requests apart: those a scheduler set (except
        `scheduler` itself), by name."""
        return {name: value for name, (value, source) in bs_props.items()
                if name != "scheduler" and source == "Scheduler"}

    @staticmethod
    def canBeCollapsed(master: Any, new_br: dict[str, Any],
                       old_br: dict[str, Any]) -> defer.Deferred[bool]:
        """Buildbot's default collapse rule for two requests (data API dicts), via Deferred:
        same buildset, or an older request with the same source stamps (no patch; both with
        changes or the same revision) and the same scheduler properties."""
        return ensure_deferred(master.botmaster._default_collapse(new_br, old_br))


async def _buildset_info(master: Any, bsid: int) -> tuple[Any, dict[str, Any],
                                                          dict[str, TempSourceStamp]]:
    # The buildset, its properties and its stamps' changes: one read (one transaction).
    bset, props, changes = await master.data.rtypes.buildset.for_build(bsid)
    sources = {}
    for ss in (bset or {}).get("sourcestamps") or []:
        chs = changes.get(ss["ssid"]) or []
        sources[ss.get("codebase") or ""] = TempSourceStamp(ss, [TempChange(c) for c in chs])
    return bset, props, sources


_BR_WHY = "requests are collapsed by the build request distributor"
BuildRequestCollapser = internal_class(__name__, "BuildRequestCollapser", _BR_WHY)
differs_internally("made from build request rows by the master")(TempSourceStamp)
