"""Records Buildbot 4.3's GerritChangeFilter decisions on the cases of gerrit_filter_cases.py
(run with the reference's interpreter:
`/work/refvenv/bin/python tests/changes/record/record_gerrit_filter_4_3.py`); writes
fixtures/gerrit_filter_4_3.json, a list (per filter) of lists (per change) of booleans, or the
constructor's error."""

import json
import sys
from pathlib import Path

from buildbot.changes.gerritchangesource import GerritChangeFilter
from buildbot.process.properties import Properties

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gerrit_filter_cases import CHANGES, FILTERS, build_kwargs


class Change:
    def __init__(self, spec):
        self.branch, self.project = spec["branch"], spec["project"]
        self.repository = self.category = self.codebase = ""
        self.properties = Properties()
        for name, value in spec["properties"].items():
            self.properties.setProperty(name, value, "Change")


def decide(spec):
    try:
        flt = GerritChangeFilter(**build_kwargs(spec))
    except ValueError as e:
        return f"ValueError: {e}"
    return [flt.filter_change(Change(c)) for c in CHANGES]


decisions = [decide(f) for f in FILTERS]
out = Path(__file__).resolve().parent.parent / "fixtures" / "gerrit_filter_4_3.json"
out.write_text(json.dumps(decisions) + "\n")
