"""Fixtures of the web-layer tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_twisted

from tests.www.harness import WebMaster


@pytest_twisted.async_yield_fixture
async def master(tmp_path: Path, db: Any) -> AsyncIterator[WebMaster]:
    """A WebMaster whose web server (if started by the test) is stopped afterwards."""
    m = WebMaster(str(tmp_path), db)
    try:
        yield m
    finally:
        await m.stop()
