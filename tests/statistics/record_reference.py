"""Records what Buildbot 4.3's capture classes send to a storage backend for fixed build
messages (run with the reference's Python: /work/refvenv/bin/python
tests/statistics/record_reference.py > tests/statistics/reference_captures.json).
The same inputs drive our captures in test_reference_values.py."""

from __future__ import annotations

import datetime
import json
import sys

from twisted.internet import defer, threads

INPUTS = {
    "builder": {"builderid": 4, "name": "linux"},
    "properties": {"answer": [42, "SetProperty"], "answer_text": ["forty-two", "SetProperty"],
                   "other": ["x", "Build"]},
    "build": {"buildid": 9, "builderid": 4, "number": 17,
              "started_at": [2026, 12, 7, 10, 0, 0, 250000],
              "complete_at": [2026, 12, 7, 11, 30, 15, 0]},
    "yielded": {"data_name": "tests", "post_data": {"passed": 21, "failed": 1}},
}


def build_message() -> dict:
    b = dict(INPUTS["build"])
    for k in ("started_at", "complete_at"):
        b[k] = datetime.datetime(*b[k], tzinfo=datetime.UTC)
    return b


def captures(statistics) -> dict:
    return {
        "CaptureProperty": statistics.CaptureProperty("linux", "answer"),
        "CaptureProperty-regex": statistics.CaptureProperty("linux", "answer.*", regex=True),
        "CapturePropertyAllBuilders": statistics.CapturePropertyAllBuilders("other"),
        "CaptureBuildStartTime": statistics.CaptureBuildStartTime("linux"),
        "CaptureBuildStartTimeAllBuilders": statistics.CaptureBuildStartTimeAllBuilders(),
        "CaptureBuildEndTime": statistics.CaptureBuildEndTime("linux"),
        "CaptureBuildEndTimeAllBuilders": statistics.CaptureBuildEndTimeAllBuilders(),
        "CaptureBuildDuration": statistics.CaptureBuildDuration("linux"),
        "CaptureBuildDuration-minutes": statistics.CaptureBuildDuration("linux", "minutes"),
        "CaptureBuildDuration-hours": statistics.CaptureBuildDurationAllBuilders("hours"),
        "CaptureBuildDuration-other-builder": statistics.CaptureBuildDuration("windows"),
        "CaptureData": statistics.CaptureData("tests", "linux"),
        "CaptureDataAllBuilders": statistics.CaptureDataAllBuilders("tests"),
        "CaptureData-other-name": statistics.CaptureData("coverage", "linux"),
    }


class Data:
    async def get(self, path):
        if path[0] == "builders":
            return dict(INPUTS["builder"])
        return {k: tuple(v) for k, v in INPUTS["properties"].items()}


class Master:
    data = Data()


class Backend:
    def __init__(self) -> None:
        self.calls: list = []

    def thd_postStatsValue(self, post_data, series_name, context=None):
        self.calls.append([post_data, series_name, context])


def message_for(capture) -> dict:
    if capture.routingKey[0] == "stats-yieldMetricsValue":
        return dict(INPUTS["yielded"], build_data=build_message())
    return build_message()


async def run(statistics) -> dict:
    """Name -> the backend calls the capture made."""
    out = {}
    for name, capture in captures(statistics).items():
        backend = Backend()
        capture.parent_svcs = [backend]
        capture.master = Master()
        await defer.ensureDeferred(defer.maybeDeferred(capture.consume, None,
                                                       message_for(capture)))
        out[name] = backend.calls
    return out


def main() -> None:
    from buildbot import statistics
    # run the backend in-line: the thread pool is not needed to record values
    threads.deferToThread = lambda f, *a, **kw: defer.maybeDeferred(f, *a, **kw)
    d = defer.ensureDeferred(run(statistics))
    json.dump(d.result, sys.stdout, indent=1, sort_keys=True)  # no reactor: all synchronous
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
