"""The log watcher behind start/restart/reconfig, driven by a task.Clock over a real file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer, task

from buildbot.scripts.logwatcher import (
    BuildmasterStartupError,
    BuildmasterTimeoutError,
    LogWatcher,
    ProcessDiedError,
    ReconfigError,
)


class Harness:
    """A watcher on `twistd.log` in a temporary directory, with a fake clock."""

    def __init__(self, tmp_path: Path, timeout: float = 10.0, still_alive: Any = None) -> None:
        self.path = tmp_path / "twistd.log"
        self.clock = task.Clock()
        self.echoed: list[str] = []
        self.watcher = LogWatcher(str(self.path), timeout=timeout, clock=self.clock,
                                  echo=self.echoed.append, still_alive=still_alive)
        self.result: defer.Deferred[str] | None = None

    def start(self) -> None:
        self.result = defer.Deferred.fromCoroutine(self.watcher.watch())

    def write(self, *lines: str, end: str = "\n") -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write("".join(line + end for line in lines))

    def tick(self, seconds: float = LogWatcher.POLL_INTERVAL) -> None:
        self.clock.advance(seconds)

    def outcome(self) -> Any:
        """The watch's result, or the exception it failed with; fails if still running."""
        assert self.result is not None
        box: list[Any] = []
        self.result.addBoth(box.append)
        assert box, "the watch has not finished"
        value = box[0]
        return value.value if hasattr(value, "value") else value


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def test_creates_a_missing_log_file(harness: Harness) -> None:
    harness.start()
    assert harness.path.exists()
    harness.watcher.stop()
    assert isinstance(harness.outcome(), defer.CancelledError)


def test_running_line_is_success(harness: Harness) -> None:
    harness.start()
    harness.write("2024-01-01 00:00:00+0000 [-] BuildMaster is running")
    harness.tick()

    assert harness.outcome() == "buildmaster"
    assert harness.clock.getDelayedCalls() == []


def test_lines_written_before_the_watch_are_ignored(harness: Harness) -> None:
    harness.write("BuildMaster is running")  # an earlier start-up
    harness.start()
    harness.write("BuildMaster startup failed")
    harness.tick()

    assert isinstance(harness.outcome(), BuildmasterStartupError)


@pytest.mark.parametrize(("line", "expected"), [
    ("configuration update complete (took 0.1 seconds)", "buildmaster"),
    ("configuration update aborted without making any changes", ReconfigError),
    ("WARNING: configuration update partially applied; master may malfunction", ReconfigError),
    ("Server Shut Down.", ReconfigError),
    ("BuildMaster startup failed", BuildmasterStartupError),
])
def test_terminal_lines(harness: Harness, line: str, expected: Any) -> None:
    harness.start()
    harness.write("[-] " + line)
    harness.tick()

    got = harness.outcome()
    assert got == expected if isinstance(expected, str) else isinstance(got, expected)


def test_a_local_workers_attach_line_is_not_an_outcome(harness: Harness) -> None:
    harness.start()
    harness.write("message from master: attached", "BuildMaster startup failed")
    harness.tick()

    assert isinstance(harness.outcome(), BuildmasterStartupError)


def test_times_out_without_progress(harness: Harness) -> None:
    harness.start()
    harness.tick(9.9)
    harness.write("some unrelated line")
    harness.tick(0.2)

    assert isinstance(harness.outcome(), BuildmasterTimeoutError)


def test_progress_lines_restart_the_timeout(harness: Harness) -> None:
    harness.start()
    harness.tick(9.0)
    harness.write("Loading configuration from '/m/master.cfg'")
    harness.tick(0.1)
    harness.tick(9.0)  # 18.1 s after the start, 9 s after progress
    harness.write("BuildMaster is running")
    harness.tick()

    assert harness.outcome() == "buildmaster"


def test_echoes_only_after_an_echo_marker(harness: Harness) -> None:
    harness.start()
    harness.write("quiet line", "beginning configuration update", "Loading configuration from x",
                  "configuration update complete (took 0.1 seconds)")
    harness.tick()

    assert harness.echoed == ["beginning configuration update", "Loading configuration from x",
                              "configuration update complete (took 0.1 seconds)"]
    assert harness.outcome() == "buildmaster"


def test_partial_lines_wait_for_their_end(harness: Harness) -> None:
    harness.start()
    harness.write("BuildMaster is run", end="")
    harness.tick()
    assert not harness.result.called  # type: ignore[union-attr]  # set by the harness
    harness.write("ning")
    harness.tick()

    assert harness.outcome() == "buildmaster"


def test_very_long_lines_are_skipped_with_a_notice(harness: Harness) -> None:
    harness.start()
    harness.write("Log opened.", "x" * 20000 + " BuildMaster is running", "still here")
    harness.tick()

    assert harness.echoed == ["Log opened.", "skipping a very long line in the log (20023 bytes)",
                              "still here"]
    assert not harness.result.called  # type: ignore[union-attr]  # set by the harness
    harness.watcher.stop()
    harness.outcome()


def test_follows_a_rotated_log(harness: Harness) -> None:
    harness.write("old content " * 100)
    harness.start()
    harness.write("Starting BuildMaster")
    os.rename(harness.path, str(harness.path) + ".1")
    harness.write("BuildMaster is running")
    harness.tick()

    assert harness.outcome() == "buildmaster"


def test_follows_a_truncated_log(harness: Harness) -> None:
    harness.write("old content " * 100)
    harness.start()
    harness.path.write_text("BuildMaster startup failed\n")
    harness.tick()

    assert isinstance(harness.outcome(), BuildmasterStartupError)


def test_process_death_ends_the_watch_after_reading_its_last_lines(tmp_path: Path) -> None:
    alive = [True]
    h = Harness(tmp_path, still_alive=lambda: alive[0])
    h.start()
    h.tick()
    alive[0] = False
    h.write("BuildMaster startup failed")
    h.tick()
    assert isinstance(h.outcome(), BuildmasterStartupError)

    alive[0] = True
    h2 = Harness(tmp_path, still_alive=lambda: alive[0])
    h2.start()
    alive[0] = False
    h2.tick()
    assert isinstance(h2.outcome(), ProcessDiedError)
