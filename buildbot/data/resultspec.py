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

__all__ = ["Filter", "Property", "ResultSpec", "resultspec_from_jsonapi"]


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
        elif key == "limit":
            try:
                limit = int(values[0])
            except (ValueError, IndexError):
                raise InvalidQueryParameter("invalid limit") from None
        elif key == "offset":
            try:
                offset = int(values[0])
            except (ValueError, IndexError):
                raise InvalidQueryParameter("invalid offset") from None
        elif key == "property":
            properties.append(Property(b"property", "eq", values))
        elif key in fields_spec:
            filters.append(Filter(key, "eq", _parse_values(fields_spec[key], values, key)))
        elif "__" in key:
            fieldname, op = key.rsplit("__", 1)
            allowed = SINGLE_VALUE_OPS if len(values) == 1 else MULTI_VALUE_OPS
            ftype = fields_spec.get(fieldname)
            if ftype is not None and op in allowed:
                filters.append(Filter(fieldname, op, _parse_values(ftype, values, key)))
            # else: the reference silently ignores it
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


def _parse_values(ftype: types.Type, values: list[str], label: str) -> list[Any]:
    if not ftype.filterable:
        raise InvalidQueryParameter(f"invalid filter value for {label}")
    try:
        return [ftype.valueFromString(v) for v in values]
    except (ValueError, TypeError):
        raise InvalidQueryParameter(f"invalid filter value for {label}") from None
