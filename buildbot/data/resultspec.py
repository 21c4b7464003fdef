"""Query options (`ResultSpec`) and the REST query-string parser.

`ResultSpec`, `Filter` and `Property` live in `buildbot.util.resultspec` (the db layer needs
them too) and are re-exported here at the reference's import path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from buildbot.data import types
from buildbot.data.exceptions import InvalidQueryParameter
from buildbot.util.resultspec import (
    MULTI_VALUE_OPS,
    SINGLE_VALUE_OPS,
    Filter,
    Property,
    ResultSpec,
)

__all__ = ["MAX_ID", "Filter", "Property", "ResultSpec", "resultspec_from_jsonapi"]

# The largest integer every supported database stores (BIGINT): ids, limits and offsets
# beyond it are refused as bad input instead of failing in the driver.
MAX_ID = 2**63 - 1


def _text(v: Any) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def resultspec_from_jsonapi(
    req_args: Mapping[Any, Sequence[Any]],
    entity_type: types.Type | None,
    is_collection: bool,
) -> ResultSpec:
    """Parse REST query arguments (name → list of values, str or bytes) into a ResultSpec.

    Arguments are examined in the order given, so the first bad one names the error, and
    the errors are the reference's (raised as InvalidQueryParameter, REST 400).
    """
    # Entity types have fields; the dict form of properties has none (every name is unknown).
    fields_spec: dict[str, types.Type] = getattr(entity_type, "fields", None) or {}

    def check_field(name: str) -> None:
        if name not in fields_spec:
            raise InvalidQueryParameter(f"no such field '{name}'")

    fields: list[str] | None = None
    order: list[str] | None = None
    limit = offset = None
    properties: list[Property] = []
    filters: list[Filter] = []
    for raw_key, raw_values in req_args.items():
        key = _text(raw_key)
        values = [_text(v) for v in raw_values]
        if key == "order":
            order = values
            for name in order:
                check_field(name.removeprefix("-"))
        elif key == "field":
            fields = values
            for name in fields:
                check_field(name)
        elif key in ("limit", "offset"):
            if key == "limit":
                limit = _count(key, values)
            else:
                offset = _count(key, values)
        elif key == "property":
            properties.append(Property(b"property", "eq", values))
        elif key in fields_spec:
            filters.append(Filter(key, "eq", _parse_values(fields_spec[key], values, key)))
        elif "__" in key:
            # (Buildbot 4.3 ignores all three kinds of mistake below and answers the
            # unfiltered list.)
            fieldname, op = key.rsplit("__", 1)
            ftype = fields_spec.get(fieldname)
            if ftype is None:
                raise InvalidQueryParameter(f"unrecognized query parameter '{key}'")
            if op not in SINGLE_VALUE_OPS:
                known = ", ".join(sorted(SINGLE_VALUE_OPS))
                raise InvalidQueryParameter(
                    f"invalid filter operator '{op}' in '{key}' (known: {known})")
            if len(values) > 1 and op not in MULTI_VALUE_OPS:
                raise InvalidQueryParameter(f"'{key}' takes a single value")
            filters.append(Filter(fieldname, op, _parse_values(ftype, values, key)))
        else:
            raise InvalidQueryParameter(f"unrecognized query parameter '{key}'")

    if fields:
        selected = set(fields)
        if order and any((o.removeprefix("-")) not in selected for o in order):
            raise InvalidQueryParameter("cannot order on un-selected fields")
        if any(f.field not in selected for f in filters):
            raise InvalidQueryParameter("cannot filter on un-selected fields")
    if filters and not is_collection:
        raise InvalidQueryParameter("this is not a collection")

    return ResultSpec(filters=filters, fields=fields, properties=properties, order=order,
                      limit=limit, offset=offset)


def _count(key: str, values: list[str]) -> int:
    """A `limit` or `offset` value: an integer from 0 to MAX_ID."""
    try:
        value = int(values[0])
    except (ValueError, IndexError):
        raise InvalidQueryParameter(f"invalid {key}") from None  # the reference's text
    if not 0 <= value <= MAX_ID:  # (Buildbot 4.3: negative ignored, too big a 500)
        raise InvalidQueryParameter(f"invalid {key}: {value} is not between 0 and {MAX_ID}")
    return value


def _parse_values(ftype: types.Type, values: list[str], label: str) -> list[Any]:
    if not ftype.filterable:
        raise InvalidQueryParameter(f"invalid filter value for {label}")
    try:
        parsed = [ftype.valueFromString(v) for v in values]
    except (ValueError, TypeError):
        raise InvalidQueryParameter(f"invalid filter value for {label}") from None
    if any(isinstance(v, int) and not -MAX_ID <= v <= MAX_ID for v in parsed):
        raise InvalidQueryParameter(f"invalid filter value for {label}: out of range")
    return parsed
