"""Endpoint matchers: which requests an authz rule applies to (`Authz(allowRules=[...])`).

A matcher's `match(path, action, options)` returns a `Match` (the rule applies; the match
can find the owner of the targeted build for `RolesFromOwner`) or None. Matchers written
for the reference keep working: methods named `match_<EndpointClass>_<action>` or
`match_<EndpointClass>` are called with `(endpoint, path_kwargs, options)`.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from buildbot.data.exceptions import InvalidPathError
from buildbot.util.deferred import maybe_await
from buildbot.util.resultspec import ResultSpec


class Match:
    """A matched request; knows how to find the owner of what it targets."""

    def __init__(self, master: Any, build: dict[str, Any] | None = None,
                 buildrequest: dict[str, Any] | None = None,
                 buildset: dict[str, Any] | None = None) -> None:
        self.master = master
        self.build = build
        self.buildrequest = buildrequest
        self.buildset = buildset

    async def getOwner(self) -> str | None:
        """The `owner` property of the targeted buildset (through build or request)."""
        if self.buildset:
            return await self.getOwnerFromBuildSet(self.buildset)
        if self.buildrequest:
            return await self.getOwnerFromBuildRequest(self.buildrequest)
        if self.build:
            return await self.getOwnerFromBuild(self.build)
        return None

    async def getOwnerFromBuild(self, build: dict[str, Any]) -> str | None:
        """The owner of the buildset that `build` (a REST build) was started for."""
        request = await self.master.data.get(("buildrequests", build["buildrequestid"]))
        return await self.getOwnerFromBuildRequest(request) if request else None

    async def getOwnerFromBuildsetOrBuildRequest(
            self, buildsetorbuildrequest: dict[str, Any]) -> str | None:
        """The `owner` property of a buildset, given it (`bsid`) or one of its requests
        (`buildsetid`); None when the buildset has no owner."""
        target = buildsetorbuildrequest
        bsid = target.get("buildsetid", target.get("bsid"))
        if bsid is None:
            return None
        props = await self.master.data.get(("buildsets", bsid, "properties"))
        value: Any = (props or {}).get("owner")
        # properties travel as (value, source) pairs
        owner = value[0] if isinstance(value, (list, tuple)) else value
        return None if owner is None else str(owner)

    # 4.3's names for the same lookup
    getOwnerFromBuildRequest = getOwnerFromBuildsetOrBuildRequest
    getOwnerFromBuildSet = getOwnerFromBuildsetOrBuildRequest


class EndpointMatcherBase:
    """Base of endpoint matchers: `role` is the role pattern the rule requires;
    `defaultDeny` decides whether a user without it is refused or the next rule is tried."""

    def __init__(self, role: str, defaultDeny: bool = True) -> None:
        self.role = role
        self.defaultDeny = defaultDeny
        self.authz: Any = None
        self.master: Any = None

    def setAuthz(self, authz: Any) -> None:
        self.authz = authz
        self.master = authz.master

    async def match(self, ep: tuple[Any, ...], action: str = "get",
                    options: dict[str, Any] | None = None) -> Any:
        """Resolve the path and dispatch to `match_<EndpointClass>[_<action>]` methods."""
        if options is None:
            options = {}
        try:
            endpoint, kwargs = self.master.data.getEndpoint(ep)
        except InvalidPathError:
            return None
        for klass in type(endpoint).__mro__:
            m = getattr(self, f"match_{klass.__name__}_{action}", None)
            if m is None:
                m = getattr(self, f"match_{klass.__name__}", None)
            if m is not None:
                return await maybe_await(m(endpoint, kwargs, options))
        return None

    def _glob(self, value: Any, pattern: str) -> bool:
        return isinstance(value, str) and fnmatch.fnmatch(value, pattern)

    async def _builder_name(self, builderid: Any) -> str | None:
        builder = await self.master.data.get(("builders", int(builderid)))
        return builder["name"] if builder else None

    def __repr__(self) -> str:
        args = [f"{k}={v!r}" for k, v in vars(self).items()
                if isinstance(v, (str, bool)) and k not in ("authz", "master")]
        return f"{type(self).__name__}({', '.join(args)})"


def _rtype_name(endpoint: Any) -> str:
    return getattr(getattr(endpoint, "rtype", None), "name", "")


def _is_single(endpoint: Any) -> bool:
    return getattr(getattr(endpoint, "kind", None), "name", "") == "SINGLE"


class AnyEndpointMatcher(EndpointMatcherBase):
    """Every request, reads included (the path is not even resolved)."""

    async def match(self, ep: tuple[Any, ...], action: str = "get",
                    options: dict[str, Any] | None = None) -> Any:
        return Match(self.master)


class AnyControlEndpointMatcher(EndpointMatcherBase):
    """Every action except `get` (so also HEAD reads, as in the reference)."""

    async def match(self, ep: tuple[Any, ...], action: str = "",
                    options: dict[str, Any] | None = None) -> Any:
        return None if action.lower() == "get" else Match(self.master)


class _BuilderPatternMatcher(EndpointMatcherBase):
    """Control matchers that may be limited to builders whose name matches `builder`."""

    def __init__(self, builder: str | None = None, **kwargs: Any) -> None:
        self.builder = builder
        super().__init__(**kwargs)

    async def matchFromBuilderId(self, builderid: int) -> bool:
        """Whether the builder `builderid` is one this rule is about."""
        if self.builder is None:
            return True
        return self._glob(await self._builder_name(builderid), self.builder)

    async def _about(self, epobject: Any, epdict: dict[str, Any], what: str) -> Match | None:
        """A Match carrying the build or build request `epobject` serves (as `what`), if its
        builder is one of ours. Without a builder pattern any target matches, even a missing
        one: the endpoint then reports that it does not exist."""
        target = await epobject.get(ResultSpec(), epdict)
        if self.builder is not None and (
                target is None or not await self.matchFromBuilderId(target["builderid"])):
            return None
        return Match(self.master, **{what: target})


class StopBuildEndpointMatcher(_BuilderPatternMatcher):
    """`stop` on a build or a build request (of builders matching `builder`, if given)."""

    async def match_BuildEndpoint_stop(self, epobject: Any, epdict: dict[str, Any],
                                       options: dict[str, Any]) -> Match | None:
        return await self._about(epobject, epdict, "build")

    async def match_BuildRequestEndpoint_stop(self, epobject: Any, epdict: dict[str, Any],
                                              options: dict[str, Any]) -> Match | None:
        return await self._about(epobject, epdict, "buildrequest")


class RebuildBuildEndpointMatcher(_BuilderPatternMatcher):
    """`rebuild` on a build (of builders matching `builder`, if given)."""

    async def match_BuildEndpoint_rebuild(self, epobject: Any, epdict: dict[str, Any],
                                          options: dict[str, Any]) -> Match | None:
        return await self._about(epobject, epdict, "build")


class ForceBuildEndpointMatcher(_BuilderPatternMatcher):
    """`force` on a force scheduler; with `builder`, only when a builder the request
    targets (`builderid`, else the scheduler's builders among `builderNames`) matches."""

    async def match_ForceSchedulerEndpoint_force(self, epobject: Any, epdict: dict[str, Any],
                                                 options: dict[str, Any]) -> Match | None:
        if self.builder is None:
            return Match(self.master)
        sched = await epobject.get(ResultSpec(), epdict)
        if sched is None:
            return None
        names: list[Any] = list(sched.get("builder_names") or [])
        if options.get("builderid") is not None:
            try:
                names = [await self._builder_name(options["builderid"])]
            except (TypeError, ValueError):  # not a builder id: nothing to match
                return None
        elif options.get("builderNames"):
            wanted = options["builderNames"]
            names = [n for n in names if n in wanted]
        if any(self._glob(name, self.builder) for name in names):
            return Match(self.master)
        return None


class EnableSchedulerEndpointMatcher(EndpointMatcherBase):
    """`enable` on a scheduler."""

    async def match_SchedulerEndpoint_enable(self, epobject: Any, epdict: dict[str, Any],
                                             options: dict[str, Any]) -> Match | None:
        return Match(self.master)


def _build_prefix(ep: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The path of the build a path is about (`builds/5/steps/...` → `builds/5`)."""
    if len(ep) >= 2 and ep[0] == "builds":
        return tuple(ep[:2])
    if len(ep) >= 4 and ep[0] == "builders" and ep[2] == "builds":
        return tuple(ep[:4])
    return None


class _BuildReadMatcher(EndpointMatcherBase):
    """Shared by the read-access matchers: find the build (and its branch, project) a read
    is about. Reads of collections are not matched (there is no single build to judge)."""

    async def _build_of(self, ep: tuple[Any, ...]) -> dict[str, Any] | None:
        prefix = _build_prefix(ep)
        if prefix is None:
            return None
        try:
            endpoint, _ = self.master.data.getEndpoint(prefix)
        except InvalidPathError:
            return None
        if _rtype_name(endpoint) != "build" or not _is_single(endpoint):
            return None
        return await self.master.data.get(prefix)  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any

    async def _branches_of(self, build: dict[str, Any]) -> list[str]:
        br = await self.master.data.get(("buildrequests", build["buildrequestid"]))
        if not br:
            return []
        bs = await self.master.data.get(("buildsets", br["buildsetid"]))
        return [ss.get("branch") for ss in (bs or {}).get("sourcestamps", [])
                if ss.get("branch") is not None]


class ViewBuildsEndpointMatcher(_BuildReadMatcher):
    """Reads of one build and what lies below it (steps, logs, properties, data), when the
    build's builder, project and branch match the given patterns (None = any)."""

    def __init__(self, branch: str | None = None, project: str | None = None,
                 builder: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.branch = branch
        self.project = project
        self.builder = builder

    async def match(self, ep: tuple[Any, ...], action: str = "get",
                    options: dict[str, Any] | None = None) -> Any:
        if action.lower() not in ("get", "head"):
            return None
        build = await self._build_of(ep)
        if build is None:
            return None
        if self.builder is not None or self.project is not None:
            builder = await self.master.data.get(("builders", build["builderid"]))
            if builder is None:
                return None
            if self.builder is not None and not self._glob(builder["name"], self.builder):
                return None
            if self.project is not None:
                project = await self.master.data.get(("projects", builder["projectid"])) \
                    if builder.get("projectid") is not None else None
                if project is None or not self._glob(project["name"], self.project):
                    return None
        if self.branch is not None and not any(
                self._glob(b, self.branch) for b in await self._branches_of(build)):
            return None
        return Match(self.master, build=build)


class BranchEndpointMatcher(_BuildReadMatcher):
    """Reads of a build (and below it) or a change on a branch matching `branch`."""

    def __init__(self, branch: str, **kwargs: Any) -> None:
        self.branch = branch
        super().__init__(**kwargs)

    async def match(self, ep: tuple[Any, ...], action: str = "get",
                    options: dict[str, Any] | None = None) -> Any:
        if action.lower() not in ("get", "head"):
            return None
        if len(ep) == 2 and ep[0] == "changes":
            change = await self.master.data.get(ep)
            if change and self._glob(change.get("branch"), self.branch):
                return Match(self.master)
            return None
        build = await self._build_of(ep)
        if build is None:
            return None
        if any(self._glob(b, self.branch) for b in await self._branches_of(build)):
            return Match(self.master, build=build)
        return None
