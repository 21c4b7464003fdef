"""Helpers for the command-line tests: running `buildbot` in a subprocess, skipping while a
layer the command drives is not in the tree yet, and never leaving a daemon behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a `buildbot` subprocess running this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    # `buildbot start` gives up after 10 s without start-up progress in twistd.log; on a
    # loaded machine importing the master alone can take that long. Tests of the timeout
    # itself pass --start_timeout or their own START_TIMEOUT.
    env["START_TIMEOUT"] = "120"
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path | str, timeout: float = 60, input: str | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m buildbot.scripts.runner <args>` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "buildbot.scripts.runner", *args], cwd=str(cwd),
        env=env or cli_env(), input=input, capture_output=True, text=True, timeout=timeout,
        check=False)


def pid_alive(pid: int) -> bool:
    """Whether a live (not zombie) process has this pid."""
    from buildbot.scripts.base import process_exists

    return process_exists(pid)


class Daemons:
    """Records the basedirs whose daemons a test starts, and kills what is left at the end."""

    def __init__(self) -> None:
        self.basedirs: list[Path] = []
        self.pids: set[int] = set()

    def watch(self, basedir: Path) -> Path:
        self.basedirs.append(basedir)
        return basedir

    def note_pid(self, basedir: Path) -> int | None:
        """Remember the pid in basedir/twistd.pid (if any) so it is killed at teardown."""
        try:
            pid = int((basedir / "twistd.pid").read_text().strip())
        except (OSError, ValueError):
            return None
        self.pids.add(pid)
        return pid

    def processes_in_basedirs(self) -> set[int]:
        """Live processes whose working directory is one of the basedirs (a twistd daemon
        runs in its basedir): finds a master that removed its pid file but did not exit."""
        found: set[int] = set()
        roots = [str(b) for b in self.basedirs]
        for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                continue
            cwd = cwd.removesuffix(" (deleted)")
            if any(cwd == root or cwd.startswith(root + os.sep) for root in roots):
                found.add(int(entry))
        return found

    def cleanup(self, grace_s: float = 20.0) -> list[int]:
        """Kill what is still alive after `grace_s` and return it. The grace period lets a
        daemon that was told to stop (or failed to start) finish exiting: on a busy machine
        that can take seconds after the command that stopped it returned."""
        for basedir in self.basedirs:
            self.note_pid(basedir)
        self.pids |= self.processes_in_basedirs()
        deadline = time.monotonic() + grace_s
        while any(pid_alive(p) for p in self.pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [pid for pid in self.pids if pid_alive(pid)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(pid_alive(p) for p in left) and time.monotonic() < deadline:
            time.sleep(0.05)
        return left


@pytest.fixture
def daemons() -> Iterator[Daemons]:
    """Never leave a master process behind; a test that does is failed."""
    tracker = Daemons()
    yield tracker
    left = tracker.cleanup()
    if left:
        pytest.fail(f"test left daemon processes behind (killed): {left}")
