"""JSON-lines master log: new-style and legacy events, errors with tracebacks."""

from __future__ import annotations

import io
import json
from pathlib import Path

from twisted.logger import Logger, LogPublisher
from twisted.python import log as legacy
from twisted.python.logfile import LogFile

from buildbot.util.jsonlog import JsonLogObserver


def test_new_style_events_become_one_json_line_each() -> None:
    out = io.StringIO()
    pub = LogPublisher(JsonLogObserver(out))
    log = Logger(namespace="buildbot.test", observer=pub)
    log.info("builder {name} has\nnews", name="b1")
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        log.failure("while computing")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "builder b1 has\nnews" and first["level"] == "info"
    assert first["namespace"] == "buildbot.test" and first["time"].endswith("Z")
    assert second["level"] == "critical" and second["message"] == "while computing"
    assert "ZeroDivisionError" in second["traceback"]


def test_legacy_events_and_rotation_through_logfile(tmp_path: Path) -> None:
    logfile = LogFile("master.json", str(tmp_path), rotateLength=10_000)
    observer = JsonLogObserver(logfile)
    observer.emit({"message": ("hello", "world"), "isError": 0, "system": "pb", "time": 0.5})
    observer.emit({"message": (), "isError": 1, "system": "-", "time": 1.0,
                   "failure": legacy.failure.Failure(ValueError("bad")), "why": "oops"})
    logfile.close()
    records = [json.loads(line) for line in (tmp_path / "master.json").read_text().splitlines()]
    assert records[0] == {"time": "1970-01-01T00:00:00.500Z", "level": "info", "system": "pb",
                          "namespace": "", "message": "hello world"}
    assert records[1]["level"] == "error" and "ValueError: bad" in records[1]["traceback"]
