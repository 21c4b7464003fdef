"""`master.data`: getters, subscriptions, control actions and update methods."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from buildbot.data.base import Endpoint, EndpointKind, PathPattern, ResourceType
from buildbot.data.exceptions import InvalidPathError
from buildbot.util.resultspec import Filter, ResultSpec
from buildbot.util.service import AsyncService

# Every resource type module, in registration order (endpoint patterns of equal length are
# tried in this order, as in the reference).
RESOURCE_TYPE_MODULES = [
    "buildbot.data.root",
    "buildbot.data.masters",
    "buildbot.data.builders",
    "buildbot.data.builds",
    "buildbot.data.properties",
    "buildbot.data.buildrequests",
    "buildbot.data.buildsets",
    "buildbot.data.sourcestamps",
    "buildbot.data.changes",
    "buildbot.data.changesources",
    "buildbot.data.schedulers",
    "buildbot.data.forceschedulers",
    "buildbot.data.workers",
    "buildbot.data.steps",
    "buildbot.data.logs",
    "buildbot.data.logchunks",
    "buildbot.data.build_data",
    "buildbot.data.projects",
    "buildbot.data.codebases",
    "buildbot.data.codebase_commits",
    "buildbot.data.codebase_branches",
    "buildbot.data.test_result_sets",
    "buildbot.data.test_results",
    "buildbot.data.patches",
]


class Updates:
    """Holder of every update method (`master.data.updates.<name>`)."""


class DataConnector(AsyncService):
    """The data API of one master.

    `master` must provide `db`, `mq`, `reactor` (an IReactorTime) and `masterid`; resource
    types reach other master services (configuration, schedulers) through it without
    importing them.
    """

    def __init__(self, master: Any, modules: Iterable[str] = RESOURCE_TYPE_MODULES) -> None:
        super().__init__(name="data")
        self.master = master
        self.updates = Updates()
        self.rtypes: dict[str, ResourceType] = {}
        self.plural_rtypes: dict[str, ResourceType] = {}
        self._patterns: dict[int, list[tuple[PathPattern, Endpoint]]] = {}
        self._endpoints: list[tuple[PathPattern, Endpoint]] = []
        for modname in modules:
            try:
                module = importlib.import_module(modname)
            except ModuleNotFoundError as e:
                if e.name == modname:  # a resource type not written yet
                    continue
                raise
            for obj in vars(module).values():
                if isinstance(obj, type) and issubclass(obj, ResourceType) and \
                        obj is not ResourceType and obj.__module__ == modname and obj.name:
                    self._add_rtype(obj(self))

    # Collaborators, looked up when used (the master creates db and mq after us).
    @property
    def db(self) -> Any:
        return self.master.db

    @property
    def mq(self) -> Any:
        return self.master.mq

    @property
    def clock(self) -> Any:
        return self.master.reactor

    def _add_rtype(self, rtype: ResourceType) -> None:
        self.rtypes[rtype.name] = rtype
        self.plural_rtypes[rtype.plural] = rtype
        for name in dir(type(rtype)):
            attr = getattr(rtype, name, None)
            if callable(attr) and getattr(attr, "isUpdateMethod", False):
                setattr(self.updates, name, attr)
        for ep_class in rtype.endpoints:
            endpoint = ep_class(rtype, self)
            for text in ep_class.pathPatterns.split():
                pattern = PathPattern(text)
                self._patterns.setdefault(len(pattern.elements), []).append((pattern, endpoint))
                self._endpoints.append((pattern, endpoint))

    # -- getters ------------------------------------------------------------------------
    def getEndpoint(self, path: Sequence[Any]) -> tuple[Endpoint, dict[str, Any]]:
        """The endpoint serving `path` and its path arguments; InvalidPathError if none."""
        for pattern, endpoint in self._patterns.get(len(path), ()):
            kwargs = pattern.match(path)
            if kwargs is not None:
                return endpoint, kwargs
        raise InvalidPathError("Invalid path: " + "/".join(str(p) for p in path))

    async def get(
        self,
        path: Sequence[Any],
        filters: Iterable[Filter] | None = None,
        fields: Iterable[str] | None = None,
        order: Iterable[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Any:
        """Get one resource (a dict or None) or a collection (a list)."""
        rs = ResultSpec(filters=filters, fields=fields, order=order, limit=limit, offset=offset)
        return await self.get_with_resultspec(path, rs)

    async def get_with_resultspec(self, path: Sequence[Any], result_spec: ResultSpec) -> Any:
        data, _ = await self.get_with_total(path, result_spec)
        return data

    async def get_with_total(self, path: Sequence[Any],
                             result_spec: ResultSpec) -> tuple[Any, int | None]:
        """Like `get_with_resultspec`, also returning the number of items after filtering
        and before paging (None for single resources)."""
        endpoint, kwargs = self.getEndpoint(path)
        rs = result_spec.copy()
        data = await endpoint.get(rs, kwargs)
        if data is None or endpoint.isRaw:
            return data, None
        if endpoint.kind == EndpointKind.COLLECTION and not endpoint.isPseudoCollection:
            items = list(data)
            for f in rs.filters:
                items = f.apply(items)
            total = len(items)
            rs.filters = []
            return rs.apply(items), total
        return rs.apply(data), None

    # -- control and subscriptions ------------------------------------------------------
    async def control(self, action: str, args: dict[str, Any], path: Sequence[Any]) -> Any:
        """Run a control action on the resource at `path`."""
        endpoint, kwargs = self.getEndpoint(path)
        return await endpoint.control(action, args, kwargs)

    async def startConsuming(self, callback: Callable[[tuple[str, ...], Any], Any],
                             options: dict[str, Any] | None, path: Sequence[Any]) -> Any:
        """Subscribe to the events of the resource (or collection) at `path`."""
        endpoint, _ = self.getEndpoint(path)
        key = tuple(str(p) for p in path)
        topic: tuple[str | None, ...]
        if endpoint.kind == EndpointKind.COLLECTION:
            topic = key + (None, None)
        else:
            topic = key + (None,)
        return await self.mq.startConsuming(callback, topic)

    # -- introspection -------------------------------------------------------------------
    def allEndpoints(self) -> list[dict[str, Any]]:
        """One description per path pattern (the body of `/application.spec`)."""
        out = []
        for pattern, endpoint in self._endpoints:
            rtype = endpoint.rtype
            spec = rtype.entityType.getSpec() if rtype.entityType is not None else {}
            out.append(dict(path=pattern.text, plural=rtype.plural, type=rtype.entityType.name
                            if rtype.entityType is not None else rtype.name, type_spec=spec))
        return out

    def getResourceType(self, name: str) -> ResourceType | None:
        return self.rtypes.get(name)
