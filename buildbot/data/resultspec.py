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

_OPTION_KEYS = frozenset({"field", "order", "limit", "offset", "property"})


def _text(v: Any) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def resultspec_from_jsonapi(
    req_args: Mapping[Any, Sequence[Any]],
    entity_type: types.Entity | None,
    is_collection: bool,
) -> ResultSpec:
    """Parse REST query arguments (name → list of values, str or bytes) into a ResultSpec.

    Raises InvalidQueryParameter with the reference's messages (REST 400).
    """
    args = {_text(k): [_text(v) for v in vs] for k, vs in req_args.items()}
    fields_spec: dict[str, types.Type] = entity_type.fields if entity_type is not None else {}

    def check_field(name: str) -> None:
        if name not in fields_spec:
            raise InvalidQueryParameter(f"no such field '{name}'")

    fields: list[str] | None = None
    if "field" in args:
        fields = []
        for value in args["field"]:
            for name in value.split(","):
                check_field(name)
                fields.append(name)

    order: list[str] | None = None
    if "order" in args:
        order = []
        for value in args["order"]:
            for name in value.split(","):
                check_field(name.lstrip("-"))
                order.append(name)

    limit = offset = None
    if "limit" in args:
        try:
            limit = int(args["limit"][0])
        except ValueError:
            raise InvalidQueryParameter("invalid limit") from None
    if "offset" in args:
        try:
            offset = int(args["offset"][0])
        except ValueError:
            raise InvalidQueryParameter("invalid offset") from None

    properties = [Property(b"property", "eq", args["property"])] if "property" in args else []

    filters: list[Filter] = []
    for key, values in args.items():
        if key in _OPTION_KEYS:
            continue
        if "__" in key:
            fieldname, op = key.rsplit("__", 1)
            ftype = fields_spec.get(fieldname)
            allowed = SINGLE_VALUE_OPS if len(values) == 1 else MULTI_VALUE_OPS
            if ftype is None or op not in allowed:
                continue  # the reference silently ignores these
            label = key
        elif key in fields_spec:
            fieldname, op, ftype, label = key, "eq", fields_spec[key], key
        else:
            raise InvalidQueryParameter(f"unrecognized query parameter '{key}'")
        if not ftype.filterable:
            raise InvalidQueryParameter(f"invalid filter value for {label}")
        try:
            parsed = [ftype.valueFromString(v) for v in values]
        except (ValueError, TypeError):
            raise InvalidQueryParameter(f"invalid filter value for {label}") from None
        filters.append(Filter(fieldname, op, parsed))

    if filters and not is_collection:
        raise InvalidQueryParameter("this is not a collection")
    if fields is not None:
        if order and any(o.lstrip("-") not in fields for o in order):
            raise InvalidQueryParameter("cannot order on un-selected fields")
        if any(f.field not in fields for f in filters):
            raise InvalidQueryParameter("cannot filter on un-selected fields")

    return ResultSpec(filters=filters, fields=fields, properties=properties, order=order,
                      limit=limit, offset=offset)
