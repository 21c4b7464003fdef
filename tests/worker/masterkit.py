"""Helpers for worker tests on a real in-process master (configs, forcing builds, events)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet import defer

from buildbot.plugins import schedulers, steps, util
from tests.fixtures.reactor import global_reactor
from tests.worker.standin import Events

PB = "pb"
MSGPACK = "msgpack_experimental_v7"
# Generous: the waits return as soon as the event happens, and real worker processes are slow
# on a loaded machine.
WAIT_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def protocols(port: int, protocol: str = PB) -> dict[str, Any]:
    return {protocol: {"port": f"tcp:{port}:interface=127.0.0.1"}}


def config(workers: Sequence[Any], builders: dict[str, Sequence[Any]] | None = None, *,
           workernames: Sequence[str] | None = None, port: int | None = None,
           protocol: str = PB, builder_kwargs: dict[str, dict[str, Any]] | None = None,
           **extra: Any) -> dict[str, Any]:
    """A master config: `builders` maps builder names to their steps (default: one builder
    `b` running `true`), every builder on every worker unless `workernames` says."""
    builders = builders if builders is not None else {"b": [steps.ShellCommand(
        command=["true"], name="work")]}
    names = list(workernames) if workernames is not None else [w.name for w in workers]
    builder_kwargs = builder_kwargs or {}
    cfg: dict[str, Any] = {
        "workers": list(workers),
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=list(builders))],
        "builders": [util.BuilderConfig(name=n, workernames=names,
                                        factory=util.BuildFactory(list(s)),
                                        **builder_kwargs.get(n, {}))
                     for n, s in builders.items()],
    }
    if port is not None:
        cfg["protocols"] = protocols(port, protocol)
    cfg.update(extra)
    return cfg


async def force(master: Any, builder: str = "b") -> tuple[int, dict[int, int]]:
    """Force a build on `builder`; (bsid, {builderid: brid})."""
    bsid, brids = await master.data.control("force", {"builderNames": [builder],
                                                      "owner": "test"},
                                            ("forceschedulers", "force"))
    return int(bsid), brids


class Recorder:
    """Every mq message matching `topic`, awaitable (start it before causing events)."""

    def __init__(self) -> None:
        self.events = Events()
        self._consumer: Any = None

    @classmethod
    async def start(cls, master: Any, topic: tuple[str | None, ...]) -> Recorder:
        rec = cls()
        rec._consumer = await master.mq.startConsuming(
            lambda key, body: rec.events.append((key, body)), topic)
        return rec

    def stop(self) -> None:
        if self._consumer is not None:
            self._consumer.stopConsuming()
            self._consumer = None

    @property
    def bodies(self) -> list[Any]:
        return [body for _, body in self.events.items]

    async def wait(self, what: str, pred: Callable[[list[Any]], bool],
                   timeout: float = WAIT_TIMEOUT) -> list[Any]:
        """Wait until `pred(bodies)` holds; returns the bodies."""
        await self.events.wait(lambda items: pred([b for _, b in items]), what, timeout)
        return self.bodies


async def wait_until(what: str, check: Callable[[], Any], timeout: float = WAIT_TIMEOUT,
                     interval: float = 0.02) -> Any:
    """Poll `check()` (a value or awaitable) until true; fail naming `what` after `timeout`.

    For state that announces no event (timers, worker attributes)."""
    reactor = global_reactor()

    from buildbot.util.deferred import maybe_await

    deadline = reactor.seconds() + timeout
    while True:
        result = await maybe_await(check())
        if result:
            return result
        if reactor.seconds() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        d: defer.Deferred[None] = defer.Deferred()
        reactor.callLater(interval, d.callback, None)
        await d


def listen(master: Any, topic: tuple[str | None, ...],
           check: Callable[[tuple[str, ...], Any], bool] = lambda k, b: True,
           timeout: float = WAIT_TIMEOUT) -> defer.Deferred[tuple[tuple[str, ...], Any]]:
    """`wait_for_message`, already listening when this returns (a coroutine would only
    start consuming once awaited, and miss what happens before)."""
    from tests.fixtures.master import wait_for_message

    return defer.ensureDeferred(wait_for_message(master, topic, check, timeout))
