"""Service base classes: a Twisted `MultiService` whose lifecycle is written as coroutines.

`AsyncService` is what our long-lived objects subclass. `startService`/`stopService` (the
Twisted edge) run `async def start()` / `async def stop()`. By default `start()` starts the
children in the order they were added, awaiting each one (a failure stops the ones already
started and re-raises), and `stop()` stops them in reverse order, stops pending background
tasks and waits for them; the first error is raised once every child has been stopped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from buildbot.util.comparable import ComparableMixin, config_equal
from buildbot.util.deferred import ensure_deferred, maybe_await
from buildbot.util.misc import unicode2bytes
from buildbot.util.tasks import TaskGroup

__all__ = ["AsyncMultiService", "AsyncService", "BuildbotService", "BuildbotServiceManager",
           "ClusteredBuildbotService",  # noqa: F822 - provided by the module __getattr__
           "ComparableMixin", "IndependentAsyncMultiService",
           "MasterService", "ReconfigurableServiceMixin", "SharedService", "config_equal"]

log = Logger()


class _MasterThroughParents:
    """`service.master`: the one assigned to the service, else its parent's master."""

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        explicit = obj.__dict__.get("_bb_explicit_master")
        if explicit is not None:
            return explicit
        parent = obj.parent
        return getattr(parent, "master", None) if parent is not None else None

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__["_bb_explicit_master"] = value


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

    # The master a service belongs to is found through its parents (the root, MasterService,
    # is its own master); one assigned directly wins. Hidden from mypy, so that subclasses
    # may still declare `master` as a read-only property.
    if not TYPE_CHECKING:
        master = _MasterThroughParents()

    def addService(self, service: Any) -> None:
        """Twisted API: register a child; if we are running, start it in the background.

        Our own code uses `add_child`, which awaits the start instead.
        """
        svc = service
        self._bb_add_named_child(svc)
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
            # The other children must still stop: the first error is re-raised below, the
            # later ones are logged.
            except Exception:  # noqa: BLE001
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
        self._bb_add_named_child(svc)
        if self.running:
            await maybe_await(svc.startService())

    async def remove_child(self, svc: Any) -> None:
        """Detach `svc`, stopping it first (and waiting) if it is running."""
        await maybe_await(svc.disownServiceParent())

    def _bb_add_named_child(self, svc: Any) -> None:
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


class AsyncMultiService(AsyncService):
    """The reference's name for a MultiService whose start/stop wait for the children (ours
    all do: this is `AsyncService`)."""


class ReconfigurableServiceMixin:
    """Passes a new master configuration down the service tree, highest priority first."""

    reconfig_priority = 128

    def reconfigServiceWithBuildbotConfig(self, new_config: Any) -> Any:
        """Call `reconfigServiceWithBuildbotConfig` on each child that has it, in priority
        order (higher `reconfig_priority` first), waiting for each."""
        async def run() -> None:
            tree: Any = self  # mixed into a MultiService
            children = [c for c in list(tree) if hasattr(c, "reconfigServiceWithBuildbotConfig")]
            children.sort(key=lambda c: -getattr(c, "reconfig_priority", 128))
            for child in children:
                await maybe_await(child.reconfigServiceWithBuildbotConfig(new_config))
        return ensure_deferred(run())


class IndependentAsyncMultiService(AsyncMultiService):
    """A service tree whose master is set explicitly (`set_master`) rather than found
    through its parent, for services whose lifetime the parent does not manage."""

    _master: Any = None

    def set_master(self, master: Any) -> None:
        self._master = master

    @property
    def master(self) -> Any:
        return self._master


class MasterService(AsyncMultiService):
    """The root of a master's service tree: its own `master`."""

    @property
    def master(self) -> Any:
        return self

    def get_db_config(self, new_config: Any) -> defer.Deferred[Any]:
        """`new_config.db` with renderable values (secrets in the URL) rendered."""
        async def render() -> Any:
            props = _RenderContext(self)
            out = {}
            for key, value in dict(new_config.db).items():
                if hasattr(value, "getRenderingFor"):
                    value = await maybe_await(value.getRenderingFor(props))
                out[key] = value
            return out
        return ensure_deferred(render())


class _RenderContext:
    """The least a renderable needs outside a build: `master` (and no properties)."""

    def __init__(self, master: Any) -> None:
        self.master = master

    def getProperty(self, name: str, default: Any = None) -> Any:
        return default

    def hasProperty(self, name: str) -> bool:
        return False

    def render(self, value: Any) -> defer.Deferred[Any]:
        if hasattr(value, "getRenderingFor"):
            return defer.maybeDeferred(value.getRenderingFor, self)
        return defer.succeed(value)


