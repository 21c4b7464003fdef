"""The tool-steps family build (python, python_twisted, cmake, cppcheck, maxq, subunit, http,
gitdiffinfo and configurable steps, fed recorded tool output) gives the same step names,
results, state strings, log names and the texts of the logs they write, URL names, build
state string and properties as Buildbot
4.3.0 gave for the same build (`tool_family_4.3.json`, made by `record_tool_family.py`)."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import endpoints

from tests.fixtures.master import running_master, wait_for_message
from tests.steps import tool_family_config as fam
from tests.steps.record_tool_family import collect, first_build_of, triggered_builds

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("git") is None, reason="git not installed"),
    pytest.mark.skipif(importlib.util.find_spec("subunit") is None,
                       reason="python-subunit not installed (pip install python-subunit)"),
]

REFERENCE = json.loads((Path(__file__).parent / "tool_family_4.3.json").read_text())


def without_times(value: Any) -> Any:
    """The value with the worker's `elapsedTime=...` header lines (in logs that observers
    fill from every line) made constant."""
    return json.loads(re.sub(r"elapsedTime=[0-9.e-]+", "elapsedTime=T", json.dumps(value)))


@pytest_twisted.ensureDeferred
async def test_tool_family_build_matches_buildbot_4_3(tmp_path: Path) -> None:
    from twisted.internet import reactor

    port = await endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        fam.http_site())
    try:
        cfg = fam.family_config(port.getHost().port, fam.closed_port())
        fam.prepare_worker_dir(tmp_path / "m" / "workers" / "local" / "b0")
        async with running_master(tmp_path / "m", cfg) as master:
            b0 = {b["name"]: b["builderid"] for b in await master.data.get(("builders",))}["b0"]
            done = wait_for_message(master, ("builds", None, "finished"),
                                    lambda k, b: b["builderid"] == b0, timeout=60)
            await master.data.control("force", {"builderNames": ["b0"]},
                                      ("forceschedulers", "force"))
            await done
            # collected by the recorder's own code, so both sides are read the same way
            got = await collect(master, await first_build_of(master, "b0"))
            triggered = await triggered_builds(master, "b0")
    finally:
        await port.stopListening()
    assert without_times(got["steps"]) == without_times(REFERENCE["steps"])
    assert (got["results"], got["state_string"]) == (REFERENCE["results"],
                                                     REFERENCE["state_string"])
    assert got["properties"] == REFERENCE["properties"]
    assert got["build_data"] == REFERENCE["build_data"]
    # BuildbotTestCiTrigger's builds, on virtual builders named from the matrix
    assert triggered == REFERENCE["triggered"]
