"""The master names itself (project and version) next to the Buildbot version it implements,
while everything a 4.3 client or plugin reads keeps 4.3's values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.logger import formatEvent, globalLogPublisher

import buildbot
from buildbot.plugins import schedulers, util, worker
from buildbot.www.config import environment_versions
from tests.fixtures.master import running_master


def test_identity_names_the_project_its_version_and_the_buildbot_version() -> None:
    assert (buildbot.version, buildbot.project, buildbot.__version__) == \
        ("4.3.0", "buildbot-fast", "4.3.0.post1")
    assert buildbot.identity == "buildbot-fast 4.3.0.post1 (compatible with Buildbot 4.3.0)"


def test_about_page_lists_this_master_after_the_stock_rows() -> None:
    rows = environment_versions()
    # The stock UI shows each row as "<name> version: <value>"; 4.3's rows keep their values.
    assert [r[0] for r in rows] == ["Python", "Buildbot", "Twisted", "buildbot-fast"]
    assert rows[1] == ["Buildbot", "4.3.0"]
    assert rows[3] == ["buildbot-fast", "4.3.0.post1 (compatible with Buildbot 4.3.0)"]


@pytest_twisted.ensureDeferred
async def test_start_line_in_the_log_names_this_master(tmp_path: Path) -> None:
    lines: list[str] = []

    def observe(event: dict[str, Any]) -> None:
        text = formatEvent(event) or ""
        if text.startswith("Starting BuildMaster"):
            lines.append(text)

    globalLogPublisher.addObserver(observe)
    try:
        async with running_master(tmp_path, {
            "workers": [worker.Worker("w", "pass")],
            "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b"])],
            "builders": [util.BuilderConfig(name="b", workernames=["w"],
                                            factory=util.BuildFactory())],
        }):
            pass
    finally:
        globalLogPublisher.removeObserver(observe)
    # 4.3's line, then our identity (the CLI's log watcher matches "Starting BuildMaster")
    expected = ("Starting BuildMaster -- buildbot.version: 4.3.0 -- "
                "buildbot-fast 4.3.0.post1 (compatible with Buildbot 4.3.0)")
    assert lines == [expected]
