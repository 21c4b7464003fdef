"""The scheduler base classes: configuration checks, ownership, enabling, consuming changes
and creating buildsets, as Buildbot 4.3's schedulers do."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from buildbot import config
from buildbot.changes.changes import Change
from buildbot.interfaces import IRenderable, IScheduler
from buildbot.process.clustered import ClusteredBuildbotService
from buildbot.process.properties import Properties
from buildbot.process.state import StateMixin
from buildbot.schedulers.catchup import ChangeCatchUp
from buildbot.util.deferred import gather, maybe_await
from buildbot.util.resultspec import Filter

log = Logger()

BUILDER_NAMES_ERROR = ("The builderNames argument to a scheduler must be a list of Builder "
                       "names or an IRenderable object that will renderto a list of builder "
                       "names.")
CODEBASE_KEYS = frozenset({"branch", "repository", "revision"})


def check_builder_names(builderNames: Any) -> None:
    """Report a config error unless `builderNames` is a renderable or a list of
    names/renderables (message as in the reference, missing space included)."""
    if IRenderable.providedBy(builderNames):
        return
    if isinstance(builderNames, (list, tuple)) and all(
            isinstance(b, str) or IRenderable.providedBy(b) for b in builderNames):
        return
    config.error(BUILDER_NAMES_ERROR)


def check_codebases(codebases: Any) -> None:
    """Report config errors in a scheduler's `codebases` argument."""
    if isinstance(codebases, list):
        return
    if not isinstance(codebases, dict):
        config.error("Codebases must be a dict of dicts, or list of strings")
        return
    for codebase, attrs in codebases.items():
        if not isinstance(attrs, dict):
            config.error("Codebases must be a dict of dicts")
            continue
        unknown = set(attrs) - CODEBASE_KEYS
        if unknown:
            config.error(f"Unknown codebase keys {', '.join(sorted(unknown))} for codebase "
                         f"{codebase}")


def check_priority(priority: Any) -> None:
    if priority and not isinstance(priority, int) and not callable(priority):
        config.error(f"Invalid type for priority: {type(priority)}. It must either be an "
                     f"integer or a function")


