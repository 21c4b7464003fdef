"""The same workload through Buildbot 4.3's data API and ours: every getter path answers
the same keys, values and value types, the same messages are produced in the same order,
and the db API returns models of the same shape — apart from the differences listed in
docs/differences.md. Times, which depend on the clock, are compared by type: an aware UTC
datetime where 4.3 has one, epoch seconds where it has those."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import utils

SCRIPT = Path(__file__).parent / "compare_reference.py"
REF_PYTHON = Path("/work/refvenv/bin/python")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not REF_PYTHON.exists(), reason="Buildbot 4.3 is not installed"),
]


async def run(python: str, impl: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out, err, code = await utils.getProcessOutputAndValue(
        python, [str(SCRIPT), impl], env=env, path=str(SCRIPT.parents[2]))
    assert code == 0, err.decode()
    result: dict[str, Any] = json.loads(out)
    assert "failure" not in result, result["failure"]
    return result


def accepted_difference(key: list[str], ref: Any, ours: Any) -> bool:
    # setBuildProperty: 4.3 announces {"name": [value, source]} whatever the name.
    return key[-2:] == ["properties", "update"] and list(ref) == ["name"] and \
        list(ref.values()) == list(ours.values())


@pytest_twisted.ensureDeferred
async def test_same_answers_and_messages_as_buildbot_4_3() -> None:
    ref = await run(str(REF_PYTHON), "ref")
    ours = await run(sys.executable, "ours")

    assert sorted(ours["answers"]) == sorted(ref["answers"])
    for path, answer in ref["answers"].items():
        assert ours["answers"][path] == answer, path

    assert [k for k, _ in ours["messages"]] == [k for k, _ in ref["messages"]]
    for (key, ref_body), (_, our_body) in zip(ref["messages"], ours["messages"]):
        assert our_body == ref_body or accepted_difference(key, ref_body, our_body), key

    assert ours["models"] == ref["models"]
