"""Building blocks of the data API: resource types, endpoints, path patterns, links.

Each resource type module (`data/builds.py`, ...) defines one `ResourceType` subclass with its
field spec, its endpoints (with the reference's path patterns), its update methods (marked
with `@update_method`, bound onto `master.data.updates`) and one function building the
message/REST body from a database row.
"""

from __future__ import annotations

import collections
import contextlib
import enum
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from buildbot.data import types
from buildbot.data.exceptions import ControlParamsError, InvalidControlException
from buildbot.util.resultspec import ResultSpec

if TYPE_CHECKING:
    from buildbot.data.connector import DataConnector

F = TypeVar("F", bound=Callable[..., Any])
K = TypeVar("K")
V = TypeVar("V")


class EndpointKind(enum.Enum):
    SINGLE = 1
    COLLECTION = 2
    RAW = 3
    RAW_INLINE = 4


_IDENT_PATH_RE = re.compile(r"^[a-zA-Z_-][.a-zA-Z0-9_-]*$")


class PathElement:
    """One element of a path pattern: a literal, or a named argument with a flag."""

    __slots__ = ("flag", "literal", "name")

    def __init__(self, text: str) -> None:
        if ":" in text:
            flag, name = text.split(":", 1)
            self.literal: str | None = None
            self.flag, self.name = flag, name
        else:
            self.literal, self.flag, self.name = text, "", ""

    def match(self, value: Any) -> tuple[bool, Any]:
        """(matched?, converted argument value)."""
        if self.literal is not None:
            return str(value) == self.literal, None
        if self.flag == "n":
            if isinstance(value, int) and not isinstance(value, bool):
                return True, value
            try:
                return True, int(value)
            except (TypeError, ValueError):
                return False, None
        if self.flag == "i":
            s = str(value)
            return _IDENT_PATH_RE.match(s) is not None, s
        return True, str(value)  # 's:' and flagless ':name'


class PathPattern:
    """A parsed pattern such as `/builders/n:builderid/builds/n:build_number`."""

    __slots__ = ("elements", "text")

    def __init__(self, text: str) -> None:
        self.text = text.strip().strip("/")
        self.elements = [PathElement(e) for e in self.text.split("/")] if self.text else []

    @property
    def sort_key(self) -> tuple[str, ...]:
        """The pattern as a tuple of elements (the order of `/application.spec`)."""
        return tuple(self.text.split("/")) if self.text else ()

    def match(self, path: Sequence[Any]) -> dict[str, Any] | None:
        if len(path) != len(self.elements):
            return None
        kwargs: dict[str, Any] = {}
        for elem, value in zip(self.elements, path):
            ok, arg = elem.match(value)
            if not ok:
                return None
            if elem.literal is None:
                kwargs[elem.name] = arg
        return kwargs


class Link:
    """A path to another resource (serialized as a URL by the web layer)."""

    __slots__ = ("path",)

    def __init__(self, path: Sequence[Any]) -> None:
        self.path = tuple(path)

    def __repr__(self) -> str:
        return f"Link({self.path!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Link) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)


