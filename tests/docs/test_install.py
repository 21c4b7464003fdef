"""The install commands of docs/install.md work: build the sdist and the wheel of this
checkout, install the wheel with an extra into a fresh virtualenv, run the CLI from there."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import buildbot

ROOT = Path(__file__).parents[2]


def _run(*cmd: str | Path, cwd: Path) -> str:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, f"{cmd} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.integration
@pytest.mark.timeout(900)
@pytest.mark.skipif(importlib.util.find_spec("build") is None,
                    reason="the `build` package (pip install build) is not installed")
def test_wheel_with_an_extra_installs_into_a_fresh_virtualenv(tmp_path: Path) -> None:
    """About a minute: ~17 s to build both archives, ~25 s to install (dependencies come from
    pip's cache; --no-compile skips byte-compiling them)."""
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "build", "--outdir", dist, ROOT, cwd=tmp_path)
    version = buildbot.__version__
    wheel = dist / f"buildbot-{version}-py3-none-any.whl"
    assert sorted(p.name for p in dist.iterdir()) == sorted(
        [wheel.name, f"buildbot-{version}.tar.gz"])

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    _run(venv / "bin" / "pip", "install", "-q", "--no-compile", f"{wheel}[db]", cwd=tmp_path)

    out = _run(venv / "bin" / "buildbot", "--version", cwd=tmp_path)
    assert out.splitlines()[:2] == ["Buildbot version: 4.3.0",
                                    f"buildbot-fast version: {version}"]
    _run(venv / "bin" / "buildbot", "create-master", "-q", tmp_path / "master", cwd=tmp_path)
    assert sorted(p.name for p in (tmp_path / "master").iterdir()) == [
        "buildbot.tac", "master.cfg.sample", "state.sqlite"]
    # The extra brought the database drivers; the package is the wheel's, not the checkout's.
    where = _run(venv / "bin" / "python", "-c",
                 "import psycopg2, pymysql, buildbot; print(buildbot.__file__)", cwd=tmp_path)
    assert where.startswith(str(venv))
