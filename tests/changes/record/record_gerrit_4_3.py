"""Records the addChange arguments Buildbot 4.3's Gerrit event handling gives for the events
in tests/changes/fixtures (run with the reference's interpreter:
`/work/refvenv/bin/python tests/changes/record/record_gerrit_4_3.py`); writes
fixtures/gerrit_expected_changes.json (stream format, default handled events) and
fixtures/gerrit_expected_changes_log.json (events-log format, comment-added handled too).
The source is a subclass named Src; the tests put their class name in `event.source`."""

import json
from pathlib import Path

from twisted.internet import defer

from buildbot.changes.gerritchangesource import GerritChangeSourceBase

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class Updates:
    def __init__(self):
        self.recorded = []

    def addChange(self, **kwargs):
        self.recorded.append(kwargs)
        return defer.succeed(None)


class Src(GerritChangeSourceBase):
    master = None  # set per run (the reference's property needs a service parent)


def record(events_file, git_base_url, handled_events):
    updates = Updates()
    Src.master = type("Master", (), {"data": type("Data", (), {"updates": updates})()})()
    src = Src.__new__(Src)
    src.reconfigService(gitBaseURL=git_base_url, handled_events=handled_events)
    for line in (FIXTURES / events_file).read_text().splitlines():
        src.eventReceived(json.loads(line))
    return updates.recorded


for events, url, handled, out in [
        ("gerrit_stream_events.jsonl", "ssh://bb@gerrit.example.org:29418",
         ["patchset-created", "ref-updated"], "gerrit_expected_changes.json"),
        ("gerrit_events_log.jsonl", "https://g/git",
         ["patchset-created", "ref-updated", "comment-added"],
         "gerrit_expected_changes_log.json")]:
    (FIXTURES / out).write_text(json.dumps(record(events, url, handled), indent=1,
                                           sort_keys=True) + "\n")
