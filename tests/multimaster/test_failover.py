"""A master dies or pauses: it is expired within the configured time, its work is taken over,
and every request is built exactly once (masters as separate processes, stock workers).

Short intervals: check-in every 0.5 s, expiry after 3 s.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import pytest_twisted

from buildbot.process.results import RETRY, SUCCESS
from tests.multimaster.cluster import Cluster, cluster, master_cfg, sleep, until

pytestmark = [pytest.mark.multimaster, pytest.mark.integration]

EXPIRY = 3.0


def one_success_per_request(c: Cluster) -> None:
    """Every request is complete, with exactly one build that did not end RETRY."""
    for req in c.requests():
        assert req.complete == 1, f"request {req.id} is not complete"
        finished = [b for b in c.builds() if b.buildrequestid == req.id and b.results != RETRY]
        assert len(finished) == 1, f"request {req.id} built {len(finished)} times: {finished}"


async def build_running_on(c: Cluster, masterid: int) -> int:
    rows = await until(lambda: [b for b in c.builds() if b.masterid == masterid
                                and b.complete_at is None],
                       f"a build running on master {masterid}")
    return int(rows[0].id)


@pytest_twisted.ensureDeferred
async def test_kill_9_mid_build_the_request_is_built_elsewhere_once(tmp_path: Path) -> None:
    async with cluster(tmp_path) as c:
        cfg = master_cfg(c.db_url, expiry=EXPIRY)
        a = await c.start_master("a", cfg)
        b = await c.start_master("b", cfg)
        ida, idb = c.masterid(a), c.masterid(b)
        await c.start_worker("wa", a)
        await a.force("b")
        buildid = await build_running_on(c, ida)
        assert c.query("SELECT count(*) FROM connected_workers WHERE masterid = :m",
                       m=ida)[0][0] == 1

        a.signal(signal.SIGKILL)
        killed = time.monotonic()
        await a.wait_exited()
        await until(lambda: not c.active(ida), "master a expired", EXPIRY + 5, b.describe)
        took = time.monotonic() - killed
        assert took <= EXPIRY + 2, f"expired after {took:.1f}s"
        # its build ends RETRY (the expiring master's housekeeping, right after), its
        # worker shows disconnected
        await until(lambda: [r.results for r in c.builds() if r.id == buildid] == [RETRY],
                    "a's build ended RETRY", 5, b.describe)
        assert time.monotonic() - killed <= EXPIRY + 3
        assert c.query("SELECT count(*) FROM connected_workers WHERE masterid = :m",
                       m=ida)[0][0] == 0

        # The worker comes back pointing at the surviving master and builds there.
        await c.start_worker("wa", b)
        await until(lambda: all(r.complete for r in c.requests()), "the request rebuilt",
                    describe=b.describe)
        one_success_per_request(c)
        rebuilt = [x for x in c.builds() if x.id != buildid]
        assert [(x.masterid, x.results) for x in rebuilt] == [(idb, SUCCESS)]


@pytest_twisted.ensureDeferred
async def test_paused_master_is_fenced_and_nothing_is_built_twice(tmp_path: Path) -> None:
    async with cluster(tmp_path) as c:
        # the step ends while master a is paused: a's completion must be refused
        cfg = master_cfg(c.db_url, expiry=EXPIRY, sleep_s=6.0)
        a = await c.start_master("a", cfg)
        b = await c.start_master("b", cfg)
        ida, idb = c.masterid(a), c.masterid(b)
        await c.start_worker("wa", a)
        await a.force("b")
        buildid = await build_running_on(c, ida)

        # paused at once, outside a transaction (the step runs on for 6 s and ends during
        # the pause)
        await c.pause_outside_transactions(a)
        try:
            await c.start_worker("wb", b)
            await until(lambda: not c.active(ida), "master a expired", EXPIRY + 5,
                        b.describe)
            # b builds the request on wb while a is still paused
            await until(lambda: all(r.complete for r in c.requests()),
                        "the request rebuilt by b",
                        describe=b.describe)
        finally:
            a.signal(signal.SIGCONT)
        await a.wait_for_log("was marked inactive by another master")
        await a.wait_exited()
        assert not c.active(ida)
        assert "its writes are refused" in a.log_text()  # a did try to end its build

        one_success_per_request(c)
        by_id = {x.id: x for x in c.builds()}
        assert by_id[buildid].results == RETRY  # a's late SUCCESS was refused
        assert [(x.masterid, x.results) for x in by_id.values() if x.id != buildid] == [
            (idb, SUCCESS)]


@pytest_twisted.ensureDeferred
async def test_schedulers_move_to_a_survivor_within_the_expiry(tmp_path: Path) -> None:
    async with cluster(tmp_path) as c:
        cfg = master_cfg(c.db_url, expiry=EXPIRY, extra="""
            c['schedulers'].append(schedulers.Periodic(
                name='periodic', builderNames=['b'], periodicBuildTimer=3600))
            """)
        a = await c.start_master("a", cfg)
        ida = c.masterid(a)

        def owner() -> list[int]:
            return [r.masterid for r in c.query(
                "SELECT sm.masterid FROM scheduler_masters sm JOIN schedulers s "
                "ON s.id = sm.schedulerid WHERE s.name = 'periodic'")]

        await until(lambda: owner() == [ida], "a owns the periodic scheduler")
        b = await c.start_master("b", cfg)
        idb = c.masterid(b)
        a.signal(signal.SIGKILL)
        killed = time.monotonic()
        await a.wait_exited()
        await until(lambda: owner() == [idb], "b owns the periodic scheduler", EXPIRY + 5,
                    b.describe)
        assert time.monotonic() - killed <= EXPIRY + 3


@pytest_twisted.ensureDeferred
async def test_changes_are_built_once_across_a_scheduler_takeover(tmp_path: Path) -> None:
    async with cluster(tmp_path) as c:
        cfg = master_cfg(c.db_url, expiry=EXPIRY, sleep_s=0.1, extra="""
            c['www']['change_hook_dialects'] = {'base': True}
            c['collapseRequests'] = False
            c['schedulers'].append(schedulers.SingleBranchScheduler(
                name='on-change', builderNames=['b'], treeStableTimer=None,
                change_filter=util.ChangeFilter(branch='main')))
            """)
        a = await c.start_master("a", cfg)
        ida = c.masterid(a)
        await until(lambda: c.query("SELECT count(*) FROM scheduler_masters sm JOIN "
                                    "schedulers s ON s.id = sm.schedulerid WHERE "
                                    "s.name = 'on-change' AND sm.masterid = :m", m=ida)[0][0],
                    "a owns the change scheduler")
        b = await c.start_master("b", cfg)
        await c.start_worker("wb", b)
        # no router: a hears of a change accepted by b from the changes table
        await b.post_change("rev1")
        await until(lambda: len(c.requests()) == 1, "a schedules rev1",
                    describe=a.describe)

        a.signal(signal.SIGKILL)
        await a.wait_exited()
        await b.post_change("rev2")  # while the scheduler's master is dead
        await until(lambda: not c.active(ida), "master a expired", EXPIRY + 5, b.describe)
        await until(lambda: len(c.requests()) == 2 and all(r.complete for r in c.requests()),
                    "both changes built",
                    describe=b.describe)
        assert c.query("SELECT count(*) FROM buildsets")[0][0] == 2
        one_success_per_request(c)


@pytest_twisted.ensureDeferred
async def test_three_masters_under_sustained_load_build_each_request_once(
        tmp_path: Path) -> None:
    async with cluster(tmp_path) as c:
        cfg = master_cfg(c.db_url, expiry=EXPIRY, sleep_s=0.1, workers=("wa", "wb", "wc"),
                         extra="c['collapseRequests'] = False\n")
        ms = [await c.start_master(n, cfg) for n in ("a", "b", "c")]
        for m, w in zip(ms, ("wa", "wb", "wc"), strict=True):
            await c.start_worker(w, m)
        started = time.monotonic()
        forced = 0
        while time.monotonic() - started < 30:
            await ms[forced % 3].force("b")
            forced += 1
            await sleep(0.2)
        await until(lambda: len(c.requests()) == forced and all(
            r.complete for r in c.requests()), f"all {forced} requests built", 120)
        one_success_per_request(c)
        # no master was expired under load, and every master built some
        assert all(c.active(c.masterid(m)) for m in ms)
        assert {x.masterid for x in c.builds()} == {c.masterid(m) for m in ms}
