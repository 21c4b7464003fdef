"""Timed schedulers: Periodic, Nightly (cron-like fields) and NightlyTriggerable.

Each run's time is kept in state `last_build` (object (name, class name)), so a restarted
master neither repeats nor forgets a run; with `onlyIfChanged`, changes are classified as
by the basic schedulers and a run without important changes is skipped.
"""

from __future__ import annotations

import datetime
from typing import Any

import croniter
from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from buildbot import config
from buildbot.changes.changes import Change
from buildbot.changes.filter import ChangeFilter
from buildbot.interfaces import ITriggerableScheduler
from buildbot.process.properties import Properties
from buildbot.schedulers.base import AbsoluteSourceStampsMixin, ReconfigurableBaseScheduler
from buildbot.util.misc import now as epoch_now
from buildbot.util.results import SUCCESS

log = Logger()


class _NoBranch:
    """Marker: the scheduler was not given a `branch`."""


class Timed(AbsoluteSourceStampsMixin, ReconfigurableBaseScheduler):
    """Runs at the times `getNextBuildTime` gives; each run completes before the service
    stops (the actuation lock)."""

    reason = ""
    NoBranch = _NoBranch

    def __init__(self, name: str, builderNames: Any, **kwargs: Any) -> None:
        self.lastActuated: float | None = None
        self.actuationLock = defer.DeferredLock()
        self.actuateOk = False
        self.actuateAt: float | None = None
        self.actuateAtTimer: Any = None
        self.is_first_build: bool | None = None
        self.branch: Any = _NoBranch
        self.change_filter: Any = None
        self.createAbsoluteSourceStamps = False
        self.onlyIfChanged = False
        self.fileIsImportant: Any = None
        self.onlyImportant = False
        super().__init__(name=name, builderNames=builderNames, **kwargs)

    def checkConfig(self, builderNames: Any = None, reason: str = "",  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    createAbsoluteSourceStamps: bool = False, onlyIfChanged: bool = False,
                    branch: Any = _NoBranch, change_filter: Any = None,
                    fileIsImportant: Any = None, onlyImportant: bool = False,
                    **kwargs: Any) -> None:
        super().checkConfig(builderNames=builderNames, **kwargs)
        if fileIsImportant and not callable(fileIsImportant):
            config.error("fileIsImportant must be a callable")

    def reconfigService(self, builderNames: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                        reason: str = "", createAbsoluteSourceStamps: bool = False,
                        onlyIfChanged: bool = False, branch: Any = _NoBranch,
                        change_filter: Any = None, fileIsImportant: Any = None,
                        onlyImportant: bool = False, **kwargs: Any) -> Any:
        ReconfigurableBaseScheduler.reconfigService(self, builderNames=builderNames, **kwargs)
        self.reason = reason % {"name": self.name}
        self.branch = branch
        self.change_filter = ChangeFilter.fromSchedulerConstructorArgs(
            change_filter=change_filter)
        self.createAbsoluteSourceStamps = createAbsoluteSourceStamps
        self.onlyIfChanged = onlyIfChanged
        self.fileIsImportant = fileIsImportant
        self.onlyImportant = onlyImportant
        if self.active and self.enabled:
            return defer.ensureDeferred(self._resubscribe())
        return None

    async def _resubscribe(self) -> None:
        await self._stopConsumingChanges()
        await self._consume_or_flush()

    async def _consume_or_flush(self) -> None:
        if self.onlyIfChanged or self.createAbsoluteSourceStamps:
            await self.startConsumingChanges(fileIsImportant=self.fileIsImportant,
                                             change_filter=self.change_filter,
                                             onlyImportant=self.onlyImportant)
        else:
            await self.master.data.updates.flushChangeClassifications(self.serviceid)

    async def activate(self) -> None:
        await super().activate()
        if not self.enabled:
            return
        self.actuateOk = True
        self.lastActuated = await self.getState("last_build", None)
        self.is_first_build = self.lastActuated is None
        await self.scheduleNextBuild()
        await self._consume_or_flush()

    async def deactivate(self) -> None:
        await super().deactivate()
        if not self.enabled:
            return

        def stop_actuating() -> None:
            self.actuateOk = False
            self.actuateAt = None
            if self.actuateAtTimer is not None and self.actuateAtTimer.active():
                self.actuateAtTimer.cancel()
            self.actuateAtTimer = None

        await self.actuationLock.run(stop_actuating)

    async def gotChange(self, change: Change, important: Any) -> None:
        if self.branch is not _NoBranch and change.branch != self.branch:
            return
        await self.master.data.updates.classifyChanges(self.serviceid,
                                                       {change.number: important})
        if self.createAbsoluteSourceStamps:
            await self.recordChange(change)

    async def startBuild(self) -> None:
        """One run: a buildset for the classified changes (or the codebase defaults), unless
        `onlyIfChanged` and nothing important happened."""
        if not self.enabled:
            log.info("ignoring build from {name} because scheduler has been disabled by the "
                     "user", name=self.name)
            return
        updates = self.master.data.updates
        classifications = await updates.getChangeClassifications(self.serviceid)
        last_only_if_changed = await self.getState("last_only_if_changed", True)
        if (last_only_if_changed and self.onlyIfChanged
                and not any(classifications.values()) and not self.is_first_build
                and not self.maybe_force_build_on_unimportant_changes(self.lastActuated)):
            log.info("{cls} scheduler <{name}>: skipping build - No important changes",
                     cls=type(self).__name__, name=self.name)
            self.is_first_build = False
            return
        if last_only_if_changed != self.onlyIfChanged:
            await self.setState("last_only_if_changed", self.onlyIfChanged)
        changeids = sorted(classifications)
        if changeids:
            await self.addBuildsetForChanges(reason=self.reason, changeids=changeids,
                                             priority=self.priority)
            await updates.flushChangeClassifications(self.serviceid,
                                                     less_than=changeids[-1] + 1)
        else:
            await self.addBuildsetForSourceStampsWithDefaults(
                reason=self.reason, sourcestamps=[{"codebase": cb} for cb in self.codebases],
                priority=self.priority)
        self.is_first_build = False

    def getCodebaseDict(self, codebase: str) -> Any:
        if self.createAbsoluteSourceStamps:
            return AbsoluteSourceStampsMixin.getCodebaseDict(self, codebase)
        return self.codebases[codebase]

    def getNextBuildTime(self, lastActuation: float | None) -> Any:
        """The next run time (epoch, a value or Deferred), None for never."""
        raise NotImplementedError

    def scheduleNextBuild(self) -> defer.Deferred[Any]:
        """Recompute the next run (safe at any time)."""
        return self.actuationLock.run(
            lambda: defer.ensureDeferred(self._scheduleNextBuild_locked()))

    def maybe_force_build_on_unimportant_changes(self, current_actuation_time: Any) -> bool:
        """Whether to build although `onlyIfChanged` found no important change."""
        return False

    def now(self) -> int:
        return epoch_now(self.master.reactor)

    def current_utc_offset(self, tm: float) -> float:
        """The local time zone's offset from UTC at `tm` (cron fields are local time)."""
        return (datetime.datetime.fromtimestamp(tm).replace(tzinfo=datetime.UTC)
                - datetime.datetime.fromtimestamp(tm, datetime.UTC)).total_seconds()

    async def _scheduleNextBuild_locked(self) -> None:
        if self.actuateAtTimer is not None and self.actuateAtTimer.active():
            self.actuateAtTimer.cancel()
        self.actuateAtTimer = None
        if not self.actuateOk:
            return
        at = await defer.maybeDeferred(self.getNextBuildTime, self.lastActuated)
        if at is None:
            self.actuateAt = None
            return
        now = self.now()
        self.actuateAt = max(at, now)
        delay = self.actuateAt - now
        if delay == 0:
            log.info("{cls} scheduler <{name}>: missed scheduled build time - building "
                     "immediately", cls=type(self).__name__, name=self.name)
        self.actuateAtTimer = self.master.reactor.callLater(delay, self._actuate)

    def _actuate(self) -> None:
        self.actuateAtTimer = None
        self.lastActuated = self.actuateAt
        self.tasks.spawn("timed build", self.actuationLock.run(
            lambda: defer.ensureDeferred(self._set_state_and_start())))

    async def _set_state_and_start(self) -> None:
        if not self.actuateOk:
            return
        self.actuateAt = None
        await self.setState("last_build", self.lastActuated)
        try:
            await self.startBuild()
        except Exception:  # noqa: BLE001 - the next build must still be scheduled (finally)
            log.failure("while actuating {scheduler}", scheduler=self.name)
        finally:
            await self._scheduleNextBuild_locked()


