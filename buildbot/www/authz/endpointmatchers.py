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
        bsid = None
        if self.buildset:
            bsid = self.buildset.get("bsid")
        elif self.buildrequest:
            bsid = self.buildrequest.get("buildsetid")
        elif self.build:
            br = await self.master.data.get(("buildrequests", self.build["buildrequestid"]))
            bsid = br.get("buildsetid") if br else None
        if bsid is None:
            return None
        props = await self.master.data.get(("buildsets", bsid, "properties"))
        if props and "owner" in props:
            owner = props["owner"]
            return owner[0] if isinstance(owner, (list, tuple)) else owner  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any
        return None


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
        return await self.match_endpoint(ep, endpoint, kwargs, action, options)

    async def match_endpoint(self, ep: tuple[Any, ...], endpoint: Any, kwargs: dict[str, Any],
                             action: str, options: dict[str, Any]) -> Match | None:
        """Our matchers' hook: decide from the resource type and action."""
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
        if action.lower() != "get":
            return Match(self.master)
        return None


class _BuildActionMatcher(EndpointMatcherBase):
    action = ""

    def __init__(self, builder: str | None = None, **kwargs: Any) -> None:
        self.builder = builder
        super().__init__(**kwargs)

    async def match_endpoint(self, ep: tuple[Any, ...], endpoint: Any, kwargs: dict[str, Any],
                             action: str, options: dict[str, Any]) -> Match | None:
        if action != self.action or _rtype_name(endpoint) != "build" or not _is_single(endpoint):
            return None
        build = await self.master.data.get(ep)
        if build is None:
            return None
        if self.builder is not None:
            name = await self._builder_name(build["builderid"])
            if not self._glob(name, self.builder):
                return None
        return Match(self.master, build=build)


class StopBuildEndpointMatcher(_BuildActionMatcher):
    """`stop` on a build (builds whose builder name matches `builder`, if given)."""

    action = "stop"


class RebuildBuildEndpointMatcher(_BuildActionMatcher):
    """`rebuild` on a build (builds whose builder name matches `builder`, if given)."""

    action = "rebuild"


class ForceBuildEndpointMatcher(EndpointMatcherBase):
    """`force` on a force scheduler; with `builder`, only when a targeted builder matches."""

    def __init__(self, builder: str | None = None, **kwargs: Any) -> None:
        self.builder = builder
        super().__init__(**kwargs)

    async def match_endpoint(self, ep: tuple[Any, ...], endpoint: Any, kwargs: dict[str, Any],
                             action: str, options: dict[str, Any]) -> Match | None:
        if action != "force" or _rtype_name(endpoint) != "forcescheduler":
            return None
        if self.builder is None:
            return Match(self.master)
        sched = await self.master.data.get(ep)
        if sched is None:
            return None
        names: list[Any] = list(sched.get("builder_names") or [])
        if options.get("builderid") is not None:
            try:
                names = [await self._builder_name(options["builderid"])]
            except (TypeError, ValueError):
                return None
        elif options.get("builderNames"):
            wanted = options["builderNames"]
            names = [n for n in names if n in wanted]
        if any(self._glob(n, self.builder) for n in names):
            return Match(self.master)
        return None


class EnableSchedulerEndpointMatcher(EndpointMatcherBase):
    """`enable` on a scheduler."""

    async def match_endpoint(self, ep: tuple[Any, ...], endpoint: Any, kwargs: dict[str, Any],
                             action: str, options: dict[str, Any]) -> Match | None:
        if action == "enable" and _rtype_name(endpoint) == "scheduler":
            return Match(self.master)
        return None


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
