"""Match an mq routing key against a filter (None in the filter matches any element)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def matchTuple(routingKey: Sequence[Any], filter: Sequence[Any]) -> bool:
    """True if both have the same length and every non-None filter element is equal."""
    if len(routingKey) != len(filter):
        return False
    return all(f is None or f == k for k, f in zip(routingKey, filter))
