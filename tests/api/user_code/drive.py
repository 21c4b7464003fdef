"""Run master.cfg (next to this file) on the master of the Python running this script,
force one build over REST, and print what a user would look at, as JSON.

    <python> tests/api/user_code/drive.py <basedir>

Used with our venv by test_user_code.py and with Buildbot 4.3's venv to record
expected_results.json (PYTHONPATH=/work/refvenv-extra there for buildbot-www and
buildbot-wsgi-dashboards). The master runs as a daemon (`buildbot start`) and is stopped
at the end, whatever happened.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
BUILDBOT = str(Path(sys.executable).parent / "buildbot")
DEADLINE_S = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
    return json.loads(raw)


def wait_for(what: str, check: Any) -> Any:
    """Poll `check()` until it returns a value (the driver runs outside the master)."""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        try:
            value = check()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not happen within {DEADLINE_S} s")


def main(basedir: Path) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "UC_WWW_PORT": str(port), "UC_PB_PORT": str(free_port()),
           # generous: the 10 s default can pass on a loaded machine before the master logs
           "START_TIMEOUT": "120"}
    if basedir.exists():
        shutil.rmtree(basedir)
    basedir.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([BUILDBOT, "create-master", "-q", str(basedir)], check=True, env=env)
    shutil.copy(HERE / "master.cfg", basedir / "master.cfg")
    subprocess.run([BUILDBOT, "start", str(basedir)], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    try:
        api = f"http://127.0.0.1:{port}/api/v2"
        builder = wait_for("builder list", lambda: http(f"{api}/builders")["builders"])[0]
        http(f"{api}/forceschedulers/force", {
            "jsonrpc": "2.0", "method": "force", "id": 1,
            "params": {"builderid": str(builder["builderid"]), "username": "", "reason": "test"}})
        build = wait_for("build completion", lambda: [
            b for b in http(f"{api}/builds")["builds"] if b["complete"]])[0]
        reports = basedir / "reports.jsonl"
        wait_for("report", lambda: reports.exists() and reports.read_text())
        steps = http(f"{api}/builds/{build['buildid']}/steps")["steps"]
        props = http(f"{api}/builds/{build['buildid']}/properties")["properties"][0]
        with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/plugins/wsgi_dashboards/dash/index.html",
                timeout=30) as resp:
            dashboard = json.loads(resp.read())
        return {
            "build": {k: build[k] for k in ("number", "results", "state_string")},
            "steps": [{k: s[k] for k in ("name", "results", "state_string")} for s in steps],
            "properties": {k: props[k] for k in ("greeting", "line_count", "summary")},
            "reports": [json.loads(line) for line in reports.read_text().splitlines()],
            "dashboard": dashboard,
        }
    finally:
        subprocess.run([BUILDBOT, "stop", str(basedir)], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    json.dump(main(Path(sys.argv[1])), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
