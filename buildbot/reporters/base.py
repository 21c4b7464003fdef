"""ReporterBase: the service every status reporter in `c['services']` derives from.

A reporter owns a list of report generators. It subscribes to the union of the mq routing
keys its generators want; each event is offered to every generator wanting that key, and the
reports they produce (if any) go to `sendMessage(reports)` in one call. Events about the
same build request (`builds/*/*`, `buildrequests/*/*`) are handled strictly one after the
other, in arrival order, so a "started" report never overtakes the "pending" one.
"""

from __future__ import annotations

from typing import Any, ClassVar

from twisted.internet import defer
from twisted.logger import Logger

from buildbot import config
from buildbot.reporters import utils
from buildbot.util.deferred import maybe_await
from buildbot.util.resultspec import Filter
from buildbot.util.service import BuildbotService

log = Logger()

ENCODING = "utf-8"


def _key_matches(key: tuple[str, ...], pattern: tuple[str | None, ...]) -> bool:
    return len(key) == len(pattern) and all(p is None or p == k for k, p in zip(key, pattern))


def _secret_names(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(klass.__dict__.get("secrets", None) or ())
    return names


async def reconfigure_rendering_secrets(service: Any, sibling: Any) -> None:
    """Configure `service` with the arguments of `sibling`, rendering only the keyword
    arguments its classes list in `secrets` (as 4.3 does).

    Other arguments are passed unrendered: a reporter's `context=Interpolate(...)` must be
    rendered later, for each build, not once at configuration time.
    """
    secrets = _secret_names(type(service))
    service._config_args = sibling._config_args
    service._config_kwargs = sibling._config_kwargs
    kwargs = {}
    render = getattr(service.master, "render_secrets", None)
    for k, v in sibling._config_kwargs.items():
        if k in secrets and render is not None:
            v = await render(v)
        kwargs[k] = v
    service.rendered = True
    await maybe_await(service.reconfigService(*sibling._config_args, **kwargs))
    service.configured = True


class ReporterBase(BuildbotService):
    """Base of reporters: event subscription, ordering, and the `sendMessage` contract.

    Subclasses implement `sendMessage(reports)` (may return a Deferred or be a coroutine) and
    pass `generators=` to `checkConfig`/`reconfigService`; when it is None, the generators of
    `_create_default_generators()` are used. Without an explicit `name`, the
    service name is the class name followed by each generator's `generate_name()`, so two
    identical reporters are a "Duplicate service name" configuration error.
    """

    name: str | None = None
    secrets: ClassVar[list[str]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.generators: list[Any] | None = None
        self._event_consumers: dict[tuple[str | None, ...], Any] = {}
        self._pending_got_event_calls: dict[tuple[str, Any], defer.Deferred[Any]] = {}

    # -- configuration ------------------------------------------------------------------
    def _create_default_generators(self) -> list[Any] | None:
        """The generators used when the configuration gives none (None: it must give some)."""
        return None

    def checkConfig(self, generators: Any = None, **kwargs: Any) -> None:
        if generators is None:
            generators = self._create_default_generators()
        if kwargs:
            config.error(f"{type(self).__name__}: unexpected arguments "
                         f"{sorted(kwargs)}")
        if not isinstance(generators, list):
            # 4.3 prints a literal '{}' here instead of the class name.
            config.error(f"{type(self).__name__}: generators argument must be a list")
            return
        for g in generators:
            g.check()
        if self.name is None:
            name = type(self).__name__
            for g in generators:
                name += "_" + g.generate_name()
            self.name = name

    async def reconfigService(self, generators: Any = None, **kwargs: Any) -> None:
        if generators is None:
            generators = self._create_default_generators() or []
        self.generators = generators
        wanted: set[tuple[str | None, ...]] = set()
        for g in generators:
            wanted.update(tuple(k) for k in g.wanted_event_keys)
        for key in list(self._event_consumers):
            if key not in wanted:
                self._event_consumers.pop(key).stopConsuming()
        for key in sorted(wanted, key=lambda k: tuple(e or "" for e in k)):
            if key not in self._event_consumers:
                self._event_consumers[key] = await self.master.mq.startConsuming(
                    self._got_event, key)

    async def reconfigServiceWithSibling(self, sibling: BuildbotService) -> None:
        # As in 4.3, a reporter is reconfigured on every master reconfig, even with
        # unchanged arguments, so a rotated secret is picked up by `buildbot reconfig`.
        await reconfigure_rendering_secrets(self, sibling)

    async def renderSecrets(self, *args: Any) -> Any:
        """Render secrets (`util.Secret`, `Interpolate('%(secret:x)s')`) in `args`; one value
        for one argument, else a list (the reference's BuildbotService helper)."""
        render = getattr(self.master, "render_secrets", None)
        values = list(args)
        if render is not None:
            values = [await render(v) for v in values]
        if len(values) == 1:
            return values[0]
        return values

    # -- lifecycle ----------------------------------------------------------------------
    async def stop(self) -> None:
        for consumer in self._event_consumers.values():
            consumer.stopConsuming()
        self._event_consumers = {}
        await self.tasks.wait()
        self._pending_got_event_calls = {}
        await super().stop()

    # -- events -------------------------------------------------------------------------
    def _does_generator_want_key(self, generator: Any, key: tuple[str, ...]) -> bool:
        return any(_key_matches(key, tuple(p)) for p in generator.wanted_event_keys)

    def _get_chain_key_for_event(self, key: tuple[str, ...], msg: Any) -> tuple[str, Any] | None:
        if key[0] in ("builds", "buildrequests"):
            return ("buildrequestid", msg["buildrequestid"])
        return None

    def _got_event(self, key: tuple[str, ...], msg: Any) -> None:
        chain_key = self._get_chain_key_for_event(key, msg)
        previous = None
        if chain_key is not None:
            previous = self._pending_got_event_calls.get(chain_key)
        done = self.tasks.spawn(f"report on {'/'.join(key)}",
                                self._handle_event(key, msg, previous))
        if chain_key is not None:
            self._pending_got_event_calls[chain_key] = done

            def forget(result: Any) -> Any:
                if self._pending_got_event_calls.get(chain_key) is done:
                    del self._pending_got_event_calls[chain_key]
                return result

            done.addBoth(forget)

    async def _handle_event(self, key: tuple[str, ...], msg: Any,
                            previous: defer.Deferred[Any] | None) -> None:
        if previous is not None:
            await previous  # never fails: spawned tasks log their own failures
        if not await self._reports_here(key, msg):
            return
        generators = self.generators or []
        reports = []
        for g in generators:
            if not self._does_generator_want_key(g, key):
                continue
            try:
                report = await maybe_await(g.generate(self.master, self, key, msg))
            except Exception:  # noqa: BLE001  (one generator must not stop the others)
                log.failure("Got exception when handling reporter events: key: {key} "
                            "generator: {generator}", key=key, generator=g)
                continue
            if report is not None:
                reports.append(report)
        if not reports:
            return
        try:
            await maybe_await(self.sendMessage(reports))
        except Exception:  # noqa: BLE001  (a remote service failure never breaks builds)
            log.failure("{name}: sending the report for {key} failed", name=self.name,
                        key="/".join(key))

    async def _reports_here(self, key: tuple[str, ...], msg: Any) -> bool:
        """With several masters, every master hears every event (through the mq router);
        exactly one of them reports it (docs/multi-master.md):

        - a build's events: the master running it, or, once that master was expired, the
          one that expired it (it ends the build RETRY; the database lets only one master
          expire another);
        - a buildset's completion: the master that claimed the request completed last
          (whose completion completed the buildset);
        - anything else (new or cancelled requests, missing workers): the active master
          with the lowest id.
        """
        master = self.master
        cfg = getattr(master, "config", None)
        if not getattr(cfg, "multiMaster", False):
            return True
        if (getattr(cfg, "mq", None) or {}).get("type", "simple") == "simple":
            return True  # no shared bus: a master hears only the events it produces
        me = getattr(master, "masterid", None)
        if me is None:
            return True
        if key[0] == "builds" and isinstance(msg, dict) and "masterid" in msg:
            return self._speaks_for(msg["masterid"])
        if key[0] == "buildsets" and isinstance(msg, dict) and "bsid" in msg:
            requests = await master.data.get(("buildrequests",),
                                             filters=[_eq("buildsetid", msg["bsid"])])
            done = [r for r in requests if r.get("complete")]
            if done:
                last = max(done, key=lambda r: (_epoch(r.get("complete_at")),
                                                r["buildrequestid"]))
                claimer = last.get("claimed_by_masterid")
                if claimer is not None:
                    return self._speaks_for(claimer)
        active = getattr(master, "active_masterids", None) or {me}
        result: bool = me == min(active)
        return result

    def _speaks_for(self, masterid: int) -> bool:
        """This master, or a dead master this one expired (and that is not back)."""
        master = self.master
        if masterid == master.masterid:
            return True
        return masterid in getattr(master.data, "taken_over", ()) and \
            masterid not in (getattr(master, "active_masterids", None) or ())

    def getResponsibleUsersForBuild(self, master: Any, buildid: int) -> Any:
        """Users to blame for a build (authors of its changes, owner(s)); override to refine."""
        return utils.getResponsibleUsersForBuild(master, buildid)

    def sendMessage(self, reports: list[dict[str, Any]]) -> Any:
        """Deliver the reports of one event (one call per event)."""
        raise NotImplementedError


def _eq(field: str, value: Any) -> Filter:
    return Filter(field, "eq", [value])


def _epoch(value: Any) -> float:
    if value is None:
        return 0.0
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value)