class Endpoint:
    """Answers gets (and control actions) for a set of path patterns.

    Subclasses set `kind` and `pathPatterns` (whitespace-separated patterns, as in the
    reference) and implement `get(result_spec, kwargs)`; `control(action, args, kwargs)`
    defaults to "not supported".

    `get` receives a private copy of the query options and removes from it what it
    evaluated itself (path-implied filters, filters/order/paging done in SQL); the connector
    applies whatever is left in memory.
    """

    kind: ClassVar[EndpointKind] = EndpointKind.SINGLE
    pathPatterns: ClassVar[str] = ""
    # Listed in the root collection (`/api/v2`) under this name.
    rootLinkName: ClassVar[str | None] = None
    # logchunks: a single-item endpoint that honours offset/limit itself.
    isPseudoCollection: ClassVar[bool] = False
    # Filter/order/paging this endpoint evaluates in SQL (the rest is applied in memory).
    sql_fields: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, rtype: ResourceType, connector: DataConnector) -> None:
        self.rtype = rtype
        self.connector = connector
        self.master = connector.master

    @property
    def db(self) -> Any:
        return self.connector.db

    @property
    def mq(self) -> Any:
        return self.connector.mq

    @property
    def isRaw(self) -> bool:
        return self.kind in (EndpointKind.RAW, EndpointKind.RAW_INLINE)

    @property
    def isCollection(self) -> bool:
        return self.kind == EndpointKind.COLLECTION

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        raise NotImplementedError

    async def control(self, action: str, args: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        raise InvalidControlException(f"action: {action} is not supported")

    def get_kwargs_for_event(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return kwargs

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.pathPatterns.split()!r}>"


def control_reason(args: Mapping[str, Any], kwargs: Mapping[str, Any] | None = None) -> str:
    """The `reason` of a control action (`stop`, `cancel`, worker actions): text, default
    `no reason`; anything else is refused naming the field (Buildbot 4.3 passes it on and
    fails later, in the database or a log line)."""
    reason = (kwargs or {}).get("reason", args.get("reason"))
    if reason is None:
        return "no reason"
    if not isinstance(reason, str):
        raise ControlParamsError({"reason": "a text is required"})
    return reason


def update_method(fn: F) -> F:
    """Mark a ResourceType method as an update method (bound onto `master.data.updates`)."""
    fn.isUpdateMethod = True  # type: ignore[attr-defined]  # update methods are marked by a function attribute (4.3's surface)
    return fn


# Reference spelling, for plugins defining their own resource types.
updateMethod = update_method


class ResourceType:
    """One kind of resource: its fields, endpoints, events and update methods.

    `eventPathPatterns` lists the routing-key templates of the type's events (fields in
    `:name` form); `produceEvent(body, event)` sends the body under each of them.
    `keyField` names the field identifying one resource, and `stateEvents` the events whose
    body is the whole resource as the single-item getter returns it (the consistency logic of
    `DataConnector.get_and_subscribe` compares those with a snapshot).
    """

    name: ClassVar[str] = ""
    plural: ClassVar[str] = ""
    endpoints: ClassVar[list[type[Endpoint]]] = []
    keyField: ClassVar[str | None] = None
    eventPathPatterns: ClassVar[str] = ""
    stateEvents: ClassVar[frozenset[str]] = frozenset()
    entityType: ClassVar[types.Type | None] = None
    subresources: ClassVar[list[str]] = []

    def __init__(self, connector: DataConnector) -> None:
        self.connector = connector
        self.master = connector.master
        self._event_templates = [
            [(True, e[1:]) if e.startswith(":") else (False, e) for e in p.strip("/").split("/")]
            for p in self.eventPathPatterns.split()
        ]
        #: Fields holding times (aware datetimes in results), for in-memory filters.
        self.datetime_fields: frozenset[str] = (
            self.entityType.datetime_fields if isinstance(self.entityType, types.Entity)
            else frozenset())

    @property
    def db(self) -> Any:
        return self.connector.db

    @property
    def mq(self) -> Any:
        return self.connector.mq

    @property
    def clock(self) -> Any:
        return self.connector.clock

    def now(self) -> int:
        return int(self.connector.clock.seconds())

    def event_keys(self, body: Mapping[str, Any], event: str) -> list[tuple[str, ...]]:
        """The routing keys of `event` for a resource whose fields are `body`."""
        keys = []
        for template in self._event_templates:
            key = tuple(str(body[part]) if is_field else part for is_field, part in template)
            keys.append(key + (event,))
        return keys

    def produceEvent(self, body: dict[str, Any], event: str, seq: int | None = None) -> None:
        """Send `body` under every routing key of this type for `event`, in the order of
        `eventPathPatterns`. `seq` is the write (from `writing()`) the message announces."""
        if body is None:
            return
        self.connector.produce_keys(self.event_keys(body, event), body, seq)

    def produce(self, key: tuple[str, ...], body: Any, seq: int | None = None) -> None:
        """Send one message with an explicit routing key."""
        self.connector.produce_keys((key,), body, seq)

    @contextlib.contextmanager
    def writing(self) -> Iterator[int]:
        """Bracket a database write whose result is announced afterwards; yields the write's
        sequence number, to pass to `produceEvent`."""
        seq = self.connector.write_begin()
        try:
            yield seq
        finally:
            self.connector.write_end(seq)


# -- helpers shared by resource type modules --------------------------------------------------

def take_sql_spec(result_spec: ResultSpec, sql_fields: Iterable[str]) -> ResultSpec | None:
    """The part of `result_spec` the database evaluates, removed from `result_spec`.

    When every filter and order field is a column, filters, order, limit and offset all go to
    SQL and the spec keeps only field selection (and properties); otherwise nothing goes to
    SQL (None) and everything stays to be applied in memory.
    """
    sql, _ = result_spec.split(frozenset(sql_fields))
    if sql is not None:
        result_spec.filters = []
        result_spec.order = None
        result_spec.limit = result_spec.offset = None
    return sql


def filter_properties(props: Mapping[str, Any], wanted: Sequence[str]) -> dict[str, Any]:
    """The properties named in `wanted` (`*` = all)."""
    if "*" in wanted:
        return dict(props)
    names = set(wanted)
    return {k: v for k, v in props.items() if k in names}


def sourced(props: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Sourced properties as JSON bodies carry them: `{name: [value, source]}`."""
    return {k: [v[0], v[1]] for k, v in props.items()}


class RowCache(Generic[K, V]):
    """A bounded id → row cache (least recently used rows are dropped first).

    Used for rows that never change once written (source stamps, changes), and for the rows
    of objects this master is updating (running builds, their steps and logs) so that
    announcing an update does not need to read back the row just written; such a row is
    dropped when its object is finished.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._rows: collections.OrderedDict[K, V] = collections.OrderedDict()

    def get(self, key: K) -> V | None:
        row = self._rows.get(key)
        if row is not None:
            self._rows.move_to_end(key)
        return row

    def put(self, key: K, row: V) -> V:
        self._rows[key] = row
        self._rows.move_to_end(key)
        if len(self._rows) > self.size:
            self._rows.popitem(last=False)
        return row

    def drop(self, key: K) -> None:
        self._rows.pop(key, None)

    def __len__(self) -> int:
        return len(self._rows)
