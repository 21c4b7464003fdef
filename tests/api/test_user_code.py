"""User code written as a Buildbot 4.3 user would (user_code/master.cfg: a ShellMixin step
with run(), a @util.renderer, a ReporterBase subclass with a generator and a Jinja2
formatter, a WSGI dashboard through buildbot-wsgi-dashboards) gives the same results here
as on Buildbot 4.3.0.

`user_code/expected_results.json` was recorded by running the same driver with 4.3:

    cd /tmp && PYTHONPATH=<dir with buildbot-www and buildbot-wsgi-dashboards 4.3.0> \\
        /work/refvenv/bin/python /work/main/tests/api/user_code/drive.py /tmp/uc/m \\
        > /work/main/tests/api/user_code/expected_results.json
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "user_code"


@pytest.mark.integration
@pytest.mark.skipif(importlib.util.find_spec("buildbot_wsgi_dashboards") is None,
                    reason="buildbot-wsgi-dashboards not installed")
def test_user_code_gives_buildbot_4_3_results(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(HERE / "drive.py"), str(tmp_path / "master")],
                         capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert out.returncode == 0, out.stderr + (tmp_path / "master" / "twistd.log").read_text()
    expected = json.loads((HERE / "expected_results.json").read_text())
    assert json.loads(out.stdout) == expected
