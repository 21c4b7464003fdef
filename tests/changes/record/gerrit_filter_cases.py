"""GerritChangeFilter cases shared by the 4.3 recording script and the test: (filter
arguments, change attributes); callables are named so both sides build the same ones."""

import re

FILTERS = [
    {"branch": "main"},
    {"branch": ["main", "stable"]},
    {"branch_re": "^stab"},
    {"branch_fn": "starts_with_m"},
    {"eventtype": "patchset-created"},
    {"eventtype_re": re.compile("^(change-merged|ref-updated)$")},
    {"eventtype_fn": "is_review"},
    {"branch": "main", "eventtype": "patchset-created", "project": "platform/tools"},
    {"branch": None},
    {},
]

CHANGES = [
    {"branch": "refs/changes/45/12345/2", "project": "platform/tools",
     "properties": {"event.type": "patchset-created", "event.change.branch": "main"}},
    {"branch": "refs/changes/46/12346/1", "project": "platform/tools",
     "properties": {"event.type": "comment-added", "event.change.branch": "stable"}},
    {"branch": "main", "project": "platform/tools",
     "properties": {"event.type": "ref-updated"}},
    {"branch": "stable", "project": "other",
     "properties": {"event.type": "change-merged", "event.change.branch": "stable"}},
]

NAMED = {
    "starts_with_m": lambda value: value.startswith("m"),
    "is_review": lambda value: value in ("patchset-created", "comment-added"),
}


def build_kwargs(spec):
    return {k: NAMED.get(v, v) if isinstance(v, str) and k.endswith("_fn") else v
            for k, v in spec.items()}
