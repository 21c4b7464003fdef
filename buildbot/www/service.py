# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""`WWWService` (`master.www`): the web server of the master.

It owns the listening port, the twisted.web site and its resource tree, the session
secret, and the configured auth, authz, avatar methods and UI plugins. Reconfiguration
validates everything (plugins installed, ...) before changing anything, rebuilds the
resource tree and moves the port if `c['www']['port']` changed.
"""

from __future__ import annotations

import datetime
import functools
import os
import secrets
from importlib import metadata
from collections.abc import Sequence
from typing import Any

from twisted.internet import defer, endpoints
from twisted.logger import Logger
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.python.logfile import LogFile
from twisted.web import http as twisted_http
from twisted.web import resource, server, static

from buildbot.util.deferred import maybe_await
from buildbot.util.httpclientservice import HTTPClientService
from buildbot.util.internal import differs_internally, internal_class
from buildbot.util.metrics_registry import ReactorLagMonitor
from buildbot.util.service import AsyncService
from buildbot.util.www_settings import default_www_settings
from buildbot.www.auth import AuthRootResource, NoAuth
from buildbot.www.authz import Authz
from buildbot.www.avatar import AvatarBase, AvatarGravatar, AvatarResource
from buildbot.www.change_hook import ChangeHookResource, protect
from buildbot.www.channel import guarded_protocol
from buildbot.www.config import ConfigResource, IndexResource, frontend_config
from buildbot.www.health import LivenessResource, ReadinessResource
from buildbot.www.httpclient import WebClients
from buildbot.www.metrics import MetricsCollector, MetricsResource
from buildbot.www.resource import HttpError
from buildbot.www.rest import ApiVersionsResource
from buildbot.www.session import DEFAULT_EXPIRATION, Session, SessionManager, session_of
from buildbot.www.sse import EventResource

log = Logger()


SESSION_OBJECT = ("www", "buildbot.www.service.WWWService")
REVOKED_KEY = "revoked_sessions"
REVOCATION_REFRESH = 10.0  # seconds


def find_plugins() -> dict[str, metadata.EntryPoint]:
    """Installed web plugins (entry point group `buildbot.www`), by name."""
    return dict(_installed_plugins())


@functools.cache
def _installed_plugins() -> dict[str, metadata.EntryPoint]:
    # Read once per process, as 4.3 does: scanning every installed distribution's entry
    # points took a quarter of a reconfig with 1000 builders.
    return {ep.name: ep for ep in metadata.entry_points(group="buildbot.www")}


def port_description(port: Any) -> str | None:
    """c['www']['port'] as a Twisted endpoint string (int n → `tcp:n`)."""
    if port is None:
        return None
    if isinstance(port, int):
        return f"tcp:{port}"
    return str(port)


class BuildbotRequest(server.Request):
    """A request whose `getSession()` is the JWT-cookie session of the web service, and
    whose body is refused (413) past the channel's limit even without a Content-Length."""

    _body_bytes = 0

    def getSession(self, sessionInterface: Any = None, forceNotSecure: bool = False) -> Any:
        site: Any = self.site
        return session_of(self, site.www.sessions)

    def handleContentChunk(self, data: bytes) -> None:
        self._body_bytes += len(data)
        check = getattr(self.channel, "body_received", None)
        if check is not None and not check(self._body_bytes):
            return
        super().handleContentChunk(data)


# Twisted's own escaping, and the addresses its formatter logs by host (private names: the
# lines stay Twisted's byte for byte; a Twisted without them fails at import, in the tests).
http_escape = twisted_http._escape
_LOGGED_ADDRESSES = (IPv4Address, IPv6Address, twisted_http._XForwardedForAddress)
_ESCAPED: dict[bytes, str] = {}
_ESCAPED_MAX = 1024


def _log_escaped(value: bytes | str) -> str:
    """Twisted's access-log escaping of `value` (`repr` as if in double quotes), remembered:
    a busy site logs the same few URIs, agents and addresses over and over."""
    key = value.encode("ascii") if isinstance(value, str) else value
    text = _ESCAPED.get(key)
    if text is None:
        text = http_escape(key)
        if len(key) <= 512:
            if len(_ESCAPED) >= _ESCAPED_MAX:
                _ESCAPED.clear()
            _ESCAPED[key] = text
    return text


