"""`master.data`: getters, subscriptions, control actions and update methods."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from buildbot.data.base import Endpoint, EndpointKind, PathPattern, ResourceType
from buildbot.data.consistency import SnapshotSubscription
from buildbot.data.exceptions import InvalidPathError
from buildbot.data.resultspec import resultspec_from_jsonapi
from buildbot.util.resultspec import Filter, ResultSpec
from buildbot.util.service import AsyncService
from buildbot.util.timestamps import to_datetime

# Every resource type module, in the reference's registration order: endpoint patterns of
# equal length are tried in this order, and the root collection lists its links in it.
RESOURCE_TYPE_MODULES = [
    "buildbot.data.build_data",
    "buildbot.data.builders",
    "buildbot.data.builds",
    "buildbot.data.buildrequests",
    "buildbot.data.codebases",
    "buildbot.data.codebase_commits",
    "buildbot.data.codebase_branches",
    "buildbot.data.workers",
    "buildbot.data.steps",
    "buildbot.data.logs",
    "buildbot.data.logchunks",
    "buildbot.data.buildsets",
    "buildbot.data.changes",
    "buildbot.data.changesources",
    "buildbot.data.masters",
    "buildbot.data.sourcestamps",
    "buildbot.data.schedulers",
    "buildbot.data.forceschedulers",
    "buildbot.data.root",
    "buildbot.data.projects",
    "buildbot.data.properties",
    "buildbot.data.test_results",
    "buildbot.data.test_result_sets",
    "buildbot.data.patches",
    "buildbot.data.state",
    "buildbot.data.scheduler_state",
]

#: Paths whose endpoint lookup is remembered (the cache is emptied when full).
ENDPOINT_CACHE_SIZE = 4096

MessageCallback = Callable[[tuple[str, ...], Any], Any]


def _as_datetime(value: Any) -> Any:
    # Results carry times as datetimes; a filter on one may give epoch seconds (REST query
    # strings always do). Buildbot 4.3 compares them as given and fails (docs/differences.md).
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return to_datetime(value)
    return value


class Updates:
    """Holder of every update method (`master.data.updates.<name>`)."""


class RTypes:
    """Every resource type by name (`master.data.rtypes.build`)."""


class DataConnector(AsyncService):
    """The data API of one master.

    `master` must provide `db`, `mq`, `reactor` (an IReactorTime) and `masterid`, and
    `config` (a MasterConfig) for the update methods that read configuration; resource types
    reach other master services only through the two hooks below.

    Hooks the process layer installs:

    - `buildrequest_collapser`: `async (brids: list[int]) -> None`, called by `addBuildset`
      between storing the new requests and announcing them (request collapsing);
    - `force_scheduler_source`: `() -> Iterable[ForceScheduler]`, the configured force
      schedulers (the `forceschedulers` endpoints and their `force` action).
    """

    def __init__(self, master: Any, modules: Iterable[str] = RESOURCE_TYPE_MODULES) -> None:
        super().__init__(name="data")
        self.master = master
        # Filled from the resource types; attributes are looked up by name, hence Any.
        self.updates: Any = Updates()
        self.rtypes: Any = RTypes()
        self.rootLinks: list[dict[str, str]] = []
        self.rtypes_by_name: dict[str, ResourceType] = {}
        self.plural_rtypes: dict[str, ResourceType] = {}
        self._patterns: dict[int, list[tuple[PathPattern, Endpoint]]] = {}
        self._endpoints: list[tuple[PathPattern, Endpoint]] = []
        # path -> (endpoint, arguments): matching a path against the patterns of its length
        # cost as much as the rest of the data get of a small resource.
        self._endpoint_cache: dict[tuple[Any, ...], tuple[Endpoint, dict[str, Any]]] = {}
        self._all_endpoints: list[dict[str, Any]] | None = None
        # -- process-layer hooks
        self.buildrequest_collapser: Callable[[list[int]], Awaitable[Any]] | None = None
        self.force_scheduler_source: Callable[[], Iterable[Any]] | None = None
        # -- write tracking for get_and_subscribe
        self._write_seq = 0
        self._writes_in_flight: set[int] = set()
        self._watchers: list[SnapshotSubscription] = []
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
        self.rtypes_by_name[rtype.name] = rtype
        self.plural_rtypes[rtype.plural] = rtype
        setattr(self.rtypes, rtype.name, rtype)
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
            if ep_class.rootLinkName:
                self.rootLinks.append({"name": ep_class.rootLinkName})
        self._all_endpoints = None
        self._endpoint_cache.clear()

    # -- getters ------------------------------------------------------------------------
    def getEndpoint(self, path: Sequence[Any]) -> tuple[Endpoint, dict[str, Any]]:
        """The endpoint serving `path` and its path arguments (a dict of the caller's own);
        InvalidPathError if none."""
        key = path if type(path) is tuple else tuple(path)
        # Only str and int elements: 1, 1.0 and True are one dict key but not one argument.
        cacheable = all(type(p) is str or type(p) is int for p in key)
        hit = self._endpoint_cache.get(key) if cacheable else None
        if hit is not None:
            return hit[0], dict(hit[1])
        for pattern, endpoint in self._patterns.get(len(path), ()):
            kwargs = pattern.match(path)
            if kwargs is not None:
                if cacheable:
                    if len(self._endpoint_cache) >= ENDPOINT_CACHE_SIZE:
                        self._endpoint_cache.clear()
                    self._endpoint_cache[key] = (endpoint, kwargs)
                return endpoint, dict(kwargs)
        raise InvalidPathError("Invalid path: " + "/".join(str(p) for p in path))

    def endpoint_pattern(self, path: Sequence[Any]) -> str | None:
        """The pattern text (`builders/n:builderid/builds`) of the endpoint serving `path`,
        or None: a label of bounded variety for request metrics."""
        for pattern, _ in self._patterns.get(len(path), ()):
            if pattern.match(path) is not None:
                return pattern.text
        return None

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
        and before paging (None for single resources).

        When paging was done in SQL the total is the number of items of the page, as in
        Buildbot 4.3 (`meta.total` of `/builds?limit=1` is 1).
        """
        endpoint, kwargs = self.getEndpoint(path)
        return await self.get_from_endpoint(endpoint, kwargs, result_spec)

    async def get_from_endpoint(self, endpoint: Endpoint, kwargs: dict[str, Any],
                                result_spec: ResultSpec) -> tuple[Any, int | None]:
        """`get_with_total` of an endpoint already looked up (`getEndpoint`); `kwargs`
        becomes the endpoint's, `result_spec` is left as it is."""
        rs = result_spec.copy()
        data = await endpoint.get(rs, kwargs)
        if data is None or endpoint.isRaw:
            return data, None
        if endpoint.kind == EndpointKind.COLLECTION and not endpoint.isPseudoCollection:
            items = list(data)
            times = getattr(endpoint.rtype, "datetime_fields", ())
            for f in rs.filters:
                if f.field in times:
                    f.values = [_as_datetime(v) for v in f.values]
                items = f.apply(items)
            total = len(items)
            rs.filters = []
            return rs.apply(items), total
        return rs.apply(data), None

    def resultspec_from_jsonapi(self, req_args: Mapping[Any, Sequence[Any]], entityType: Any,
                                is_collection: bool) -> ResultSpec:
        """Parse REST query arguments (see `buildbot.data.resultspec`)."""
        return resultspec_from_jsonapi(req_args, entityType, is_collection)

    # -- control and subscriptions ------------------------------------------------------
    async def control(self, action: str, args: dict[str, Any], path: Sequence[Any]) -> Any:
        """Run a control action on the resource at `path`."""
        endpoint, kwargs = self.getEndpoint(path)
        return await endpoint.control(action, args, kwargs)

    def topic_for_path(self, path: Sequence[Any]) -> tuple[str | None, ...]:
        """The mq topic of the events of the resource (or collection) at `path`."""
        endpoint, _ = self.getEndpoint(path)
        key = tuple(str(p) for p in path)
        if endpoint.kind == EndpointKind.COLLECTION:
            return key + (None, None)
        return key + (None,)

    async def startConsuming(self, callback: MessageCallback,
                             options: dict[str, Any] | None, path: Sequence[Any]) -> Any:
        """Subscribe to the events of the resource (or collection) at `path`."""
        return await self.mq.startConsuming(callback, self.topic_for_path(path))

    async def get_and_subscribe(
        self, path: Sequence[Any], callback: MessageCallback,
        result_spec: ResultSpec | None = None,
        topic: tuple[str | None, ...] | None = None,
    ) -> tuple[Any, SnapshotSubscription]:
        """Get the resource (or collection) at `path` and subscribe to its later changes,
        without missing or duplicating an update.

        Subscribes first, buffers the messages that arrive while the getter runs, then
        passes on only those announcing writes the snapshot does not already show (decided
        from this master's write sequence, or by comparing whole-resource bodies with the
        snapshot for messages of other masters). Returns `(snapshot, subscription)`;
        `subscription.stopConsuming()` ends it.

        The topic is the path followed by wildcards (so the path must name resources by id,
        as routing keys do), unless `topic` is given.
        """
        rs = result_spec if result_spec is not None else ResultSpec()
        endpoint, _ = self.getEndpoint(path)
        sub = SnapshotSubscription(self, endpoint.rtype, callback)
        self._watchers.append(sub)
        try:
            sub.consumer = await self.mq.startConsuming(
                sub.on_message, topic if topic is not None else self.topic_for_path(path))
            sub.read_started(self._write_seq, self._writes_in_flight)
            data = await self.get_with_resultspec(path, rs)
        except BaseException:
            sub.stopConsuming()
            raise
        sub.read_finished(data, self._write_seq, self._writes_in_flight)
        return data, sub

    # -- producing ----------------------------------------------------------------------
    def write_begin(self) -> int:
        """Number a database write that will be announced (see `ResourceType.writing`)."""
        self._write_seq += 1
        self._writes_in_flight.add(self._write_seq)
        return self._write_seq

    def write_end(self, seq: int) -> None:
        self._writes_in_flight.discard(seq)
        for watcher in list(self._watchers):
            watcher.write_done(seq)

    def produce_keys(self, keys: Iterable[tuple[str, ...]], body: Any, seq: int | None) -> None:
        """Send one body under several routing keys, in order."""
        if self._watchers:
            for watcher in self._watchers:
                watcher.note(body, seq)
        produce = self.mq.produce
        for key in keys:
            produce(key, body)

    def forget_watcher(self, watcher: SnapshotSubscription) -> None:
        if watcher in self._watchers:
            self._watchers.remove(watcher)

    def produceEvent(self, rtype: str, msg: dict[str, Any], event: str) -> None:
        """Reference API (deprecated there): announce `msg` as `event` of type `rtype`."""
        self.rtypes_by_name[rtype].produceEvent(msg, event)

    # -- introspection -------------------------------------------------------------------
    def allEndpoints(self) -> list[dict[str, Any]]:
        """One description per path pattern, sorted by path (the body of
        `/application.spec`)."""
        if self._all_endpoints is None:
            out = []
            for pattern, endpoint in sorted(self._endpoints, key=lambda pe: pe[0].sort_key):
                etype = endpoint.rtype.entityType
                out.append({
                    "path": pattern.text,
                    "plural": endpoint.rtype.plural,
                    "type": etype.name if etype is not None else endpoint.rtype.name,
                    "type_spec": etype.getSpec() if etype is not None else {},
                })
            self._all_endpoints = out
        return self._all_endpoints

    def getResourceType(self, name: str) -> ResourceType | None:
        return self.rtypes_by_name.get(name)