class Periodic(Timed):
    """Runs every `periodicBuildTimer` seconds (the first run at once)."""

    def checkConfig(self, builderNames: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    periodicBuildTimer: Any = None,
                    reason: str = "The Periodic scheduler named '%(name)s' triggered this "
                                  "build", **kwargs: Any) -> None:
        super().checkConfig(builderNames=builderNames, reason=reason, **kwargs)
        if periodicBuildTimer is None or periodicBuildTimer <= 0:
            config.error("periodicBuildTimer must be positive")

    def reconfigService(self, builderNames: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                        periodicBuildTimer: Any = None,
                        reason: str = "The Periodic scheduler named '%(name)s' triggered this "
                                      "build", **kwargs: Any) -> Any:
        self.periodicBuildTimer = periodicBuildTimer
        return super().reconfigService(builderNames=builderNames, reason=reason, **kwargs)

    def getNextBuildTime(self, lastActuated: float | None) -> Any:
        if lastActuated is None:
            return self.now()  # as soon as possible
        return lastActuated + self.periodicBuildTimer


CRON_FIELDS = ("minute", "hour", "dayOfMonth", "month", "dayOfWeek")
FORCE_FIELDS = ("force_at_minute", "force_at_hour", "force_at_day_of_month", "force_at_month",
                "force_at_day_of_week")


