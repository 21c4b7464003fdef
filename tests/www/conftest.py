"""Fixtures of the web-layer tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_twisted

from tests.www.harness import WebMaster


@pytest_twisted.async_yield_fixture
async def master(tmp_path: Path) -> AsyncIterator[WebMaster]:
    """A WebMaster whose web server (if started by the test) is stopped afterwards."""
    m = WebMaster(str(tmp_path))
    try:
        yield m
    finally:
        await m.stop()