def access_log_line(timestamp: str, request: Any) -> str:
    """The access-log line of `request`, the same as Twisted's `combinedLogFormatter` (what
    Buildbot 4.3's site writes) for a fraction of its cost."""
    address = request.getClientAddress()
    host = getattr(address, "host", None) if isinstance(address, _LOGGED_ADDRESSES) else None
    return (f'"{_log_escaped(host if host is not None else b"-")}" - - {timestamp} '
            f'"{_log_escaped(request.method)} {_log_escaped(request.uri)} '
            f'{_log_escaped(request.clientproto)}" {request.code:d} '
            f'{request.sentLength or "-"} '
            f'"{_log_escaped(request.getHeader(b"referer") or b"-")}" '
            f'"{_log_escaped(request.getHeader(b"user-agent") or b"-")}"')


class BuildbotSite(server.Site):
    """The site: no `Server` header, access log with rotation, connections tracked so that
    stopping the service can close them."""

    requestFactory = BuildbotRequest
    displayTracebacks = False
    protocol = guarded_protocol

    def __init__(self, root: Any, www: WWWService, logPath: str | None,
                 rotateLength: int | None, maxRotatedFiles: int | None) -> None:
        self.rotateLength = rotateLength
        self.maxRotatedFiles = maxRotatedFiles
        super().__init__(root, logPath=logPath, logFormatter=access_log_line)
        self.www = www
        self.channels: set[Any] = set()
        self._drained: list[defer.Deferred[None]] = []

    async def wait_closed(self, timeout: float = 5.0) -> None:
        """Wait until every tracked connection is closed (at most `timeout` seconds)."""
        if not self.channels:
            return
        d: defer.Deferred[None] = defer.Deferred()
        self._drained.append(d)
        from twisted.internet import reactor as _reactor

        reactor: Any = _reactor

        def give_up() -> None:
            if not d.called:
                d.callback(None)

        call = reactor.callLater(timeout, give_up)
        await d
        if call.active():
            call.cancel()

    def _openLogFile(self, path: str | bytes) -> Any:
        path = path.decode() if isinstance(path, bytes) else path
        kwargs: dict[str, Any] = {}
        if self.rotateLength is not None:
            kwargs["rotateLength"] = self.rotateLength
        if self.maxRotatedFiles is not None:
            kwargs["maxRotatedFiles"] = self.maxRotatedFiles
        return LogFile(os.path.basename(path), os.path.dirname(path) or ".", **kwargs)

    def getResourceFor(self, request: server.Request) -> Any:
        request.responseHeaders.removeHeader(b"server")
        return super().getResourceFor(request)

    def buildProtocol(self, addr: Any) -> Any:
        channel = super().buildProtocol(addr)
        channels = self.channels
        channels.add(channel)
        lost = channel.connectionLost

        def connectionLost(reason: Any) -> None:
            channels.discard(channel)
            lost(reason)
            if not channels:
                waiters, self._drained[:] = list(self._drained), []
                for d in waiters:
                    if not d.called:
                        d.callback(None)

        channel.connectionLost = connectionLost
        return channel


class RootResource(resource.Resource):
    """`/`: the UI page, the named children, else the static files of the base UI."""

    def __init__(self, index: Any, static_dir: str | None) -> None:
        super().__init__()
        self.index: Any = index
        self.static = static.File(static_dir) if static_dir else None

    def getChild(self, path: bytes, request: server.Request) -> Any:
        if path == b"":
            return self.index
        if self.static is not None:
            return self.static.getChildWithDefault(path, request)
        return resource.NoResource()

    def render_GET(self, request: server.Request) -> Any:
        return self.index.render(request)


class _MadeOnFirstRequest(resource.Resource):
    """Stands for a leaf resource made by `make()` when first requested: `/ws` (autobahn and
    what it loads, a sixth of the master's import time) waits for the first WebSocket."""

    isLeaf = True

    def __init__(self, make: Any) -> None:
        super().__init__()
        self._make = make

    def render(self, request: server.Request) -> Any:
        return self._make().render(request)


