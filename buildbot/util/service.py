"""Service base classes: a Twisted `MultiService` whose lifecycle is written as coroutines.

`AsyncService` is what our long-lived objects subclass. `startService`/`stopService` (the
Twisted edge) run `async def start()` / `async def stop()`. By default `start()` starts the
children in the order they were added, awaiting each one (a failure stops the ones already
started and re-raises), and `stop()` stops them in reverse order, stops pending background
tasks and waits for them; the first error is raised once every child has been stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from buildbot.util.deferred import ensure_deferred, maybe_await
from buildbot.util.tasks import TaskGroup

log = Logger()


class AsyncService(service.MultiService):
    """A MultiService with coroutine lifecycle hooks and a `tasks` group for background work."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__()
        if name is not None:
            self.setName(name)
        self.tasks = TaskGroup(name or type(self).__name__)

    # -- Twisted edge -----------------------------------------------------------------
    def startService(self) -> defer.Deferred[None]:
        service.Service.startService(self)
        d: defer.Deferred[None] = ensure_deferred(self.start())

        def failed(f: Failure) -> Failure:
            self.running = 0
            return f

        d.addErrback(failed)
        return d

    def stopService(self) -> defer.Deferred[None]:
        service.Service.stopService(self)
        return ensure_deferred(self.stop())

    def addService(self, svc: Any) -> None:
        """Twisted API: register a child; if we are running, start it in the background.

        Our own code uses `add_child`, which awaits the start instead.
        """
        self._register(svc)
        if self.running:
            self.tasks.spawn(f"start of {svc.name or svc!r}", defer.maybeDeferred(svc.startService))

    # -- coroutine API ---------------------------------------------------------------
    async def start(self) -> None:
        """Start the children in order; override to add work (call `super().start()`)."""
        started: list[Any] = []
        try:
            for child in list(self):
                await maybe_await(child.startService())
                started.append(child)
        except BaseException:
            for child in reversed(started):
                try:
                    await maybe_await(child.stopService())
                except Exception:
                    log.failure("while stopping {child} after a failed start", child=child)
            raise

    async def stop(self) -> None:
        """Stop the children in reverse order, then wait for background tasks."""
        first_error: Failure | None = None
        for child in reversed(list(self)):
            if not child.running:
                continue
            try:
                await maybe_await(child.stopService())
            except Exception:
                if first_error is None:
                    first_error = Failure()
                else:
                    log.failure("while stopping {child}", child=child)
        await self.tasks.wait()
        if first_error is not None:
            first_error.raiseException()

    async def add_child(self, svc: Any) -> None:
        """Attach `svc` as a child and, if we are running, start it and wait for the start."""
        if svc.parent is not None:
            await maybe_await(svc.disownServiceParent())
        svc.parent = self
        self._register(svc)
        if self.running:
            await maybe_await(svc.startService())

    async def remove_child(self, svc: Any) -> None:
        """Detach `svc`, stopping it first (and waiting) if it is running."""
        await maybe_await(svc.disownServiceParent())

    def _register(self, svc: Any) -> None:
        if svc.name is not None:
            if svc.name in self.namedServices:
                raise RuntimeError(f"cannot have two services with the same name {svc.name!r}")
            self.namedServices[svc.name] = svc
        self.services.append(svc)

    def removeService(self, svc: Any) -> Any:
        if svc.name:
            self.namedServices.pop(svc.name, None)
        self.services.remove(svc)
        if self.running and svc.running:
            return svc.stopService()
        return None


def config_equal(a: Any, b: Any) -> bool:
    """Structural equality of configuration values.

    Plain `==` is not enough: renderables such as `Property` overload `==` to build a new
    renderable (always truthy), which would make every changed argument look unchanged.
    """
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(config_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(config_equal(x, y) for x, y in zip(a, b))
    attrs = getattr(type(a), "compare_attrs", None)
    if attrs is not None:
        return all(config_equal(getattr(a, n, None), getattr(b, n, None)) for n in attrs)
    result = a == b
    return result if isinstance(result, bool) else False


class ComparableMixin:
    """Equality by the attributes named in `compare_attrs` (used to detect config changes)."""

    compare_attrs: tuple[str, ...] = ()

    def _cmp_values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, a, None) for a in self.compare_attrs)

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other) or not isinstance(other, ComparableMixin):
            return False
        return config_equal(self._cmp_values(), other._cmp_values())

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        try:
            return hash((type(self), self._cmp_values()))
        except TypeError:  # unhashable config values: fall back to identity
            return id(self)


