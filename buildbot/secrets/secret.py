"""`SecretDetails`: a secret value with where it came from."""

from __future__ import annotations


class SecretDetails:
    """A secret's `source` (provider name), `key` and `value`."""

    def __init__(self, source: str, key: str, value: str) -> None:
        self._source, self._key, self._value = source, key, value

    @property
    def source(self) -> str:
        return self._source

    @property
    def key(self) -> str:
        return self._key

    @property
    def value(self) -> str:
        return self._value

    def __str__(self) -> str:
        return f"{self._source} {self._key}: {self._value!r}"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, SecretDetails) and self._source == other._source
                and self._key == other._key and self._value == other._value)

    def __hash__(self) -> int:
        return hash((self._source, self._key, self._value))
