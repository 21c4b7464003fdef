"""Our capture classes send the same backend calls as 4.3's for the same build messages
(recorded from 4.3 by record_reference.py into reference_captures.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer

from buildbot import statistics
from tests.statistics import record_reference

REFERENCE = json.loads((Path(__file__).parent / "reference_captures.json").read_text())


@pytest.fixture
def inline_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backends run in-line (the values, not the thread pool, are under test here)."""
    from twisted.internet import threads
    monkeypatch.setattr(threads, "deferToThread",
                        lambda f, *a, **kw: defer.maybeDeferred(f, *a, **kw))


@pytest_twisted.ensureDeferred
async def test_captures_send_what_4_3_sends(inline_threads: Any) -> None:
    ours = await record_reference.run(statistics)
    assert json.loads(json.dumps(ours)) == REFERENCE
