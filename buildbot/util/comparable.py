"""`ComparableMixin`: value equality over the attributes a class lists in `compare_attrs`.

The master compares configured objects (services, filters, factories) with `==` to tell
whether a reconfiguration changed them; the attributes of every class in the MRO count, so a
subclass only lists what it adds.
"""

from __future__ import annotations

from typing import Any, ClassVar


def config_equal(a: Any, b: Any) -> bool:
    """Structural equality of configuration values.

    Plain `==` is not enough: renderables such as `Property` overload `==` to build a new
    renderable (always truthy), which would make every changed argument look unchanged.
    """
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(config_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(config_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, ComparableMixin):
        return bool(a == b)
    result = a == b
    return result if isinstance(result, bool) else False


_MISSING = object()


class ComparableMixin:
    """Equality, hashing and ordering by the attributes named in `compare_attrs`."""

    compare_attrs: tuple[str, ...] = ()
    _attrs_by_class: ClassVar[dict[type, tuple[str, ...]]] = {}

    @classmethod
    def _all_compare_attrs(cls) -> tuple[str, ...]:
        found = ComparableMixin._attrs_by_class.get(cls)
        if found is None:
            seen: dict[str, None] = {}
            for klass in reversed(cls.__mro__):
                for attr in vars(klass).get("compare_attrs", ()):
                    seen[attr] = None
            found = ComparableMixin._attrs_by_class[cls] = tuple(seen)
        return found

    def _cmp_values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, a, None) for a in self._all_compare_attrs())

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other) or not isinstance(other, ComparableMixin):
            return False
        return config_equal(self._cmp_values(), other._cmp_values())

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        try:
            return hash((type(self), self._cmp_values()))
        except TypeError:  # unhashable config values: fall back to identity
            return id(self)

    @staticmethod
    def isEquivalent(us: Any, them: Any) -> bool:
        """Equal configuration, comparing renderables and nested objects by value."""
        return is_equivalent(us, them)

    def _order_key(self, other: Any) -> tuple[Any, Any]:
        if type(self) is not type(other):
            return type(self).__name__, type(other).__name__
        return self._cmp_values(), other._cmp_values()

    def __lt__(self, other: Any) -> bool:
        mine, theirs = self._order_key(other)
        return bool(mine < theirs)

    def __le__(self, other: Any) -> bool:
        mine, theirs = self._order_key(other)
        return bool(mine <= theirs)

    def __gt__(self, other: Any) -> bool:
        mine, theirs = self._order_key(other)
        return bool(mine > theirs)

    def __ge__(self, other: Any) -> bool:
        mine, theirs = self._order_key(other)
        return bool(mine >= theirs)

    def getConfigDict(self) -> dict[str, Any]:
        """The compared attributes that are set, by name (used in the web UI's config views)."""
        return config_dict(self)


def _compare_attrs_of(cls: type) -> tuple[str, ...]:
    if issubclass(cls, ComparableMixin):
        return cls._all_compare_attrs()
    seen: dict[str, None] = {}
    for klass in reversed(cls.__mro__):
        for attr in vars(klass).get("compare_attrs", ()):
            seen[attr] = None
    return tuple(seen)


def config_dict(obj: Any) -> dict[str, Any]:
    """`getConfigDict()`: the set compared attributes of `obj`, passwords left out."""
    out = {}
    for attr in _compare_attrs_of(type(obj)):
        value = getattr(obj, attr, _MISSING)
        if value is not _MISSING and attr not in ("passwd", "password"):
            out[attr] = value
    return out


def is_equivalent(us: Any, them: Any) -> bool:
    """`isEquivalent(us, them)`: objects with `compare_attrs` are equivalent when of the same
    class with equivalent compared attributes; anything else compares with `==`."""
    if not hasattr(us, "compare_attrs") and hasattr(them, "compare_attrs"):
        us, them = them, us
    if hasattr(us, "compare_attrs") and not isinstance(us, type):
        if type(us) is not type(them):
            return False
        return all(is_equivalent(getattr(us, a, _MISSING), getattr(them, a, _MISSING))
                   for a in _compare_attrs_of(type(us)))
    return config_equal(us, them)


class ConfigViewMixin:
    """`getConfigDict()` and `isEquivalent()` by `compare_attrs`, for classes that keep their
    own `==` (renderables, where `==` builds a renderable comparison)."""

    compare_attrs: tuple[str, ...] = ()

    def getConfigDict(self) -> dict[str, Any]:
        return config_dict(self)

    isEquivalent = staticmethod(is_equivalent)
