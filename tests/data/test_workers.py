"""workers: getters on every path, the worker updates and their messages, control."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted

from buildbot.data.exceptions import InvalidControlException, InvalidPathError
from buildbot.data.workers import worker_entity
from buildbot.util.resultspec import Filter
from tests.fixtures.stack import Stack

INFO = {"admin": "me", "host": "box", "access_uri": None, "version": "4.3.0"}


def worker_body(workerid: int, name: str, **kw: Any) -> dict[str, Any]:
    body = {"workerid": workerid, "name": name, "workerinfo": {}, "paused": False,
            "pause_reason": None, "graceful": False, "connected_to": [], "configured_on": []}
    body.update(kw)
    return body


@pytest_twisted.ensureDeferred
async def test_worker_getters(stack: Stack) -> None:
    bid = await stack.make_builder()
    w1 = await stack.make_worker("w1")
    w2 = await stack.make_worker("w2")
    await stack.updates.workerConfigured(w1, stack.masterid, [bid])
    m = stack.masterid
    one = worker_body(w1, "w1", configured_on=[{"masterid": m, "builderid": bid}])

    assert worker_entity.invalid_fields(one) == []
    for path in [("workers", w1), ("workers", "w1"), ("masters", m, "workers", w1),
                 ("masters", m, "workers", "w1"), ("masters", m, "builders", bid, "workers", w1),
                 ("masters", m, "builders", bid, "workers", "w1"),
                 ("builders", bid, "workers", w1), ("builders", bid, "workers", "w1")]:
        assert await stack.data.get(path) == one, path
    assert await stack.data.get(("workers", "nobody")) is None
    assert await stack.data.get(("workers",)) == [one, worker_body(w2, "w2")]
    for path in [("masters", m, "workers"), ("masters", m, "builders", bid, "workers"),
                 ("builders", bid, "workers")]:
        assert await stack.data.get(path) == [one], path


@pytest_twisted.ensureDeferred
async def test_connect_disconnect_pause_graceful_missing_messages(stack: Stack) -> None:
    w = await stack.make_worker("w1")
    m = stack.masterid
    seen = stack.mq_record(("workers", None, None))

    await stack.updates.workerConnected(w, m, INFO)
    await stack.updates.set_worker_paused(w, True, "maintenance")
    await stack.updates.set_worker_graceful(w, True)
    await stack.updates.workerMissing(w, m, 1234, True)
    await stack.updates.workerDisconnected(w, m)

    connected = worker_body(w, "w1", workerinfo=INFO, connected_to=[{"masterid": m}])
    paused = dict(connected, paused=True, pause_reason="maintenance")
    graceful = dict(paused, graceful=True)
    assert seen == [
        (("workers", str(w), "connected"), connected),
        (("workers", str(w), "state_updated"), paused),
        (("workers", str(w), "state_updated"), graceful),
        (("workers", str(w), "missing"), dict(graceful, last_connection=1234, notify=True)),
        (("workers", str(w), "disconnected"), dict(graceful, connected_to=[])),
    ]


@pytest_twisted.ensureDeferred
async def test_paused_and_graceful_filters(stack: Stack) -> None:
    w1 = await stack.make_worker("w1")
    w2 = await stack.make_worker("w2")
    await stack.updates.set_worker_paused(w2, True)

    paused = await stack.data.get(("workers",), filters=[Filter("paused", "eq", [True])])
    active = await stack.data.get(("workers",), filters=[Filter("paused", "ne", [True])])
    assert [w["workerid"] for w in paused] == [w2]
    assert [w["workerid"] for w in active] == [w1]


@pytest_twisted.ensureDeferred
async def test_find_worker_id_requires_an_identifier(stack: Stack) -> None:
    with pytest.raises(ValueError):
        await stack.updates.findWorkerId("not an identifier")
    with pytest.raises(ValueError):
        await stack.updates.findWorkerId("x" * 51)


@pytest_twisted.ensureDeferred
async def test_deconfigure_all_workers_for_master(stack: Stack) -> None:
    bid = await stack.make_builder()
    w = await stack.make_worker()
    await stack.updates.workerConfigured(w, stack.masterid, [bid])

    await stack.updates.deconfigureAllWorkersForMaster(stack.masterid)

    assert (await stack.data.get(("workers", w)))["configured_on"] == []


@pytest_twisted.ensureDeferred
async def test_control_actions(stack: Stack) -> None:
    w = await stack.make_worker("w1")
    seen = stack.mq_record(("control", "worker", None, None))

    for action in ("stop", "kill", "pause", "unpause"):
        assert await stack.data.control(action, {"reason": action}, ("workers", "w1")) is None
    await stack.data.control("pause", {}, ("workers", w))

    assert seen == [(("control", "worker", str(w), a), {"reason": a})
                    for a in ("stop", "kill", "pause", "unpause")] + \
        [(("control", "worker", str(w), "pause"), {"reason": "no reason"})]
    with pytest.raises(InvalidControlException, match="action: reboot is not supported"):
        await stack.data.control("reboot", {}, ("workers", w))
    with pytest.raises(InvalidPathError):  # Buildbot 4.3: 500
        await stack.data.control("stop", {}, ("workers", "ghost"))
