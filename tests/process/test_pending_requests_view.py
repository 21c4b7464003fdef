"""The distributor's view of unclaimed requests keeps a request created while a distribution
round was reading the builder's requests (the round's older read must not replace it)."""

from __future__ import annotations

from buildbot.process.buildrequestdistributor import PendingRequests


def row(brid: int, builderid: int = 7) -> dict[str, object]:
    return {"buildrequestid": brid, "builderid": builderid, "priority": 0,
            "submitted_at": None, "claimed": False, "complete": False}


def loaded_view() -> PendingRequests:
    view = PendingRequests()
    view.loaded = True
    return view


def test_a_read_older_than_an_event_only_adds() -> None:
    view = loaded_view()
    view.note("new", row(1))
    seen = view.events_seen(7)
    # the round reads [1], claims it; meanwhile request 2 of the same builder is created
    view.note("new", row(2))
    view.note("claimed", {**row(1), "claimed": True})
    view.replace(7, [], seen)
    assert view.has(7) and set(view.by_builder[7]) == {2}


def test_a_current_read_replaces_the_entry() -> None:
    view = loaded_view()
    view.note("new", row(1))
    view.note("new", row(2))
    seen = view.events_seen(7)
    # request 1 was claimed by another master (no event here): the read no longer has it
    view.replace(7, [row(2)], seen)
    assert set(view.by_builder[7]) == {2}
    view.replace(7, [], view.events_seen(7))
    assert not view.has(7)


def test_events_of_other_builders_do_not_count() -> None:
    view = loaded_view()
    view.note("new", row(1))
    seen = view.events_seen(7)
    view.note("new", row(5, builderid=8))
    view.replace(7, [], seen)
    assert not view.has(7) and view.has(8)


def test_a_read_drops_stale_entries_even_after_the_rounds_own_claims() -> None:
    view = loaded_view()
    for brid in (1, 2, 3):
        view.note("new", row(brid))
    seen = view.events_seen(7)
    # the round claims 1 (its own event) and reads [3]: 2 was claimed by another master
    # whose event never came
    view.note("claimed", {**row(1), "claimed": True})
    view.replace(7, [row(3)], seen)
    assert set(view.by_builder[7]) == {3}
