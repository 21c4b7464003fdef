"""get_and_subscribe: a snapshot plus every later change, once, even when updates race the
read."""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet import defer

from buildbot.util.deferred import gather
from tests.fixtures.stack import Stack


def replay(snapshot: dict[str, Any], messages: list[tuple[Any, dict[str, Any]]]
           ) -> list[str]:
    """The successive state strings a client applying the messages sees."""
    states = [snapshot["state_string"]]
    for _, body in messages:
        states.append(body["state_string"])
    return states


@pytest_twisted.ensureDeferred
async def test_updates_racing_the_read_are_seen_once(stack: Stack) -> None:
    build = await stack.make_build()
    received: list[tuple[Any, dict[str, Any]]] = []
    names = [f"s{i}" for i in range(12)]

    async def updates() -> None:
        for name in names:
            await stack.updates.setBuildStateString(build.id, name)

    async def reader() -> Any:
        # start reading once a few updates went through the database
        for _ in range(3):
            await stack.db.masters.getMaster(stack.masterid)
        return await stack.data.get_and_subscribe(
            ("builds", build.id), lambda k, b: received.append((k, b)))

    _, (snapshot, sub) = await gather([updates(), reader()])
    sub.stopConsuming()

    states = replay(snapshot, received)
    start = ["created", *names].index(snapshot["state_string"])
    assert states == ["created", *names][start:]
    assert states[-1] == names[-1]


@pytest_twisted.ensureDeferred
async def test_every_interleaving_of_one_update_and_the_read(stack: Stack) -> None:
    """Start the read after 0, 1, 2, ... reactor turns of a concurrent update: whatever the
    moment, snapshot + messages end in the final state and never repeat a state."""
    build = await stack.make_build()
    for delay in range(8):
        before = (await stack.data.get(("builds", build.id)))["state_string"]
        after = f"state{delay}"
        received: list[tuple[Any, dict[str, Any]]] = []

        async def reader(delay: int = delay, received: list[Any] = received) -> Any:
            for _ in range(delay):
                await stack.db.masters.getMaster(stack.masterid)  # a real DB round trip
            return await stack.data.get_and_subscribe(
                ("builds", build.id), lambda k, b: received.append((k, b)))

        _, (snapshot, sub) = await gather([
            stack.updates.setBuildStateString(build.id, after), reader()])
        sub.stopConsuming()

        states = replay(snapshot, received)
        assert states in ([before, after], [after]), (delay, states)


@pytest_twisted.ensureDeferred
async def test_collection_snapshot_and_new_items(stack: Stack) -> None:
    build = await stack.make_build()
    received: list[tuple[Any, dict[str, Any]]] = []

    async def add_steps() -> list[int]:
        return [(await stack.updates.addStep(build.id, f"step{i}"))[0] for i in range(5)]

    stepids, (snapshot, sub) = await gather([
        add_steps(),
        stack.data.get_and_subscribe(("builds", build.id, "steps"),
                                     lambda k, b: received.append((k, b)))])
    sub.stopConsuming()

    seen_ids = [s["stepid"] for s in snapshot] + [b["stepid"] for _, b in received]
    assert sorted(seen_ids) == stepids  # each new step exactly once


@pytest_twisted.ensureDeferred
async def test_other_masters_messages_are_compared_with_the_snapshot(stack: Stack) -> None:
    build = await stack.make_build()
    received: list[tuple[Any, dict[str, Any]]] = []
    snapshot, sub = await stack.data.get_and_subscribe(
        ("builds", build.id), lambda k, b: received.append((k, b)))

    # a message without a local write number (as from another master), after the read
    stack.mq.produce(("builds", str(build.id), "update"), dict(snapshot, state_string="x"))
    sub.stopConsuming()
    stack.mq.produce(("builds", str(build.id), "update"), dict(snapshot, state_string="y"))

    assert [b["state_string"] for _, b in received] == ["x"]
    assert stack.data._watchers == []


@pytest_twisted.ensureDeferred
async def test_other_masters_messages_with_epoch_times_match_the_snapshot(stack: Stack) -> None:
    build = await stack.make_build()
    body = await stack.data.get(("builds", build.id))
    # what a message from another master looks like after the WAMP router: epoch seconds
    remote = dict(body, started_at=int(body["started_at"].timestamp()))
    received: list[tuple[Any, dict[str, Any]]] = []
    reading = defer.ensureDeferred(stack.data.get_and_subscribe(
        ("builds", build.id), lambda k, b: received.append((k, b))))
    # (subscribed, the read in flight: both messages are sorted out against the snapshot)
    stack.mq.produce(("builds", str(build.id), "update"), remote)
    stack.mq.produce(("builds", str(build.id), "update"), dict(remote, state_string="x"))
    snapshot, sub = await reading
    sub.stopConsuming()

    assert snapshot == body
    assert [b["state_string"] for _, b in received] == ["x"]  # the snapshot's own: dropped