class WWWService(AsyncService):
    """The master's web server (see the module docstring)."""

    reconfig_priority = 128

    def __init__(self, master: Any = None, reactor: Any = None) -> None:
        super().__init__(name="www")
        self._master = master
        self._reactor = reactor
        self.site: BuildbotSite | None = None
        self.port: Any = None
        self.port_str: str | None = None
        self.www_config: dict[str, Any] = default_www_settings()
        self.master_config: Any = None
        self.buildbot_url = "http://localhost:8080/"
        self.allowed_origins: list[str] = []
        self.debug = False
        self._auth: Any = None
        self.authz: Any = Authz()
        self.base_plugin_name = "base"
        # resources of plugins that asked for reconfigResource(new_config) calls
        self.reconfigurableResources: list[Any] = []
        self.avatar_methods: list[Any] = []
        self.plugins: dict[str, Any] = {}
        self.base_plugin: Any = None
        self.frontend_config: dict[str, Any] = {}
        self.index_template = ""
        self.sessions = SessionManager(secrets.token_hex(16), self.clock)
        self._secret_loaded = False
        self._revocation_lock = defer.DeferredLock()
        self._revocations_synced = 0.0
        self._ws: Any = None  # made on first use (the `ws` property)
        self.sse: Any = None
        self.avatar: Any = None
        self._applied = False
        self.http = WebClients(self.reactor)
        self._http_service: HTTPClientService | None = None
        self.lag_monitor = ReactorLagMonitor(None)  # clock set in start()
        self.metrics: MetricsCollector | None = None  # while c['www']['metrics'] is on
        # children of `/` added by other services (a chat bot's webhook); they survive the
        # root's rebuild at each reconfig
        self.service_resources: dict[bytes, Any] = {}

    # -- collaborators ---------------------------------------------------------------------
    @property
    def master(self) -> Any:
        if self._master is not None:
            return self._master
        return getattr(self.parent, "master", self.parent)

    @property
    def reactor(self) -> Any:
        """The reactor we listen with (always a real one)."""
        if self._reactor is None:
            from twisted.internet import reactor
            self._reactor = reactor
        return self._reactor

    @property
    def clock(self) -> Any:
        """Time for tokens and headers: the master's clock if it has one."""
        clock = getattr(self.master, "reactor", None) if self.master is not None else None
        return clock if clock is not None and hasattr(clock, "seconds") else self.reactor

    def now(self) -> float:
        return float(self.clock.seconds())

    @property
    def ws(self) -> Any:
        """The `/ws` resource (WsResource), made on first use."""
        if self._ws is None:
            from buildbot.www.ws import WsResource

            self._ws = WsResource(self)
        return self._ws

    @property
    def http_service(self) -> HTTPClientService:
        """An HTTP client service for sessions of web-layer plugins (avatar lookups) when
        the master has none of its own; stopped with the web service."""
        if self._http_service is None:
            self._http_service = HTTPClientService("", reactor=self.reactor)
        return self._http_service

    @property
    def port_number(self) -> int | None:
        return self.port.getHost().port if self.port is not None else None

    def getPortnum(self) -> int | None:
        """The TCP port we listen on (reference API)."""
        return self.port_number

    @property
    def auth(self) -> Any:
        """The auth plugin in use (c['www']['auth'], NoAuth when none is configured)."""
        return self._auth

    @auth.setter
    def auth(self, value: Any) -> None:
        self._auth = value

    # -- per-request helpers ---------------------------------------------------------------
    def getUserInfos(self, request: server.Request) -> dict[str, Any]:
        """The details of the user the request's session belongs to."""
        session: Session = request.getSession()
        return session.user_info

    user_info = getUserInfos

    async def assertUserAllowed(self, request: server.Request, ep: Sequence[Any], action: str,
                                options: dict[str, Any]) -> None:
        """Return if the request's user may do `action` on path `ep`; raise
        `buildbot.www.authz.Forbidden` otherwise."""
        await self.assert_allowed(tuple(ep), action, options, self.getUserInfos(request))

    async def assert_allowed(self, path: tuple[Any, ...], action: str,
                             options: dict[str, Any], user_info: dict[str, Any]) -> None:
        await self.authz.assertUserAllowed(path, action, options, user_info)

    async def maybe_auto_login(self, request: server.Request) -> None:
        """Let the auth plugin log the user in from the request (RemoteUserAuth)."""
        await maybe_await(self.auth.maybeAutoLogin(request))

    @property
    def auth_configured(self) -> bool:
        """Whether users can log in (an auth plugin other than NoAuth)."""
        return self.auth is not None and not isinstance(self.auth, NoAuth)

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        await super().start()
        self.lag_monitor.clock = self.reactor
        self.lag_monitor.start()
        if self.metrics is not None:
            await self.metrics.start()
        if self._applied:
            await self._apply_port(self.www_config.get("port"))

    async def stop(self) -> None:
        self.lag_monitor.stop()
        if self.metrics is not None:
            self.metrics.stop()
        await self._close_port()
        if self._ws is not None:
            self._ws.close_all()
        if self.sse is not None:
            self.sse.close_all()
        if self.site is not None:
            # Politely first; a client that stopped reading would keep a closing connection
            # (and this stop) waiting for its buffer to drain, so abort what is left.
            for how in ("loseConnection", "abortConnection"):
                for channel in list(self.site.channels):
                    transport = getattr(getattr(channel, "_channel", channel), "transport", None)
                    if transport is not None:
                        getattr(transport, how, transport.loseConnection)()
                await self.site.wait_closed(timeout=1.0)
        await super().stop()
        await self.http.close()
        if self._http_service is not None:
            await self._http_service.stop()

    async def reconfigServiceWithBuildbotConfig(self, new_config: Any) -> None:
        """Apply a new MasterConfig: validate, then switch resources and port."""
        await self.reconfigure(new_config)

    @staticmethod
    def _settings(new_config: Any) -> dict[str, Any]:
        """c['www'] of `new_config` over the defaults."""
        www = default_www_settings()
        www.update(getattr(new_config, "www", None) or {})
        return www

    async def reconfigure(self, new_config: Any) -> None:
        www = self._settings(new_config)
        self.refresh_base_plugin_name(new_config)
        if not www.get("port") and self.site is None:
            # No web server (as in the reference: nothing is loaded or checked then).
            self.www_config = www
            self.master_config = new_config
            if self.port is not None:
                await self._close_port()
            log.info("No web server configured on this master")
            return
        installed = self._check_plugins(www)
        expiration = www.get("cookie_expiration_time") or DEFAULT_EXPIRATION
        if not isinstance(expiration, datetime.timedelta):
            raise ValueError("c['www']['cookie_expiration_time'] must be a datetime.timedelta")  # noqa: TRY004

        # -- from here on, apply ----------------------------------------------------------
        self.master_config = new_config
        self.www_config = www
        self.buildbot_url = getattr(new_config, "buildbotURL", None) or "http://localhost:8080/"
        self.allowed_origins = list(www.get("allowed_origins") or [self._own_origin()])
        self.debug = bool(www.get("debug"))
        self.base_plugin = installed[self.base_plugin_name].load()
        self.base_plugin.setMaster(self.master)
        with open(os.path.join(self.base_plugin.static_dir, "index.html"),  # noqa: ASYNC230
                  encoding="utf-8") as f:
            self.index_template = f.read()
        self.reconfigSite(new_config)
        if not self._secret_loaded:
            await self.makeSessionSecret()
        await self._configure_metrics(www.get("metrics"))
        self.setupSite(new_config)
        self._applied = True
        if self.running:
            await self._apply_port(www.get("port"))

    def refresh_base_plugin_name(self, new_config: Any) -> None:
        """Refuse the retired React UI plugin; the UI is always the `base` plugin."""
        if "base_react" in ((getattr(new_config, "www", None) or {}).get("plugins") or {}):
            raise ValueError("'base_react' plugin is no longer supported. Use 'base' plugin in "
                             "master.cfg BuildmasterConfig['www'] dictionary instead. Remove "
                             "'buildbot-www-react' and install 'buildbot-www' package.")
        self.base_plugin_name = "base"

    def _check_plugins(self, www: dict[str, Any]) -> dict[str, metadata.EntryPoint]:
        """The installed plugins, after checking that the UI and each configured one are."""
        installed = find_plugins()
        if self.base_plugin_name not in installed:
            raise RuntimeError("could not find buildbot-www; is it installed?")
        for name in www.get("plugins") or {}:
            if name not in installed:
                raise RuntimeError(f"could not find plugin {name}; is it installed?")
            installed[name].load()  # an import error surfaces before anything changes
        return installed

    def reconfigSite(self, new_config: Any) -> None:
        """Hand the new configuration to the parts of the site that keep state across
        reconfigurations: auth, authz, avatar methods, session settings, and the resources
        registered with `resourceNeedsReconfigs`."""
        www = self._settings(new_config)
        master = self.master
        auth = www.get("auth") or NoAuth()
        auth.www = self
        auth.reconfigAuth(master, new_config)
        self.auth = auth
        self.authz = www.get("authz") or Authz()
        self.authz.setMaster(master)
        avatars = www.get("avatar_methods")
        if avatars is None:
            avatars = AvatarGravatar()
        self.avatar_methods = [avatars] if isinstance(avatars, AvatarBase) or not isinstance(
            avatars, (list, tuple)) else list(avatars)
        for method in self.avatar_methods:
            method.master = master
        self.frontend_config = frontend_config(www, new_config, auth, avatars)
        self.sessions.expiration = www.get("cookie_expiration_time") or DEFAULT_EXPIRATION
        self.sessions.clock = self.clock
        self.sessions.secure_cookies = self.buildbot_url.lower().startswith("https:")
        self.sessions.on_revoke = self._share_revocation
        self.sessions.on_accept = self._maybe_refresh_revocations if \
            getattr(new_config, "multiMaster", False) else None
        for rsrc in self.reconfigurableResources:
            rsrc.reconfigResource(new_config)

    def resourceNeedsReconfigs(self, resource: Any) -> None:
        """Call `resource.reconfigResource(new_config)` on every reconfiguration from now on
        (plugin resources with `needsReconfig = True` register themselves)."""
        if resource not in self.reconfigurableResources:
            self.reconfigurableResources.append(resource)

    def configPlugins(self, root: Any, new_config: Any) -> None:
        """Serve the configured UI plugins under `/plugins/<name>` of `root`, each given the
        master and its configuration."""
        plugins_root: Any = resource.Resource()
        root.putChild(b"plugins", plugins_root)
        configured = (getattr(new_config, "www", None) or {}).get("plugins") or {}
        installed = find_plugins()
        plugins: dict[str, Any] = {}
        for name, settings in configured.items():
            if name not in installed:
                raise RuntimeError(f"could not find plugin {name}; is it installed?")
            log.info("initializing www plugin {name!r}", name=name)
            app = plugins[name] = installed[name].load()
            app.setMaster(self.master)
            app.setConfiguration(settings)
            plugins_root.putChild(name.encode(), app.resource)
        for name in sorted(set(installed) - set(configured) - {self.base_plugin_name}):
            log.info("NOTE: www plugin {name!r} is installed but not configured", name=name)
        self.plugins = plugins

    def setupProtectedResource(self, resource_obj: Any, checkers: Any) -> Any:
        """`resource_obj` behind HTTP Basic authentication by the credential `checkers`."""
        return protect(resource_obj, checkers)

    async def _configure_metrics(self, setting: Any) -> None:
        if not setting:
            if self.metrics is not None:
                self.metrics.stop()
                self.metrics = None
            return
        if self.metrics is None:
            self.metrics = MetricsCollector(self)
        self.metrics.token = setting.get("token") if isinstance(setting, dict) else None
        if self.running:
            await self.metrics.start()

    def _own_origin(self) -> str:
        from urllib.parse import urlparse

        u = urlparse(self.buildbot_url)
        return f"{u.scheme}://{u.netloc}"

    async def makeSessionSecret(self) -> None:
        """Load the secret signing session cookies, shared by all masters and restarts
        (created on first use in the state table)."""
        # Through the master, duck-typed: www may not import the db layer (STYLE §1).
        state = getattr(getattr(self.master, "db", None), "state", None)
        if state is None:
            msg = "no database state available: session cookies will not survive a restart"
            log.warn(msg)  # noqa: G010
        else:
            objectid = await state.getObjectId(*SESSION_OBJECT)
            secret = await state.atomicCreateState(objectid, "session_secret",
                                                   lambda: secrets.token_hex(16))
            self.sessions.secret = secret
            await self._sync_revocations()
        self._secret_loaded = True

    # -- logouts shared by the masters of a cluster (state table, like the secret) ----------
    async def _sync_revocations(self) -> None:
        """Merge the stored revoked session ids with ours and store the union back."""
        state = getattr(getattr(self.master, "db", None), "state", None)
        if state is None:
            return
        async with self._revocation_lock:
            objectid = await state.getObjectId(*SESSION_OBJECT)
            stored = await state.getState(objectid, REVOKED_KEY, {})
            merged = self.sessions.merge_revoked(stored if isinstance(stored, dict) else {})
            if merged != stored:
                await state.setState(objectid, REVOKED_KEY, merged)
            self._revocations_synced = self.now()

    def _share_revocation(self, sid: str, exp: int) -> None:
        self.tasks.spawn("store a logout", self._sync_revocations())

    def _maybe_refresh_revocations(self) -> None:
        # Another master's logout reaches us within REVOCATION_REFRESH seconds.
        if self.now() - self._revocations_synced >= REVOCATION_REFRESH and \
                not self._revocation_lock.locked:
            self._revocations_synced = self.now()
            self.tasks.spawn("refresh logouts", self._sync_revocations())

    def setupSite(self, new_config: Any) -> None:
        """Build the resource tree for `new_config` and serve it (the site, with its access
        log, is kept while the log file stays the same)."""
        www = self._settings(new_config)
        if self._ws is not None:
            self._ws.reconfigure()
        if self.sse is None:
            self.sse = EventResource(self)
        if self.avatar is None:
            self.avatar = AvatarResource(self)
        self.avatar.reconfigure()
        index: Any = IndexResource(self)
        root: Any = RootResource(index, self.base_plugin.static_dir)
        children: dict[bytes, Any] = {
            b"api": ApiVersionsResource(self), b"config": ConfigResource(self),
            b"auth": AuthRootResource(self),
            # probes: no auth, they reveal only whether this master works
            b"healthz": LivenessResource(self), b"readyz": ReadinessResource(self),
            b"metrics": MetricsResource(self), b"ws": _MadeOnFirstRequest(lambda: self.ws),
            b"sse": self.sse,
            b"avatar": self.avatar,
            b"change_hook": self.setupProtectedResource(ChangeHookResource(self),
                                                        www.get("change_hook_auth"))}
        for name, child in children.items():
            root.putChild(name, child)
        for name, child in self.service_resources.items():
            root.putChild(name, child)
        self.configPlugins(root, new_config)

        log_name = www.get("logfileName")
        log_path = None
        if log_name:
            basedir = getattr(self.master, "basedir", None) or "."
            log_path = os.path.join(basedir, log_name)
        if self.site is None or self.site.logPath != log_path:
            old = self.site
            self.site = BuildbotSite(root, self, log_path, www.get("logRotateLength"),
                                     www.get("maxRotatedFiles"))
            if old is not None:
                self.site.channels = old.channels
                if self.port is not None:
                    self.port.factory = self.site
        else:
            self.site.resource = root

    def add_service_resource(self, name: str, res: Any) -> None:
        """Serve `res` at `<buildbotURL><name>` until `remove_service_resource(name)`."""
        key = name.encode()
        self.service_resources[key] = res
        if self.site is not None:
            self.site.resource.putChild(key, res)

    def remove_service_resource(self, name: str) -> None:
        key = name.encode()
        if self.service_resources.pop(key, None) is not None and self.site is not None:
            self.site.resource.children.pop(key, None)

    async def _apply_port(self, port: Any) -> None:
        wanted = port_description(port)
        if wanted == self.port_str and self.port is not None:
            if self.port.factory is not self.site:
                self.port.factory = self.site
            return
        await self._close_port()
        if wanted is None:
            return
        ep = endpoints.serverFromString(self.reactor, wanted)
        assert self.site is not None
        self.port = await ep.listen(self.site)
        self.port_str = wanted
        log.info("www listening on {port}", port=wanted)

    async def _close_port(self) -> None:
        if self.port is not None:
            port, self.port, self.port_str = self.port, None, None
            await port.stopListening()


__all__ = ["BuildbotSite", "HttpError", "WWWService", "find_plugins"]


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
_INTERNAL_WHY = "the web service builds its resources itself (buildbot.www.service)"
BuildbotSession = internal_class(__name__, "BuildbotSession", _INTERNAL_WHY)
for _cls in (BuildbotSite,):
    differs_internally(_INTERNAL_WHY)(_cls)
