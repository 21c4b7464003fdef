"""Field types of data API resources.

A type knows how to parse a REST query-string value (`valueFromString`), whether a value
conforms (`validate`, used by tests), and how to describe itself in `/application.spec`.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from buildbot.util.identifiers import isIdentifier


class Type:
    """Base field type."""

    name: str = ""
    doc: str | None = None
    # Can REST filters compare this type? (JSON objects and sourced properties cannot.)
    filterable = True

    def valueFromString(self, arg: str) -> Any:
        """Parse a REST query-string value; raise ValueError if it is not of this type."""
        return arg

    def validate(self, value: Any) -> bool:
        return True

    def getSpec(self) -> dict[str, Any]:
        return {"name": self.name}


class NoneOk(Type):
    """A type that also admits null."""

    def __init__(self, nestedType: Type) -> None:
        self.nestedType = nestedType
        # The reference's spelling, visible in /application.spec ("integer or None").
        self.name = nestedType.name + " or None"
        self.filterable = nestedType.filterable

    def valueFromString(self, arg: str) -> Any:
        return self.nestedType.valueFromString(arg)

    def validate(self, value: Any) -> bool:
        return value is None or self.nestedType.validate(value)

    def getSpec(self) -> dict[str, Any]:
        spec = self.nestedType.getSpec()
        spec["can_be_null"] = True
        return spec


class Instance(Type):
    """A scalar of one Python type."""

    types: tuple[type, ...] = ()

    def validate(self, value: Any) -> bool:
        return isinstance(value, self.types) and not (
            isinstance(value, bool) and bool not in self.types)


class Integer(Instance):
    name = "integer"
    types = (int,)

    def valueFromString(self, arg: str) -> int:
        return int(arg)


class DateTime(Instance):
    """A time: an aware UTC datetime in results (epoch seconds in REST, WebSocket and SSE
    bodies, and in REST query strings)."""

    name = "datetime"
    types = (datetime.datetime,)

    def valueFromString(self, arg: str) -> int:
        return int(arg)

    def validate(self, value: Any) -> bool:
        return isinstance(value, datetime.datetime) and value.utcoffset() == datetime.timedelta(0)


class String(Instance):
    name = "string"
    types = (str,)


class Binary(Instance):
    name = "binary"
    types = (bytes,)


class Boolean(Instance):
    name = "boolean"
    types = (bool,)
    _TRUE = frozenset({"on", "true", "yes", "1"})
    _FALSE = frozenset({"off", "false", "no", "0"})

    def valueFromString(self, arg: str) -> bool:
        low = arg.lower()
        if low in self._TRUE:
            return True
        if low in self._FALSE:
            return False
        raise ValueError(f"invalid boolean {arg!r}")


class Identifier(Type):
    """A string following the identifier rule, at most `len` characters."""

    name = "identifier"
    # Query-string values follow the stricter ASCII rule of the reference (dots allowed).
    _QUERY_RE = re.compile(r"^[a-zA-Z_-][a-zA-Z0-9._-]*$")

    def __init__(self, len: int | None = None) -> None:
        self.len = len

    def valueFromString(self, arg: str) -> str:
        if not arg or not self._QUERY_RE.match(arg) or self.len is None or len(arg) > self.len:
            raise ValueError(f"{arg!r} is not an identifier")
        return arg

    def validate(self, value: Any) -> bool:
        return isIdentifier(self.len or 1 << 30, value)

    def getSpec(self) -> dict[str, Any]:
        return {"name": self.name}


class List(Type):
    name = "list"

    def __init__(self, of: Type) -> None:
        self.of = of

    def valueFromString(self, arg: str) -> Any:
        # A filter value on a list field is compared with its elements.
        return self.of.valueFromString(arg)

    def validate(self, value: Any) -> bool:
        return isinstance(value, list) and all(self.of.validate(v) for v in value)

    def getSpec(self) -> dict[str, Any]:
        return {"type": self.name, "of": self.of.getSpec()}


class SourcedProperties(Type):
    """{name: [value, source]}."""

    name = "sourcedproperties"
    filterable = False

    def validate(self, value: Any) -> bool:
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, (list, tuple)) and len(v) == 2
            and isinstance(v[1], str) for k, v in value.items())


class JsonObject(Type):
    name = "jsonobject"
    filterable = False

    def validate(self, value: Any) -> bool:
        return isinstance(value, dict)


class Entity(Type):
    """A resource's fields, by name."""

    def __init__(self, name: str, fields: dict[str, Type]) -> None:
        self.name = name
        self.fields = fields
        self.filterable = False

    def validate(self, value: Any) -> bool:
        return isinstance(value, dict) and set(value) == set(self.fields) and all(
            t.validate(value[k]) for k, t in self.fields.items())

    def getSpec(self) -> dict[str, Any]:
        # Fields in declaration order, as the reference lists them.
        return {
            "type": self.name,
            "fields": [{"name": k, "type": t.name, "type_spec": t.getSpec()}
                       for k, t in self.fields.items()],
        }

    @property
    def datetime_fields(self) -> frozenset[str]:
        """The fields holding times (DateTime, possibly null)."""
        return frozenset(k for k, t in self.fields.items() if isinstance(
            t.nestedType if isinstance(t, NoneOk) else t, DateTime))

    def invalid_fields(self, value: dict[str, Any]) -> list[str]:
        """Names of fields that are missing, unexpected or of the wrong type (for tests)."""
        bad = sorted(set(value) ^ set(self.fields))
        bad += [k for k, t in self.fields.items() if k in value and not t.validate(value[k])]
        return bad

