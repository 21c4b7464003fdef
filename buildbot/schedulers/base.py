"""The scheduler base class: configuration checks, ownership, and creating buildsets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.logger import Logger
from zope.interface import implementer

from buildbot import config
from buildbot.interfaces import IRenderable, IScheduler
from buildbot.process.clustered import ClusteredBuildbotService
from buildbot.process.properties import Properties, render
from buildbot.util.deferred import call_user, maybe_await

log = Logger()

DefaultCodebases: dict[str, dict[str, Any]] = {"": {}}


@implementer(IScheduler)
class BaseScheduler(ClusteredBuildbotService):
    """Base of every scheduler (the reference's `BaseScheduler` plugin surface)."""

    compare_attrs = ClusteredBuildbotService.compare_attrs
    reconfig_priority = 128

    def __init__(self, name: str, builderNames: Any = None, *args: Any, **kwargs: Any) -> None:
        if builderNames is None and "builderNames" not in kwargs:
            builderNames = []
        # Positional on purpose: BuildbotService would take a `name=` keyword away from
        # checkConfig, which needs it (schedulers are configured by keyword in master.cfg).
        super().__init__(name, builderNames, *args, **kwargs)

    def checkConfig(self, name: str, builderNames: Any, properties: dict[str, Any] | None = None,
                    codebases: Any = DefaultCodebases, priority: Any = None) -> None:
        self.name = name
        if not isinstance(builderNames, (list, tuple)) and not IRenderable.providedBy(builderNames):
            config.error("The builderNames argument to a scheduler must be a list of Builder "
                         "names or an IRenderable object that will renderto a list of builder "
                         "names.")
        elif isinstance(builderNames, (list, tuple)):
            for b in builderNames:
                if not isinstance(b, str) and not IRenderable.providedBy(b):
                    config.error("The builderNames argument to a scheduler must be a list of "
                                 "Builder names or an IRenderable object that will renderto a "
                                 "list of builder names.")
                    break
        if isinstance(codebases, (list, tuple)):
            if not all(isinstance(c, str) for c in codebases):
                config.error("Codebases must be a dict of dicts, or list of strings")
        elif isinstance(codebases, dict):
            for cb, attrs in codebases.items():
                if not isinstance(attrs, dict):
                    config.error("Codebases must be a dict of dicts, or list of strings")
                    break
                unknown = set(attrs) - {"branch", "repository", "revision"}
                if unknown:
                    config.error(f"Unknown codebase keys {', '.join(sorted(unknown))} for "
                                 f"codebase {cb}")
        else:
            config.error("Codebases must be a dict of dicts, or list of strings")
        if priority is not None and not isinstance(priority, int) and not callable(priority):
            config.error(f"Invalid type for priority: {type(priority)}. It must either be an "
                         f"integer or a function")
        self.builderNames = builderNames
        self.properties = Properties()
        self.properties.update(properties or {}, "Scheduler")
        self.properties.setProperty("scheduler", name, "Scheduler")
        self.codebases = self._codebase_dict(codebases)
        self.priority = priority
        self.enabled = True
        self._enable_consumer: Any = None
        self._change_consumer: Any = None

    @staticmethod
    def _codebase_dict(codebases: Any) -> dict[str, dict[str, Any]]:
        if isinstance(codebases, (list, tuple)):
            return {cb: {} for cb in codebases}
        return dict(codebases) if isinstance(codebases, dict) else {"": {}}

    def reconfigService(self, name: str, builderNames: Any,
                        properties: dict[str, Any] | None = None,
                        codebases: Any = DefaultCodebases, priority: Any = None) -> Any:
        self.builderNames = builderNames
        self.properties = Properties()
        self.properties.update(properties or {}, "Scheduler")
        self.properties.setProperty("scheduler", name, "Scheduler")
        self.codebases = self._codebase_dict(codebases)
        self.priority = priority
        return None

    def listBuilderNames(self) -> list[str]:
        return list(self.builderNames) if isinstance(self.builderNames, (list, tuple)) else []

    # -- ownership ----------------------------------------------------------------------
    async def _getServiceId(self) -> int:
        return int(await self.master.data.updates.findSchedulerId(self.name))

    async def _claimService(self) -> bool:
        return bool(await self.master.data.updates.trySetSchedulerMaster(
            self.serviceid, self.master.masterid))

    async def _unclaimService(self) -> None:
        await self.master.data.updates.trySetSchedulerMaster(self.serviceid, None)

    async def start(self) -> None:
        await super().start()

    def activate(self) -> Any:
        return self._watch_enabled()

    async def _watch_enabled(self) -> None:
        row = await self.master.data.get(("schedulers", self.serviceid))
        self.enabled = bool(row["enabled"]) if row is not None else True
        self._enable_consumer = await self.master.mq.startConsuming(
            self._enabled_changed, ("schedulers", str(self.serviceid), "updated"))
        if self.enabled:
            await maybe_await(self.activate_enabled())

    async def _enabled_changed(self, key: Any, body: Any) -> None:
        enabled = bool((body or {}).get("enabled", True))
        if enabled == self.enabled:
            return
        self.enabled = enabled
        if enabled:
            await maybe_await(self.activate_enabled())
        else:
            await maybe_await(self.deactivate_enabled())

    def activate_enabled(self) -> Any:
        """Start consuming changes / timers (subclasses); runs only while enabled."""
        return None

    def deactivate_enabled(self) -> Any:
        return None

    async def deactivate(self) -> None:  # type: ignore[override]
        if self._enable_consumer is not None:
            self._enable_consumer.stopConsuming()
            self._enable_consumer = None
        if self.enabled:
            await maybe_await(self.deactivate_enabled())

    # -- creating buildsets -------------------------------------------------------------
    async def addBuildsetForSourceStampsWithDefaults(
        self, reason: str, sourcestamps: Iterable[dict[str, Any]] | None = None,
        waited_for: bool = False, properties: Properties | None = None,
        builderNames: list[str] | None = None, priority: int | None = None, **kw: Any,
    ) -> tuple[int, dict[int, int]]:
        """Buildset with one stamp per configured codebase, defaults filled from config."""
        given = {ss.get("codebase", ""): ss for ss in (sourcestamps or [])}
        stamps = []
        for codebase in sorted(self.codebases):
            cfg = self.codebases[codebase]
            ss = dict(given.get(codebase, {}))
            stamps.append({
                "codebase": codebase,
                "repository": ss.get("repository", cfg.get("repository", "")),
                "branch": ss.get("branch", cfg.get("branch")),
                "revision": ss.get("revision", cfg.get("revision")),
                "project": ss.get("project", ""),
            })
        for codebase, ss in given.items():
            if codebase not in self.codebases:
                stamps.append(dict(ss))
        return await self.addBuildsetForSourceStamps(
            sourcestamps=stamps, reason=reason, waited_for=waited_for, properties=properties,
            builderNames=builderNames, priority=priority, **kw)

    async def addBuildsetForSourceStamps(
        self, waited_for: bool = False, sourcestamps: Iterable[Any] | None = None,
        reason: str = "", external_idstring: str | None = None,
        properties: Properties | None = None, builderNames: list[str] | None = None,
        priority: int | None = None, **kw: Any,
    ) -> tuple[int, dict[int, int]]:
        props = Properties()
        props.master = self.master
        if properties is not None:
            props.updateFromProperties(properties)
        props.updateFromProperties(self.properties)
        if builderNames is None:
            builderNames = await render(self.builderNames, props)
        builderids = await self._builder_ids(builderNames or [])
        prio = priority
        if prio is None:
            prio = self.priority if isinstance(self.priority, int) else 0
        rendered: dict[str, tuple[Any, str]] = {}
        for name, (value, source) in props.asDict().items():
            rendered[name] = (await render(value, props), source)
        return await self.master.data.updates.addBuildset(
            waited_for=waited_for, scheduler=self.name, sourcestamps=list(sourcestamps or []),
            reason=reason, properties=rendered, builderids=builderids,
            external_idstring=external_idstring, priority=prio, **kw)

    async def addBuildsetForChanges(
        self, waited_for: bool = False, reason: str = "", external_idstring: str | None = None,
        changeids: Iterable[int] = (), builderNames: list[str] | None = None,
        properties: Properties | None = None, priority: int | None = None, **kw: Any,
    ) -> tuple[int, dict[int, int]]:
        """Buildset for changes: the newest change's stamp per codebase, defaults for the rest."""
        changes = [await self.master.data.get(("changes", cid)) for cid in changeids]
        by_codebase: dict[str, dict[str, Any]] = {}
        props = Properties()
        for ch in changes:
            if ch is None:
                continue
            by_codebase[ch.get("codebase") or ""] = ch
            for name, (value, source) in (ch.get("properties") or {}).items():
                props.setProperty(name, value, source)
        stamps: list[Any] = []
        for codebase in sorted(set(self.codebases) | set(by_codebase)):
            if codebase in by_codebase:
                stamps.append(by_codebase[codebase]["sourcestamp"]["ssid"])
            else:
                cfg = self.codebases.get(codebase, {})
                stamps.append({"codebase": codebase, "repository": cfg.get("repository", ""),
                               "branch": cfg.get("branch"), "revision": cfg.get("revision"),
                               "project": ""})
        if properties is not None:
            props.updateFromProperties(properties)
        if priority is None and callable(self.priority):
            priority = await call_user(self.priority, builderNames or self.builderNames,
                                       by_codebase)
        return await self.addBuildsetForSourceStamps(
            waited_for=waited_for, sourcestamps=stamps, reason=reason,
            external_idstring=external_idstring, properties=props,
            builderNames=builderNames, priority=priority, **kw)

    async def _builder_ids(self, names: Iterable[str]) -> list[int]:
        wanted = list(names)
        rows = await self.master.data.get(("builders",))
        by_name = {r["name"]: r["builderid"] for r in rows}
        # Unknown builder names are dropped silently, as in the reference.
        return [by_name[n] for n in wanted if n in by_name]
