"""Members of 4.3's classes that are not here yet (checked by test_public_names.py).

Each key is a 4.3 class (module.Class), each value the names of its public methods, properties
or class attributes still missing here or whose parameters still differ. The test fails when a
listed member is done (remove it) and when an unlisted one is missing, so this list shows what
remains of issue 12 item 2 for class members. `make_pending_members.py` rewrites it; shrink
it by implementing members, never by adding to it.
"""

from __future__ import annotations

PENDING_MEMBERS: dict[str, tuple[str, ...]] = {
}
