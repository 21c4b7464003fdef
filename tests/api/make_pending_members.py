"""Rewrite tests/api/pending_members.py from the members that fail now (run in our venv).

    .venv/bin/python tests/api/make_pending_members.py > tests/api/pending_members.py
    .venv/bin/python tests/api/make_pending_members.py --stats     # what remains, by module
    .venv/bin/python tests/api/make_pending_members.py --show buildbot.process   # why

It lists what the working tree fails; with other people's uncommitted work in the tree, run
it on a clean export of HEAD plus your own files, so that the list matches what you commit.
"""

import collections
import importlib
import inspect
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2]))
from tests.api import test_public_names as t

out = collections.defaultdict(dict)
total = 0
for modname, clsname in t._classes():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            module = importlib.import_module(modname)
        except Exception:  # noqa: BLE001, S112 - a module that does not import is pending
            continue
        cls = getattr(module, clsname, None)
        if not inspect.isclass(cls) or t.MARK in cls.__dict__:
            continue
        q = f"{modname}.{clsname}"
        bad = []
        for name, entry in sorted(t.MODULES[modname]["names"][clsname]["members"].items()):
            pr = t.member_problems(cls, q, name, entry)
            if pr:
                bad.append((name, pr))
        if bad:
            out[modname][q] = bad
            total += len(bad)
if "--stats" in sys.argv:
    for m, d in sorted(out.items(), key=lambda x: -sum(len(v) for v in x[1].values())):
        print(sum(len(v) for v in d.values()), m)
    print("total", total)
    sys.exit()
if "--show" in sys.argv:
    for m, d in out.items():
        if m.startswith(sys.argv[-1]):
            for q, bad in d.items():
                for n, pr in bad:
                    print(q, n, pr)
    sys.exit()
lines = ['''"""Members of 4.3's classes that are not here yet (checked by test_public_names.py).

Each key is a 4.3 class (module.Class), each value the names of its public methods, properties
or class attributes still missing here or whose parameters still differ. The test fails when a
listed member is done (remove it) and when an unlisted one is missing, so this list shows what
remains of issue 12 item 2 for class members. `make_pending_members.py` rewrites it; shrink
it by implementing members, never by adding to it.
"""

from __future__ import annotations

PENDING_MEMBERS: dict[str, tuple[str, ...]] = {''']
for m in sorted(out):
    n = sum(len(v) for v in out[m].values())
    lines.append(f"    # {m}: {n}")
    for q in sorted(out[m]):
        names = [n for n, _ in out[m][q]]
        body = ", ".join(repr(x) for x in names)
        line = f"    {q!r}: ({body},),"
        if len(line) <= 100:
            lines.append(line)
        else:
            lines.append(f"    {q!r}: (")
            cur = "        "
            for x in names:
                piece = repr(x) + ", "
                if len(cur) + len(piece) > 100:
                    lines.append(cur.rstrip())
                    cur = "        "
                cur += piece
            lines.append(cur.rstrip())
            lines.append("    ),")
lines.append("}")
print("\n".join(lines))