def _cron_field(value: Any, day_of_week: bool = False) -> str:
    """One cron field from an int, a list or a string ('*', '1,3', ...). Our days of the week
    count from Monday = 0, cron's from Sunday = 0."""
    def shift(v: Any) -> Any:
        try:
            return (int(v) + 1) % 7
        except ValueError:
            return v

    if isinstance(value, int):
        return str(shift(value) if day_of_week else value)
    if isinstance(value, str):
        if not day_of_week:
            return value
        return ",".join(str(shift(v)) for v in value.split(","))
    return ",".join(str(shift(v) if day_of_week else v) for v in value)


class NightlyBase(Timed):
    """Runs at the times matching cron-like fields (local time; each an int, a list or
    '*'; `dayOfWeek` 0 = Monday). With `onlyIfChanged`, the `force_at_*` fields name times
    when a run happens even without important changes."""

    def __init__(self, name: str, builderNames: Any, **kwargs: Any) -> None:
        self.minute: Any = 0
        self.hour: Any = "*"
        self.dayOfMonth: Any = "*"
        self.month: Any = "*"
        self.dayOfWeek: Any = "*"
        self.force_at_enabled = False
        super().__init__(name, builderNames, **kwargs)

    def checkConfig(self, builderNames: Any = None, minute: Any = 0,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    hour: Any = "*", dayOfMonth: Any = "*", month: Any = "*",
                    dayOfWeek: Any = "*", force_at_minute: Any = None,
                    force_at_hour: Any = None, force_at_day_of_month: Any = None,
                    force_at_month: Any = None, force_at_day_of_week: Any = None,
                    **kwargs: Any) -> None:
        super().checkConfig(builderNames=builderNames, **kwargs)

    def reconfigService(self, builderNames: Any = None, minute: Any = 0,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                        hour: Any = "*", dayOfMonth: Any = "*", month: Any = "*",
                        dayOfWeek: Any = "*", force_at_minute: Any = None,
                        force_at_hour: Any = None, force_at_day_of_month: Any = None,
                        force_at_month: Any = None, force_at_day_of_week: Any = None,
                        **kwargs: Any) -> Any:
        self.minute, self.hour, self.dayOfMonth = minute, hour, dayOfMonth
        self.month, self.dayOfWeek = month, dayOfWeek
        forced = (force_at_minute, force_at_hour, force_at_day_of_month, force_at_month,
                  force_at_day_of_week)
        self.force_at_enabled = any(v is not None for v in forced)
        defaults = (0, "*", "*", "*", "*")
        for attr, value, default in zip(FORCE_FIELDS, forced, defaults):
            setattr(self, attr, default if value is None else value)
        return super().reconfigService(builderNames=builderNames, **kwargs)

    @staticmethod
    def _times_to_cron_line(minute: Any, hour: Any, day_of_month: Any, month: Any,
                            day_of_week: Any) -> str:
        return " ".join([_cron_field(minute), _cron_field(hour), _cron_field(day_of_month),
                         _cron_field(month), _cron_field(day_of_week, day_of_week=True)])

    def _local_datetime(self, ts: float) -> datetime.datetime:
        tz = datetime.timezone(datetime.timedelta(seconds=self.current_utc_offset(ts)))
        return datetime.datetime.fromtimestamp(ts, tz)

    def getNextBuildTime(self, lastActuated: float | None) -> Any:
        ts = lastActuated or self.now()
        line = self._times_to_cron_line(self.minute, self.hour, self.dayOfMonth, self.month,
                                        self.dayOfWeek)
        return croniter.croniter(line, self._local_datetime(ts)).get_next(float)

    def maybe_force_build_on_unimportant_changes(self, current_actuation_time: Any) -> bool:
        if not self.force_at_enabled:
            return False
        line = self._times_to_cron_line(*(getattr(self, a) for a in FORCE_FIELDS))
        return bool(croniter.croniter.match(line, self._local_datetime(current_actuation_time)))


