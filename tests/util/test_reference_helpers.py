"""The helpers of `buildbot.util` give Buildbot 4.3's answers on the same inputs.

The inputs live in `record_reference_helpers.py`; `reference_helpers.json` holds what 4.3
returned for them (recorded with that script in 4.3's virtualenv).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.util import record_reference_helpers as recorder

EXPECTED = json.loads((Path(__file__).parent / "reference_helpers.json").read_text())
ROWS = [(name, i) for name, rows in recorder.CASES.items() for i in range(len(rows))]


@pytest.mark.parametrize(("name", "index"), ROWS, ids=[f"{n}-{i}" for n, i in ROWS])
def test_helper_answers_like_buildbot_4_3(name: str, index: int) -> None:
    args = recorder.CASES[name][index]
    try:
        got = recorder.encode(recorder.call(name, args))
    except Exception as e:  # noqa: BLE001 - the exception type is the answer
        got = {"raises": type(e).__name__}
    assert json.loads(json.dumps(got, ensure_ascii=False)) == EXPECTED[name][index]


def test_every_recorded_helper_is_checked() -> None:
    assert set(EXPECTED) == set(recorder.CASES)
    assert all(len(EXPECTED[n]) == len(rows) for n, rows in recorder.CASES.items())
