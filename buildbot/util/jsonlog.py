"""Master logs as one JSON object per line, for log shippers (Filebeat, Fluent Bit, Vector).

`JsonLogObserver(file)` is a log observer for `buildbot.tac`, beside (or instead of) the
twistd.log one; see docs/monitoring.md. Each event becomes one line:

    {"time": "2026-12-07T18:30:00.123Z", "level": "info", "system": "-",
     "namespace": "buildbot.master", "message": "BuildMaster is running"}

and, for an error with a traceback, `"traceback": "..."`. The message is the same text the
twistd.log line shows; newlines inside it stay inside the JSON string, so a record is always
exactly one line.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, TextIO

from twisted.logger import LogLevel, formatEvent


def _level(event: dict[str, Any]) -> str:
    level = event.get("log_level")
    if isinstance(level, type(LogLevel.info)):
        return str(level.name)
    return "error" if event.get("isError") else "info"


def _message(event: dict[str, Any]) -> str:
    if "log_format" in event or "log_text" in event:
        return formatEvent(event)
    # a legacy twisted.python.log event (log.msg / log.err)
    from twisted.python import log as legacy

    return legacy.textFromEventDict(event) or ""


def event_record(event: dict[str, Any]) -> dict[str, Any]:
    """The JSON object written for `event` (new-style or legacy)."""
    when = event.get("log_time", event.get("time"))
    stamp = datetime.datetime.fromtimestamp(float(when) if when is not None else 0.0,
                                            tz=datetime.UTC)
    record: dict[str, Any] = {
        "time": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
        "level": _level(event),
        "system": str(event.get("log_system", event.get("system", "-"))),
        "namespace": str(event.get("log_namespace", "")),
        "message": _message(event),
    }
    failure = event.get("log_failure", event.get("failure"))
    if failure is not None:
        try:
            record["traceback"] = failure.getTraceback()
        except Exception:  # noqa: BLE001 - a broken failure object must not lose the record
            record["traceback"] = repr(failure)
    return record


class JsonLogObserver:
    """Write every event to `out` (a file, or a `twisted.python.logfile.LogFile` for
    rotation) as one JSON line; flushes after each line so shippers see it at once."""

    def __init__(self, out: TextIO | Any) -> None:
        self.out = out

    def __call__(self, event: dict[str, Any]) -> None:
        try:
            line = json.dumps(event_record(event), ensure_ascii=False, default=str)
        except Exception as e:  # noqa: BLE001 - an observer must never raise
            line = json.dumps({"level": "error", "message": f"unloggable event: {e!r}"})
        self.out.write(line + "\n")
        self.out.flush()

    # the legacy ILogObserver spelling used in buildbot.tac files
    emit = __call__