def default_stamp(codebase: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """The source stamp of a codebase without changes: its configured defaults."""
    return {"codebase": codebase, "repository": cfg.get("repository", ""),
            "branch": cfg.get("branch", None), "revision": cfg.get("revision", None),
            "project": ""}


@implementer(IScheduler)
class ReconfigurableBaseScheduler(ClusteredBuildbotService, StateMixin):
    """Base of every scheduler (the reference's plugin surface).

    Owned by one master of a cluster (`scheduler_masters`); while owned and enabled
    (`schedulers.enabled`, switched through the data API), `activate()` starts the work and
    `deactivate()` stops it. Subclasses calling `startConsumingChanges` get `gotChange(change,
    important)` for every new change passing their filter, one at a time.
    """

    DEFAULT_CODEBASES: dict[str, dict[str, Any]] = {"": {}}
    reconfig_priority = 128

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.enabled = True
        self._enable_consumer: Any = None
        self._change_consumer: Any = None
        self._catch_up: ChangeCatchUp | None = None
        self._change_consumption_lock = defer.DeferredLock()
        self.builderNames: Any = []
        self.properties = Properties()
        self.codebases: dict[str, dict[str, Any]] = dict(self.DEFAULT_CODEBASES)
        self.priority: Any = None
        super().__init__(*args, **kwargs)

    def checkConfig(self, builderNames: Any = None, properties: dict[str, Any] | None = None,
                    codebases: Any = None, priority: Any = None) -> None:
        check_builder_names(builderNames)
        self.builderNames = builderNames
        if codebases is not None:
            check_codebases(codebases)
        check_priority(priority)

    def reconfigService(self, builderNames: Any = None,
                        properties: dict[str, Any] | None = None, codebases: Any = None,
                        priority: Any = None) -> Any:
        if codebases is None:
            codebases = dict(self.DEFAULT_CODEBASES)
        self.builderNames = builderNames
        self.properties = Properties()
        self.properties.update(properties or {}, "Scheduler")
        self.properties.setProperty("scheduler", self.name, "Scheduler")
        if isinstance(codebases, list):
            codebases = {cb: {} for cb in codebases}
        self.codebases = codebases
        self.priority = priority
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__}({self.name}, {self.builderNames}, " \
               f"enabled={self.enabled})>"

    def listBuilderNames(self) -> Any:
        return self.builderNames

    # -- ownership and enabling ----------------------------------------------------------
    async def _getServiceId(self) -> int:
        return int(await self.master.data.updates.findSchedulerId(self.name))

    async def _claimService(self) -> bool:
        return bool(await self.master.data.updates.trySetSchedulerMaster(
            self.serviceid, self.master.masterid))

    async def _unclaimService(self) -> None:
        await self.master.data.updates.trySetSchedulerMaster(self.serviceid, None)

    async def activate(self) -> None:
        """Read `enabled` and watch it; subclasses then start work if `self.enabled`."""
        if not self.enabled:
            return
        if self.serviceid is None:
            self.serviceid = await self._getServiceId()
        row = await self.master.data.get(("schedulers", self.serviceid))
        if row is not None:
            self.enabled = bool(row["enabled"])
        await self.startConsumingEnableEvents()

    async def startConsumingEnableEvents(self) -> None:
        """Follow this scheduler's `enabled` switch (the data API's `enable` control).

        Public in 4.3 for subclasses that activate themselves; a second call keeps the one
        subscription instead of doubling every switch.
        """
        if self._enable_consumer is not None:
            return
        if self.serviceid is None:
            self.serviceid = await self._getServiceId()
        self._enable_consumer = await self.master.mq.startConsuming(
            self._on_enable_message, ("schedulers", str(self.serviceid), "updated"))

    def _on_enable_message(self, key: Any, msg: dict[str, Any]) -> None:
        # Tracked, so that stopping the scheduler waits for a switch in progress.
        self.tasks.spawn("enable switch", self._enabledCallback(key, msg))

    async def _enabledCallback(self, key: Any, msg: dict[str, Any]) -> None:
        if msg["enabled"]:
            if self.enabled and self._is_consuming_or_timed():
                return  # already running
            self.enabled = True
            await maybe_await(self.activate())
        else:
            if not self.enabled:
                return
            await maybe_await(self.deactivate())
            self.enabled = False

    def _is_consuming_or_timed(self) -> bool:
        # An enable event for a scheduler that is enabled and working changes nothing.
        return self._change_consumer is not None or bool(getattr(self, "actuateOk", False))

    async def deactivate(self) -> None:
        """Stop consuming changes; subclasses stop their own work if `self.enabled`."""
        if not self.enabled:
            return
        await self._stopConsumingChanges()

    async def stop(self) -> None:
        await super().stop()
        # Also when disabled (deactivate returns early then): the enable watch must go.
        if self._enable_consumer is not None:
            self._enable_consumer.stopConsuming()
            self._enable_consumer = None

    # -- changes --------------------------------------------------------------------------
    async def startConsumingChanges(self, fileIsImportant: Callable[[Any], Any] | None = None,
                                    change_filter: Any = None,
                                    onlyImportant: bool = False) -> None:
        """Call `gotChange` for each new change that passes `change_filter`, is in one of
        our codebases and (with `onlyImportant`) is important."""
        assert fileIsImportant is None or callable(fileIsImportant)
        assert self._change_consumer is None

        catch_up: ChangeCatchUp | None = None

        async def process(key: Any, msg: dict[str, Any]) -> None:
            if catch_up is not None and not catch_up.first_time(msg.get("changeid")):
                return
            await self._changeCallback(key, msg, fileIsImportant, change_filter,
                                       onlyImportant)
            if catch_up is not None:
                await catch_up.handed_over(msg.get("changeid"))

        def on_change(key: Any, msg: dict[str, Any]) -> None:
            # Tracked, so that stopping the scheduler waits for changes being processed.
            self.tasks.spawn("change processing", process(key, msg))

        self._change_consumer = await self.master.mq.startConsuming(
            on_change, ("changes", None, "new"))
        cfg = getattr(self.master, "config", None)
        if getattr(cfg, "multiMaster", False):
            # several masters: also read the changes table (see schedulers/catchup.py)
            catch_up = ChangeCatchUp(self, lambda msg: self._changeCallback(
                ("changes", str(msg["changeid"]), "new"), msg, fileIsImportant,
                change_filter, onlyImportant))
            self._catch_up = catch_up
            hb = getattr(cfg, "masterHeartbeat", None) or {}
            await catch_up.start(float(hb.get("interval", 5.0)))

    async def _changeCallback(self, key: Any, msg: dict[str, Any],
                              fileIsImportant: Callable[[Any], Any] | None,
                              change_filter: Any, onlyImportant: bool) -> None:
        if self._change_consumer is None:
            return
        # The message carries the whole change resource: no need to read it back.
        change = Change.fromMessage(msg)
        if change_filter and not change_filter.filter_change(change):
            return
        if change.codebase not in self.codebases:
            log.info("change contains codebase {codebase} that is not processed by scheduler "
                     "{name}", codebase=change.codebase, name=self.name)
            return
        important: Any = True
        if fileIsImportant:
            try:
                important = fileIsImportant(change)
            except Exception:  # noqa: BLE001 - a user callable's bug drops this change only
                log.failure("in fileIsImportant check for {change}", change=change)
                return
            if not important and onlyImportant:
                return
        try:
            await self._change_consumption_lock.run(self._got_change, change, important)
        except Exception:  # noqa: BLE001 - one change must not stop the consumer
            log.failure("{scheduler}: while processing change {key}", scheduler=self.name,
                        key=key)

    def _got_change(self, change: Change, important: Any) -> defer.Deferred[Any]:
        return defer.ensureDeferred(maybe_await(self.gotChange(change, important)))

    async def _stopConsumingChanges(self) -> None:
        if self._catch_up is not None:
            self._catch_up.stop()
            self._catch_up = None

        def stop() -> None:
            if self._change_consumer is not None:
                self._change_consumer.stopConsuming()
                self._change_consumer = None
        await self._change_consumption_lock.run(stop)

    def gotChange(self, change: Change, important: bool) -> Any:
        """A change passed the filters (subclasses that consume changes)."""
        raise NotImplementedError

    # -- creating buildsets -------------------------------------------------------------
    def getCodebaseDict(self, codebase: str) -> Any:
        """The defaults of `codebase` (a dict or a Deferred of one; KeyError if unknown)."""
        try:
            return defer.succeed(self.codebases[codebase])
        except KeyError:
            return defer.fail()

    async def addBuildsetForSourceStampsWithDefaults(
        self, reason: str, sourcestamps: Iterable[dict[str, Any]] | None = None,
        waited_for: bool = False, properties: Properties | None = None,
        builderNames: Any = None, priority: int | None = None, **kw: Any,
    ) -> tuple[int, dict[int, int]]:
        """A buildset with one stamp per configured codebase: the given stamp of that codebase
        over its configured defaults (given stamps of other codebases are added as given)."""
        by_codebase: dict[str, dict[str, Any]] = {}
        for ss in sourcestamps or []:
            cb = ss["codebase"]
            if cb in by_codebase:
                raise RuntimeError("multiple sourcestamps with same codebase")
            by_codebase[cb] = ss
        stamps = []
        for codebase in self.codebases:
            cfg = await maybe_await(self.getCodebaseDict(codebase))
            ss = default_stamp(codebase, cfg)
            ss.update(by_codebase.get(codebase, {}))
            stamps.append(ss)
        for codebase in set(by_codebase) - set(self.codebases):
            stamps.append(default_stamp(codebase, by_codebase[codebase]))
        return await self.addBuildsetForSourceStamps(
            sourcestamps=stamps, reason=reason, waited_for=waited_for, properties=properties,
            builderNames=builderNames, priority=priority, **kw)

    async def addBuildsetForChanges(
        self, waited_for: bool = False, reason: str = "", external_idstring: str | None = None,
        changeids: Iterable[int] | None = None, builderNames: Any = None,
        properties: Properties | None = None, priority: Any = None, **kw: Any,
    ) -> tuple[int, dict[int, int]]:
        """A buildset for changes: per configured codebase, the stamp of its newest change,
        or its defaults if it has none (changes of other codebases are ignored)."""
        ids = list(changeids or [])
        # One query for all of them (the reference reads them one by one).
        rows = await self.master.data.get(("changes",), filters=[Filter("changeid", "in", ids)]) \
            if ids else []
        by_codebase: dict[str, list[Any]] = {}
        for row in sorted(rows, key=lambda r: r["changeid"]):
            by_codebase.setdefault(row["codebase"], []).append(_ChangeRow(row))
        stamps: list[Any] = []
        for codebase in sorted(self.codebases):
            if codebase in by_codebase:
                newest = max(by_codebase[codebase], key=lambda c: c.changeid)
                stamps.append(newest.sourcestampid)
            else:
                cfg = await maybe_await(self.getCodebaseDict(codebase))
                stamps.append(default_stamp(codebase, cfg))
        if priority is None:
            priority = self.priority
        if callable(priority):
            priority = await maybe_await(priority(builderNames or self.builderNames,
                                                  by_codebase))
        elif priority is None:
            priority = 0
        return await self.addBuildsetForSourceStamps(
            waited_for, sourcestamps=stamps, reason=reason,
            external_idstring=external_idstring, builderNames=builderNames,
            properties=properties, priority=priority, **kw)

    async def _builder_ids(self, names: list[str]) -> list[int]:
        """Ids of the named builders, in name order; unknown names are dropped silently,
        as in the reference. Builders of this master are known without a query."""
        botmaster = getattr(self.master, "botmaster", None)
        builders = botmaster.builders if botmaster is not None else {}
        local = {name: b.builderid for name, b in builders.items() if b.builderid is not None}
        if any(n not in local for n in names):
            for row in await self.master.data.get(("builders",)):
                local.setdefault(row["name"], row["builderid"])
        return [local[n] for n in names if n in local]

    async def _expand_stamps(self, stamps: list[Any]) -> tuple[list[Any], list[Any]]:
        """The stamps as dicts (ids read from the data API; dicts are stamps without a
        change, see addBuildsetForChanges), and the changes of the stamps given by id."""
        async def expand(ss: Any) -> tuple[Any, list[Any]]:
            if not isinstance(ss, int):
                return ss, []
            stamp, changes = await gather([self.master.data.get(("sourcestamps", ss)),
                                           self.master.data.get(("sourcestamps", ss,
                                                                 "changes"))])
            return stamp, list(changes)

        expanded = [await expand(ss) for ss in stamps]  # in order: changes keep theirs
        return [stamp for stamp, _ in expanded], [c for _, cs in expanded for c in cs]

    async def addBuildsetForSourceStamps(
        self, waited_for: bool = False, sourcestamps: Iterable[Any] | None = None,
        reason: str = "", external_idstring: str | None = None,
        properties: Properties | None = None, builderNames: Any = None,
        priority: int | None = None, **kw: Any,
    ) -> tuple[int, dict[int, int]]:
        """The buildset itself: properties = given ones, overridden by the scheduler's, then by
        those of the changes of the stamps; builder names rendered against them."""
        stamps = list(sourcestamps or [])
        if properties:
            properties.updateFromProperties(self.properties)
        else:
            properties = self.properties
        # `sourcestamps` and `changes` are attributes renderables may read (as in the reference).
        props: Any = Properties.fromDict(properties.asDict())
        props.master = self.master
        props.sourcestamps, props.changes = await self._expand_stamps(stamps)
        for change_props in [Properties.fromDict(ch["properties"]) for ch in props.changes]:
            props.updateFromProperties(change_props)
        names = await props.render(builderNames or self.builderNames)
        builderids = await self._builder_ids(list(names))
        rendered = await props.render(props.asDict())
        result: tuple[int, dict[int, int]] = await self.master.data.updates.addBuildset(
            scheduler=self.name, sourcestamps=stamps, reason=reason, waited_for=waited_for,
            properties=rendered, builderids=builderids, external_idstring=external_idstring,
            priority=0 if priority is None else priority, **kw)
        return result


