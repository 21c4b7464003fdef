"""Building blocks of the data API: resource types, endpoints, path patterns, links.

Each resource type module (`data/builds.py`, ...) defines one `ResourceType` subclass with its
field spec, its endpoints (with the reference's path patterns), its update methods (marked
with `@update_method`, bound onto `master.data.updates`) and one function building the
message/REST body from a database row.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from buildbot.data import types
from buildbot.data.exceptions import InvalidControlException
from buildbot.util.resultspec import ResultSpec

if TYPE_CHECKING:
    from buildbot.data.connector import DataConnector

F = TypeVar("F", bound=Callable[..., Any])


class EndpointKind(enum.Enum):
    SINGLE = 1
    COLLECTION = 2
    RAW = 3
    RAW_INLINE = 4


_IDENT_PATH_RE = re.compile(r"^[a-zA-Z_-][.a-zA-Z0-9_-]*$")


class PathElement:
    """One element of a path pattern: a literal, or a named argument with a flag."""

    __slots__ = ("literal", "flag", "name")

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

    __slots__ = ("text", "elements")

    def __init__(self, text: str) -> None:
        self.text = text.strip().strip("/")
        self.elements = [PathElement(e) for e in self.text.split("/")] if self.text else []

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
    """

    kind: ClassVar[EndpointKind] = EndpointKind.SINGLE
    pathPatterns: ClassVar[str] = ""
    # logchunks: a single-item endpoint that honours offset/limit itself.
    isPseudoCollection: ClassVar[bool] = False
    # Filter/order/paging this endpoint evaluates in SQL (the rest is applied in memory).
    sql_fields: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, rtype: ResourceType, connector: DataConnector) -> None:
        self.rtype = rtype
        self.connector = connector
        self.master = connector.master
        self.db = connector.db
        self.mq = connector.mq

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


def update_method(fn: F) -> F:
    """Mark a ResourceType method as an update method (bound onto `master.data.updates`)."""
    fn.isUpdateMethod = True  # type: ignore[attr-defined]
    return fn


# Reference spelling, for plugins defining their own resource types.
updateMethod = update_method


class ResourceType:
    """One kind of resource: its fields, endpoints, events and update methods.

    `eventPathPatterns` lists the routing-key templates of the type's events (fields in
    `:name` form); `produceEvent(body, event)` sends the body under each of them.
    """

    name: ClassVar[str] = ""
    plural: ClassVar[str] = ""
    endpoints: ClassVar[list[type[Endpoint]]] = []
    keyField: ClassVar[str | None] = None
    eventPathPatterns: ClassVar[str] = ""
    entityType: ClassVar[types.Entity | None] = None
    subresources: ClassVar[list[str]] = []

    def __init__(self, connector: DataConnector) -> None:
        self.connector = connector
        self.master = connector.master
        self.db = connector.db
        self.mq = connector.mq
        self._event_templates = [
            [(True, e[1:]) if e.startswith(":") else (False, e) for e in p.strip("/").split("/")]
            for p in self.eventPathPatterns.split()
        ]

    @property
    def clock(self) -> Any:
        return self.connector.clock

    def now(self) -> int:
        return int(self.connector.clock.seconds())

    def event_keys(self, body: dict[str, Any], event: str) -> list[tuple[str, ...]]:
        """The routing keys of `event` for a resource whose fields are `body`."""
        keys = []
        for template in self._event_templates:
            key = tuple(str(body[part]) if is_field else part for is_field, part in template)
            keys.append(key + (event,))
        return keys

    def produceEvent(self, body: dict[str, Any], event: str) -> None:
        """Send `body` under every routing key of this type for `event`."""
        produce = self.mq.produce
        for key in self.event_keys(body, event):
            produce(key, body)