class SharedService(AsyncMultiService):
    """A service created once per set of constructor arguments under a parent (e.g. one
    HTTP session per base URL shared by several reporters)."""

    @classmethod
    def getService(cls, parent: Any, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        """The instance under `parent` for these arguments, created and started if new.

        A new instance goes first in the parent's list so that it stops after its users.
        """
        async def get() -> Any:
            name = cls.getName(*args, **kwargs)
            if name in parent.namedServices:
                return parent.namedServices[name]
            instance = cls(*args, **kwargs)
            instance.name = name  # type: ignore[assignment]  # Twisted types it as None
            await maybe_await(instance.setServiceParent(parent))
            parent.services.remove(instance)
            parent.services.insert(0, instance)
            return instance
        return ensure_deferred(get())

    @classmethod
    def getName(cls, *args: Any, **kwargs: Any) -> str:
        """`<ClassName>_<sha1 of the arguments' str()>`: equal arguments give equal names."""
        digest = hashlib.sha1()
        for piece in [*args, *(x for kv in sorted(kwargs.items()) for x in kv)]:
            digest.update(unicode2bytes(str(piece)))
        return f"{cls.__name__}_{digest.hexdigest()}"


class BuildbotService(ComparableMixin, AsyncService, ReconfigurableServiceMixin):
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
        # `name` may come as a keyword or as a class attribute of the subclass.
        self.name = kwargs.pop("name", None) or self.name
        self.checkConfig(*args, **kwargs)
        if not self.name:
            raise ValueError(f"{type(self)}: must pass a name to constructor")
        self._config_args, self._config_kwargs = args, kwargs
        self.rendered = False
        self._master: Any = None
        super().__init__(name=self.name)

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

    def configureService(self) -> defer.Deferred[None]:
        """First configuration from the constructor's arguments (a service created by code
        rather than by the master is configured this way when it starts)."""
        return ensure_deferred(self.reconfigServiceWithSibling(self))

    async def start(self) -> None:
        if not self.configured:
            try:
                await self.configureService()
            except NotImplementedError:  # 4.3 tolerates services without reconfigService
                pass
        await super().start()

    def canReconfigWithSibling(self, sibling: BuildbotService) -> bool:
        """Whether `sibling` may be adopted in place (False: the manager replaces the service)."""
        return type(self) is type(sibling)

    def renderSecrets(self, *args: Any) -> Any:
        """Render secrets in `args` through the master; one value in, one value out."""
        async def render() -> Any:
            render_one = getattr(self.master, "render_secrets", None)
            values = [await render_one(a) if render_one else a for a in args]
            return values[0] if len(values) == 1 else values
        return ensure_deferred(render())


class BuildbotServiceManager(ReconfigurableServiceMixin, AsyncService):
    """Keeps its children equal to a list of configured services, matched by name.

    On reconfiguration: services gone from the config are stopped and detached; new ones are
    attached, configured (`reconfigServiceWithSibling(itself)`) and started; a name whose
    class changed is replaced; the others adopt the new instance's arguments (a no-op when
    nothing changed), highest `reconfig_priority` first.
    """

    config_attr = "services"
    reconfig_priority = 128

    def getConfigDict(self) -> dict[str, Any]:
        """The manager's name and the config views of the services it runs."""
        return {"name": self.name,
                "childs": [svc.getConfigDict() for svc in self.namedServices.values()]}

    def get_service_config(self, new_config: Any) -> dict[str, Any]:
        """The services `new_config` configures for this manager, by name (a list must not
        name two services alike: a config error)."""
        value = getattr(new_config, self.config_attr)
        if isinstance(value, dict):
            return value
        if not isinstance(value, list):
            raise TypeError(f"config.{self.config_attr} should be a list or dictionary")
        by_name: dict[str, Any] = {}
        for svc in value:
            if svc.name in by_name:
                # 4.3 reports a config error; util cannot reach buildbot.config (layering)
                raise ValueError(f"Two services share the same name '{svc.name}'."
                                 "This will result in only one service being configured.")
            by_name[svc.name] = svc
        return by_name

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
            self._bb_add_named_child(new)
            await new.reconfigServiceWithSibling(new)
            if self.running:
                await maybe_await(new.startService())

    async def prepare_new_service(self, svc: Any) -> None:
        """Hook run before a new service is attached (e.g. to look up its object id)."""


def __getattr__(name: str) -> Any:
    # ClusteredBuildbotService subclasses BuildbotService, so it lives in its own module;
    # the reference exports it from here.
    if name == "ClusteredBuildbotService":
        from buildbot.util.clustered import ClusteredBuildbotService
        return ClusteredBuildbotService
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
