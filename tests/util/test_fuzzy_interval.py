"""`util.fuzzyInterval` against Buildbot 4.3's wording, recorded at every point where its
wording changes below 200,000 s (and on a coarse grid up to 10^9 s)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from buildbot import util

ROWS = json.loads((Path(__file__).parent / "reference_fuzzy_interval.json").read_text())


@pytest.mark.parametrize(("seconds", "wording"), ROWS)
def test_fuzzy_interval_words_like_the_reference(seconds: float, wording: str) -> None:
    assert util.fuzzyInterval(seconds) == wording
