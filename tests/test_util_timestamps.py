"""buildbot.util.timestamps: the conversions between stored epoch seconds and the aware UTC
datetimes Python code receives."""

from __future__ import annotations

import datetime

import pytest

from buildbot.util.timestamps import epochs_for_wire, to_datetime, to_epoch

UTC = datetime.UTC


@pytest.mark.parametrize(("epoch", "expected"), [
    (0, datetime.datetime(1970, 1, 1, tzinfo=UTC)),
    (1_700_000_000, datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
    (1.5, datetime.datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)),
    (None, None),
])
def test_to_datetime(epoch: float | None, expected: datetime.datetime | None) -> None:
    got = to_datetime(epoch)
    assert got == expected
    assert got is None or got.tzinfo is UTC


def test_to_datetime_shares_datetimes_of_whole_seconds() -> None:
    assert to_datetime(1_700_000_001) is to_datetime(1_700_000_001)


@pytest.mark.parametrize(("value", "expected"), [
    (datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC), 1_700_000_000),
    (datetime.datetime(2023, 11, 14, 23, 13, 20, 900000,
                       tzinfo=datetime.timezone(datetime.timedelta(hours=1))), 1_700_000_000),
    (datetime.datetime(2023, 11, 14, 22, 13, 20), 1_700_000_000),  # naive means UTC
    (1_700_000_000.7, 1_700_000_000),
    (1_700_000_000, 1_700_000_000),
    (None, None),
])
def test_to_epoch(value: datetime.datetime | float | None, expected: int | None) -> None:
    got = to_epoch(value)
    assert got == expected and (got is None or type(got) is int)


def test_epochs_for_wire_replaces_nested_datetimes_without_changing_the_input() -> None:
    at = to_datetime(100)
    body = {"a": at, "b": [{"c": at, "d": "x"}], "e": (at,), "f": {"g": 1}}
    assert epochs_for_wire(body) == {"a": 100, "b": [{"c": 100, "d": "x"}], "e": [100],
                                     "f": {"g": 1}}
    assert body["a"] is at and body["b"][0]["c"] is at
    plain = {"a": 1, "b": [{"c": "x"}]}
    assert epochs_for_wire(plain) is plain  # nothing to convert: no copy


def test_known_epochs_give_the_epoch_of_datetimes_made_here() -> None:
    from buildbot.util.timestamps import known_epochs

    made = to_datetime(1_700_000_123)
    assert known_epochs[id(made)] == (made, 1_700_000_123)
    elsewhere = datetime.datetime.fromtimestamp(1_700_000_123, UTC)
    hit = known_epochs.get(id(elsewhere))
    assert hit is None or hit[0] is not elsewhere  # only identical objects match
