"""build_data: listed without values, one by name, raw value download."""

from __future__ import annotations

import pytest_twisted

from buildbot.data.build_data import build_data_entity
from tests.fixtures.stack import Stack


@pytest_twisted.ensureDeferred
async def test_build_data_getters(stack: Stack) -> None:
    bid = await stack.make_builder("linux")
    build = await stack.make_build(builderid=bid)
    await stack.updates.setBuildData(build.id, "coverage", b"\x00\x01\x02", "Step")
    await stack.updates.setBuildData(build.id, "coverage", b"\x00\x01", "Step")
    await stack.updates.setBuildData(build.id, "junit", b"<xml/>", "Tests")

    cov = {"buildid": build.id, "name": "coverage", "value": None, "length": 2,
           "source": "Step"}
    junit = {"buildid": build.id, "name": "junit", "value": None, "length": 6,
             "source": "Tests"}
    assert build_data_entity.invalid_fields(cov) == []
    for prefix in [("builds", build.id), ("builders", bid, "builds", 1),
                   ("builders", "linux", "builds", 1)]:
        assert await stack.data.get((*prefix, "data")) == [cov, junit], prefix
        assert await stack.data.get((*prefix, "data", "coverage")) == cov, prefix
        assert await stack.data.get((*prefix, "data", "coverage", "value")) == {
            "raw": b"\x00\x01", "mime-type": "application/octet-stream",
            "filename": "coverage"}, prefix
    assert await stack.data.get(("builds", build.id, "data", "nope")) is None
    assert await stack.data.get(("builds", build.id, "data", "nope", "value")) is None
    assert await stack.data.get(("builds", 999, "data")) == []
