"""Query options of the data API: filters, field selection, ordering and paging.

A `ResultSpec` travels from the REST layer through the data layer to the database layer,
which is why it lives here (db may not import data). The data layer re-exports it as
`buildbot.data.resultspec`. Whatever part of a spec the database can evaluate is applied in
SQL (see `split`); the rest is applied in memory with `apply`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

# Operators allowed with exactly one value / with several values.
SINGLE_VALUE_OPS = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "contains", "in", "notin"})
MULTI_VALUE_OPS = frozenset({"eq", "ne", "contains", "in", "notin"})
ALL_OPS = SINGLE_VALUE_OPS


def _contains(value: Any, needle: Any) -> bool:
    try:
        return needle in value
    except TypeError:
        return False


@dataclasses.dataclass
class Filter:
    """One filter: `field <op> values`. Several values mean "any of" (eq/contains/in) or
    "none of" (ne/notin)."""

    field: str
    op: str
    values: list[Any]

    def __post_init__(self) -> None:
        self.values = list(self.values)

    def matches(self, value: Any) -> bool:
        """Does a field value pass this filter (in-memory evaluation)?"""
        op, vals = self.op, self.values
        if op in ("eq", "in"):
            return value in vals if len(vals) != 1 else value == vals[0]
        if op in ("ne", "notin"):
            return value not in vals if len(vals) != 1 else value != vals[0]
        if op == "contains":
            return any(_contains(value, v) for v in vals)
        v = vals[0]
        if value is None or v is None:
            return False
        try:
            if op == "lt":
                return bool(value < v)
            if op == "le":
                return bool(value <= v)
            if op == "gt":
                return bool(value > v)
            if op == "ge":
                return bool(value >= v)
        except TypeError:
            return False
        raise ValueError(f"unknown filter operator {op!r}")

    def apply(self, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return [item for item in items if self.matches(item.get(self.field))]


@dataclasses.dataclass
class Property:
    """Selection of build/buildset properties to include (`property=NAME`, `*` for all)."""

    field: bytes
    op: str
    values: list[str]


def _sort_key_cmp(order: Sequence[str]) -> Callable[[dict[str, Any], dict[str, Any]], int]:
    keys = [(o[1:], True) if o.startswith("-") else (o, False) for o in order]

    def cmp(a: dict[str, Any], b: dict[str, Any]) -> int:
        for key, desc in keys:
            va, vb = a.get(key), b.get(key)
            if va == vb:
                continue
            # None sorts before every value ascending (after everything descending).
            if va is None:
                r = -1
            elif vb is None:
                r = 1
            else:
                try:
                    r = -1 if va < vb else 1
                except TypeError:
                    r = -1 if str(va) < str(vb) else 1
            return -r if desc else r
        return 0

    return cmp


class ResultSpec:
    """Filters, selected fields, order, limit and offset for a data API get."""

    def __init__(
        self,
        filters: Iterable[Filter] | None = None,
        fields: Iterable[str] | None = None,
        properties: Iterable[Property] | None = None,
        order: Iterable[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.filters: list[Filter] = list(filters or [])
        self.properties: list[Property] = list(properties or [])
        self.fields: list[str] | None = list(fields) if fields is not None else None
        self.order: tuple[str, ...] | None = tuple(order) if order is not None else None
        self.limit = limit
        self.offset = offset

    def __repr__(self) -> str:
        return (
            f"ResultSpec(filters={self.filters!r}, fields={self.fields!r}, order={self.order!r}, "
            f"limit={self.limit!r}, offset={self.offset!r}, properties={self.properties!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResultSpec):
            return NotImplemented
        return (self.filters, self.fields, self.order, self.limit, self.offset, self.properties) == (
            other.filters, other.fields, other.order, other.limit, other.offset, other.properties)

    def copy(self) -> ResultSpec:
        return ResultSpec(
            [dataclasses.replace(f) for f in self.filters], self.fields, self.properties,
            self.order, self.limit, self.offset)

    # -- consuming filters an endpoint handles itself ---------------------------------------
    def popFilter(self, field: str, op: str) -> list[Any] | None:
        """Remove and return the values of the first filter on (field, op), if any."""
        for i, f in enumerate(self.filters):
            if f.field == field and f.op == op:
                del self.filters[i]
                return f.values
        return None

    def popOneFilter(self, field: str, op: str) -> Any:
        """Remove a single-valued (field, op) filter and return its value, else None."""
        for i, f in enumerate(self.filters):
            if f.field == field and f.op == op and len(f.values) == 1:
                del self.filters[i]
                return f.values[0]
        return None

    def popBooleanFilter(self, field: str) -> bool | None:
        """Consume `field == bool` or `field != bool`; return the wanted truth value."""
        eq = self.popOneFilter(field, "eq")
        if eq is not None:
            return bool(eq)
        ne = self.popOneFilter(field, "ne")
        if ne is not None:
            return not ne
        return None

    def popStringFilter(self, field: str) -> str | None:
        v = self.popOneFilter(field, "eq")
        return v if isinstance(v, str) else None

    def popIntegerFilter(self, field: str) -> int | None:
        v = self.popOneFilter(field, "eq")
        return int(v) if v is not None else None

    def popProperties(self) -> list[str] | None:
        """Remove the property selection; return the wanted names (may contain '*')."""
        if not self.properties:
            return None
        names: list[str] = []
        for p in self.properties:
            names.extend(p.values)
        self.properties = []
        return names

    def removeOrder(self) -> None:
        self.order = None

    def removePagination(self) -> None:
        self.limit = self.offset = None

    # -- splitting between SQL and memory ---------------------------------------------------
    def sql_applicable(self, sql_fields: Collection[str]) -> bool:
        """True if every filter and order field can be evaluated by the database."""
        if any(f.field not in sql_fields for f in self.filters):
            return False
        if self.order and any(o.lstrip("-") not in sql_fields for o in self.order):
            return False
        return True

    def split(self, sql_fields: Collection[str]) -> tuple[ResultSpec | None, ResultSpec]:
        """(part for SQL, part for memory).

        When every filter and order field is a column, filters, order and paging all go to
        SQL and memory only selects fields; otherwise SQL gets nothing.
        """
        if (self.filters or self.order or self.limit is not None or self.offset) and \
                self.sql_applicable(sql_fields):
            sql = ResultSpec(self.filters, None, None, self.order, self.limit, self.offset)
            mem = ResultSpec(None, self.fields, self.properties)
            return sql, mem
        return None, self

    # -- in-memory evaluation ---------------------------------------------------------------
    def thd_filter_fields(self, item: dict[str, Any]) -> dict[str, Any]:
        if self.fields is None:
            return item
        return {k: v for k, v in item.items() if k in self.fields}

    def apply(self, data: Any) -> Any:
        """Apply filters, order, paging and field selection to a list (or fields to one item)."""
        if data is None:
            return None
        if isinstance(data, dict):
            return self.thd_filter_fields(data)
        items = list(data)
        for f in self.filters:
            items = f.apply(items)
        if self.order:
            items.sort(key=functools.cmp_to_key(_sort_key_cmp(self.order)))
        if self.offset is not None or self.limit is not None:
            start = self.offset or 0
            stop = start + self.limit if self.limit is not None else None
            items = items[start:stop]
        if self.fields is not None:
            items = [self.thd_filter_fields(i) for i in items]
        return items