class _ChangeRow:
    """What a `priority` callable receives per change (the reference passes db rows)."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.__dict__.update(body)
        self.sourcestampid = body["sourcestamp"]["ssid"]


class BaseScheduler(ReconfigurableBaseScheduler):
    """The pre-4.3 base class (deprecated in the reference): `__init__(name, builderNames,
    properties=None, codebases=None, priority=None)`; kept so that old plugins work."""

    def __init__(self, name: str, builderNames: Any, properties: dict[str, Any] | None = None,
                 codebases: Any = None, priority: Any = None, **kwargs: Any) -> None:
        if codebases is None:
            codebases = dict(self.DEFAULT_CODEBASES)
        elif isinstance(codebases, list):
            codebases = {cb: {} for cb in codebases}
        super().__init__(name=name, builderNames=builderNames, properties=properties,
                         codebases=codebases, priority=priority, **kwargs)
        # Old subclasses read these right after __init__, before any reconfiguration.
        ReconfigurableBaseScheduler.reconfigService(
            self, builderNames=builderNames, properties=properties, codebases=codebases,
            priority=priority)


DefaultCodebases = ReconfigurableBaseScheduler.DEFAULT_CODEBASES


class AbsoluteSourceStampsMixin:
    """Remembers the newest change seen per codebase (state `lastCodebases`), so buildsets
    use it for codebases without changes (`createAbsoluteSourceStamps`)."""

    _lastCodebases: dict[str, dict[str, Any]] | None = None
    codebases: dict[str, dict[str, Any]]
    getState: Any
    setState: Any

    async def getCodebaseDict(self, codebase: str) -> dict[str, Any]:
        assert self.codebases
        if self._lastCodebases is None:
            self._lastCodebases = await self.getState("lastCodebases", {})
        assert self._lastCodebases is not None
        return self._lastCodebases.get(codebase, self.codebases[codebase])

    async def recordChange(self, change: Change) -> None:
        """Remember `change` if it is the newest of its codebase."""
        current = await self.getCodebaseDict(change.codebase)
        if change.number is not None and change.number > current.get("lastChange", -1):
            assert self._lastCodebases is not None
            self._lastCodebases[change.codebase] = {
                "repository": change.repository, "branch": change.branch,
                "revision": change.revision, "lastChange": change.number}
            await self.setState("lastCodebases", self._lastCodebases)
