"""Which Gerrit project and revision a report is about (`extract_project_revision`): repo
download properties or Gerrit event properties, recorded from 4.3 for each case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.reporters.gerrit import extract_project_revision

CASES = json.loads((Path(__file__).parent / "reference_gerrit_targets.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
@pytest_twisted.ensureDeferred
async def test_project_and_revision_like_the_reference(case: dict[str, Any]) -> None:
    report = {"builds": [{"properties": case["properties"]}]}
    assert list(await extract_project_revision(None, report)) == case["target"]