class BuildbotService(ComparableMixin, AsyncService):
    """Base of configurable services named in master.cfg (reporters, custom services,
    schedulers, change sources, workers).

    The reference's plugin surface: the constructor calls `checkConfig(*args, **kwargs)`
    and remembers the arguments; when the service is (re)configured the master calls
    `reconfigServiceWithSibling(new_instance)`, which (if the arguments changed, or the first
    time) renders secrets and calls `reconfigService(*args, **kwargs)` on the running
    instance. Either hook may be a coroutine, return a Deferred, or return nothing.
    """

    compare_attrs: tuple[str, ...] = ("name", "_config_args", "_config_kwargs")
    # Keyword arguments rendered (for secrets) before reconfigService sees them; the others
    # reach it as given, so renderables meant for build time stay renderables.
    secrets: ClassVar[Sequence[str]] = ()
    name: str | None = None  # type: ignore[assignment]  # Twisted declares None
    configured = False
    objectid: int | None = None
    # Higher values are reconfigured first by the service managers.
    reconfig_priority = 128

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        name = kwargs.pop("name", None)
        if name is not None:
            self.name = name
        self.checkConfig(*args, **kwargs)
        if self.name is None:
            raise ValueError(f"{type(self)}: must pass a name to constructor")
        self._config_args = args
        self._config_kwargs = kwargs
        self.rendered = False
        super().__init__(name=self.name)
        self._master: Any = None

    # The master is found through the service tree unless it was given explicitly.
    @property
    def master(self) -> Any:
        if self._master is not None:
            return self._master
        parent = self.parent
        return getattr(parent, "master", None) if parent is not None else None

    @master.setter
    def master(self, value: Any) -> None:
        self._master = value

    def getConfigDict(self) -> dict[str, Any]:
        return {"name": self.name, "class": type(self).__name__,
                "args": [repr(a) for a in self._config_args],
                "kwargs": {k: repr(v) for k, v in self._config_kwargs.items()}}

    def checkConfig(self, *args: Any, **kwargs: Any) -> None:
        """Validate constructor arguments; report problems with `buildbot.config.error`."""

    def reconfigService(self, *args: Any, **kwargs: Any) -> Any:
        """Apply constructor arguments to the running service."""
        return None

    async def reconfigServiceWithSibling(self, sibling: BuildbotService) -> None:
        """Adopt the configuration of `sibling` (a freshly constructed twin) if it differs."""
        if self.configured and self == sibling:
            return
        self._config_args = sibling._config_args
        self._config_kwargs = sibling._config_kwargs
        args, kwargs = list(sibling._config_args), dict(sibling._config_kwargs)
        render = getattr(self.master, "render_secrets", None)
        if render is not None:
            for key in self.secrets:
                if key in kwargs:
                    kwargs[key] = await render(kwargs[key])
        self.rendered = True
        await maybe_await(self.reconfigService(*args, **kwargs))
        self.configured = True


class BuildbotServiceManager(AsyncService):
    """Keeps its children equal to a list of configured services, matched by name.

    On reconfiguration: services gone from the config are stopped and detached; new ones are
    attached, configured (`reconfigServiceWithSibling(itself)`) and started; a name whose
    class changed is replaced; the others adopt the new instance's arguments (a no-op when
    nothing changed), highest `reconfig_priority` first.
    """

    config_attr = "services"
    reconfig_priority = 128

    async def reconfigServiceWithBuildbotConfig(self, new_config: Any) -> None:
        value = getattr(new_config, self.config_attr, None) or []
        new_list = list(value.values()) if isinstance(value, dict) else list(value)
        new_by_name = {svc.name: svc for svc in new_list}
        old_by_name: dict[str, Any] = dict(self.namedServices)
        for name, old in old_by_name.items():
            new = new_by_name.get(name)
            if new is None or type(new) is not type(old):
                await self.remove_child(old)
        kept = [(self.namedServices[name], new) for name, new in new_by_name.items()
                if name in self.namedServices]
        kept.sort(key=lambda pair: -getattr(pair[0], "reconfig_priority", 128))
        for old, new in kept:
            await old.reconfigServiceWithSibling(new)
        for name, new in new_by_name.items():
            if name in self.namedServices:
                continue
            await self.prepare_new_service(new)
            new.parent = self
            self._register(new)
            await new.reconfigServiceWithSibling(new)
            if self.running:
                await maybe_await(new.startService())

    async def prepare_new_service(self, svc: Any) -> None:
        """Hook run before a new service is attached (e.g. to look up its object id)."""