class Nightly(NightlyBase):
    """`schedulers.Nightly`."""

    def checkConfig(self, *args: Any,
                    reason: str = "The Nightly scheduler named '%(name)s' triggered this "
                                  "build", **kwargs: Any) -> None:
        super().checkConfig(*args, reason=reason, **kwargs)

    def reconfigService(self, *args: Any,
                        reason: str = "The Nightly scheduler named '%(name)s' triggered this "
                                      "build", **kwargs: Any) -> Any:
        return super().reconfigService(*args, reason=reason, **kwargs)


@implementer(ITriggerableScheduler)
class NightlyTriggerable(NightlyBase):
    """Runs at Nightly times, but only if triggered since the last run, with the source
    stamps and properties of the last trigger (state `lastTrigger`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._lastTrigger: Any = None
        super().__init__(*args, **kwargs)

    def checkConfig(self, *args: Any,
                    reason: str = "The NightlyTriggerable scheduler named '%(name)s' "
                                  "triggered this build", **kwargs: Any) -> None:
        super().checkConfig(*args, reason=reason, **kwargs)

    def reconfigService(self, *args: Any,
                        reason: str = "The NightlyTriggerable scheduler named '%(name)s' "
                                      "triggered this build", **kwargs: Any) -> Any:
        return super().reconfigService(*args, reason=reason, **kwargs)

    async def activate(self) -> None:
        await super().activate()
        if not self.enabled:
            return
        stored = await self.getState("lastTrigger", None)
        self._lastTrigger = None
        if stored:
            try:
                if isinstance(stored[0], list):
                    self._lastTrigger = (stored[0], Properties.fromDict(stored[1]),
                                         stored[2], stored[3])
                elif isinstance(stored[0], dict):  # older form: stamps by codebase
                    self._lastTrigger = (list(stored[0].values()),
                                         Properties.fromDict(stored[1]), None, None)
            except Exception:  # noqa: BLE001 - unreadable state (another version's): the
                # scheduler starts fresh, which the info line below reports
                self._lastTrigger = None
            if not self._lastTrigger:
                log.info("NightlyTriggerable Scheduler <{scheduler}>: could not load previous "
                         "state; starting fresh", scheduler=self.name)

    def trigger(self, waited_for: bool, sourcestamps: list[Any] | None = None,
                set_props: Properties | None = None, parent_buildid: int | None = None,
                parent_relationship: str | None = None
                ) -> tuple[defer.Deferred[Any], defer.Deferred[Any]]:
        """Remember the trigger for the next run: ((None, {}), SUCCESS once stored)."""
        assert isinstance(sourcestamps, list), "trigger requires a list of sourcestamps"
        self._lastTrigger = (sourcestamps, set_props, parent_buildid, parent_relationship)
        props = set_props.asDict() if set_props else {}
        d = self.setState("lastTrigger",
                          (sourcestamps, props, parent_buildid, parent_relationship))
        d.addCallback(lambda _: SUCCESS)
        return defer.succeed((None, {})), d

    async def startBuild(self) -> None:
        if not self.enabled:
            log.info("ignoring build from {name} because scheduler has been disabled by the "
                     "user", name=self.name)
            return
        if self._lastTrigger is None:
            return
        sourcestamps, set_props, parent_buildid, parent_relationship = self._lastTrigger
        self._lastTrigger = None
        await self.setState("lastTrigger", None)
        props = Properties()
        props.updateFromProperties(self.properties)
        if set_props:
            props.updateFromProperties(set_props)
        await self.addBuildsetForSourceStampsWithDefaults(
            reason=self.reason, sourcestamps=sourcestamps, properties=props,
            parent_buildid=parent_buildid, parent_relationship=parent_relationship,
            priority=self.priority)
