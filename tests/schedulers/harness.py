"""Running schedulers on the `stack` fixture (real db, mq and data layers, a task.Clock).

    sched = await start(stack, SingleBranchScheduler(name="s", builderNames=["b"], branch="main"))
    ...
    await stop(sched)
"""

from __future__ import annotations

from typing import Any

from buildbot.util.deferred import maybe_await
from tests.fixtures.stack import Stack


async def start(stack: Stack, sched: Any, builders: tuple[str, ...] = ("b1", "b2")) -> Any:
    """Configure `sched` as the scheduler manager would, on `stack`'s master, and start it
    (the named builders are created first)."""
    for name in builders:
        await stack.make_builder(name)
    sched.master = stack.master
    await sched.reconfigServiceWithSibling(sched)
    await maybe_await(sched.startService())
    return sched


async def stop(sched: Any) -> None:
    await maybe_await(sched.stopService())


async def buildsets(stack: Stack, *scheds: Any) -> list[dict[str, Any]]:
    """Every buildset, oldest first, with only the fields the tests compare (after the
    schedulers given have processed what they received)."""
    for sched in scheds:
        await sched.tasks.wait()
    rows = await stack.data.get(("buildsets",))
    return [{"bsid": r["bsid"], "reason": r["reason"], "scheduler": None,
             "ssids": [ss["ssid"] for ss in r["sourcestamps"]],
             "revisions": [ss["revision"] for ss in r["sourcestamps"]]}
            for r in sorted(rows, key=lambda r: r["bsid"])]


async def change_ssid(stack: Stack, changeid: int) -> int:
    body = await stack.data.get(("changes", changeid))
    ssid: int = body["sourcestamp"]["ssid"]
    return ssid
