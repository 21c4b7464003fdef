"""Start-up and reconfig cost does not grow per builder or worker (issue 16): the database
transactions a master runs to start, or to reconfigure with one builder changed, are the same
for 10 and for 60 builders, and a reconfig leaves the other builders and workers alone.

Counted, not timed: `benchmarks/startup.py` measures the time."""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.db.pool import DbPool, operation_name
from buildbot.plugins import schedulers, steps, util, worker
from tests.fixtures.master import running_master


def make_config(builders: int, changed: str | None = None) -> dict[str, Any]:
    workers = max(2, builders // 5)
    names = [f"b{i}" for i in range(builders)]

    def factory(name: str) -> util.BuildFactory:
        cmd = ["echo", "changed"] if name == changed else ["true"]
        return util.BuildFactory([steps.ShellCommand(command=cmd, name="s")])

    return {
        "workers": [worker.Worker(f"w{i}", "pw") for i in range(workers)],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=names)],
        "builders": [util.BuilderConfig(
            name=n, workernames=[f"w{i % workers}", f"w{(i + 1) % workers}"],
            tags=[f"t{i % 3}"], factory=factory(n)) for i, n in enumerate(names)],
    }


@pytest.fixture
def transactions(monkeypatch: pytest.MonkeyPatch) -> Iterator[collections.Counter[str]]:
    """Every database transaction of the masters started meanwhile, by operation name."""
    seen: collections.Counter[str] = collections.Counter()
    defer_ = DbPool._defer

    async def counting(self: DbPool, thd: Callable[..., Any], fn: Callable[..., Any]) -> Any:
        seen[operation_name(fn)] += 1
        return await defer_(self, thd, fn)

    monkeypatch.setattr(DbPool, "_defer", counting)
    yield seen


async def start_and_count(tmp_path: Path, builders: int,
                          seen: collections.Counter[str]) -> collections.Counter[str]:
    seen.clear()
    async with running_master(tmp_path / f"m{builders}", make_config(builders)) as master:
        assert len(master.botmaster.builders) == builders
        counted = collections.Counter(seen)
        ours = await master.data.get(("masters", master.masterid, "builders"))
        assert len(ours) == builders and {len(b["tags"]) for b in ours} == {1}
    return counted


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_start_up_transactions_do_not_grow_with_builders_and_workers(
        tmp_path: Path, transactions: collections.Counter[str]) -> None:
    small = await start_and_count(tmp_path, 10, transactions)
    large = await start_and_count(tmp_path, 60, transactions)
    assert large == small, {k: (small[k], large[k]) for k in small | large
                            if small[k] != large[k]}


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_reconfig_with_one_builder_changed_touches_only_that_builder(
        tmp_path: Path, transactions: collections.Counter[str]) -> None:
    counts = []
    for builders in (10, 60):
        current = {"changed": None}

        def make(n: int = builders) -> dict[str, Any]:
            return make_config(n, current["changed"])

        async with running_master(tmp_path / f"m{builders}", make) as master:
            before = dict(master.botmaster.builders)
            workers = dict(master.workers.namedServices)
            configs = {n: b.config for n, b in before.items()}
            messages: list[tuple[tuple[str, ...], Any]] = []
            consumer = await master.mq.startConsuming(
                lambda k, b: messages.append((k, b)), ("builders", None, None))
            worker_messages: list[Any] = []
            worker_consumer = await master.mq.startConsuming(
                lambda k, b: worker_messages.append(k), ("workers", None, None))
            transactions.clear()
            current["changed"] = "b3"
            await master.reconfig()
            counts.append(collections.Counter(transactions))
            consumer.stopConsuming()
            worker_consumer.stopConsuming()

            assert master.botmaster.builders == before  # the same Builder objects
            assert dict(master.workers.namedServices) == workers
            assert all(w.running for w in workers.values())
            changed = {n for n, b in before.items() if b.config is not configs[n]}
            assert changed == set(before)  # each builder takes its new BuilderConfig...
            # ...but only the changed one is written and announced (its factory is not
            # part of the stored info, so nothing is announced at all here)
            assert messages == [] and worker_messages == []
    assert counts[0] == counts[1], counts
