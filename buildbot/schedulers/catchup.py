"""Changes a scheduler must not miss when several masters share the database.

A change is stored by whichever master accepted it (change hook, sendchange, poller); its
`changes/N/new` event reaches the scheduler's master through the mq router. An event is lost
when the router is down, or when the scheduler's master dies and another master takes the
scheduler over. So, with `multiMaster`, a scheduler also keeps the id of the last change it
has looked at in its state (`lastProcessedChangeid`) and, when it starts consuming and at
every master check-in interval, reads the changes table past that id: one cheap query
(`max(changeid)`) when nothing is new. Each change is handed over once (by event or by
catch-up, whichever comes first).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from buildbot.util.resultspec import Filter

log = Logger()

STATE_KEY = "lastProcessedChangeid"
SEEN_KEPT = 10000  # ids remembered below the mark (changes committed out of id order)


class ChangeCatchUp:
    """The mark and the poll of one scheduler; `deliver(msg)` processes one change."""

    def __init__(self, scheduler: Any, deliver: Callable[[dict[str, Any]], Awaitable[None]]
                 ) -> None:
        self.scheduler = scheduler
        self.deliver = deliver
        self.mark: int | None = None
        self._seen: set[int] = set()
        self._loop: LoopingCall | None = None
        self._running: Any = None

    def first_time(self, changeid: Any) -> bool:
        """True (once) for a change not handed over yet."""
        if not isinstance(changeid, int):
            return True
        if changeid in self._seen or (self.mark is not None and changeid <= self.mark):
            return False
        self._seen.add(changeid)
        return True

    async def handed_over(self, changeid: Any) -> None:
        """Move the mark past a change processed from its event, so that a master taking
        the scheduler over does not process it again."""
        if isinstance(changeid, int) and (self.mark is None or changeid > self.mark):
            self.mark = changeid
            await self.scheduler.setState(STATE_KEY, changeid)

    async def start(self, interval: float) -> None:
        master = self.scheduler.master
        stored = await self.scheduler.getState(STATE_KEY, None)
        if stored is None:
            # first start ever: history before it is not ours to build
            stored = await master.db.changes.getLatestChangeid() or 0
            await self.scheduler.setState(STATE_KEY, stored)
        self.mark = int(stored)
        await self.catch_up()
        self._loop = LoopingCall(self._tick)
        self._loop.clock = master.reactor
        self._loop.start(interval, now=False)

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None

    def _tick(self) -> Any:
        if self._running is None:
            self._running = self.scheduler.tasks.spawn("change catch-up", self.catch_up())
            self._running.addBoth(self._done)
        return None

    def _done(self, result: Any) -> Any:
        self._running = None
        return result

    async def catch_up(self) -> None:
        master = self.scheduler.master
        mark = self.mark or 0
        latest = await master.db.changes.getLatestChangeid()
        if latest is None or latest <= mark:
            return
        changes = await master.data.get(("changes",), filters=[Filter("changeid", "gt",
                                                                        [mark])],
                                        order=["changeid"])
        for msg in changes:
            if self.first_time(msg["changeid"]):
                log.info("{name}: catching up on change {id}", name=self.scheduler.name,
                         id=msg["changeid"])
                await self.deliver(msg)
            await self.handed_over(int(msg["changeid"]))
        self._seen = {i for i in self._seen if i > (self.mark or 0) - SEEN_KEPT}
