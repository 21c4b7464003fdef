"""How KubeLatentWorker reaches the Kubernetes API server (`util.KubeHardcodedConfig`,
`util.KubeCtlProxyConfigLoader`, `util.KubeInClusterConfigLoader`) and the shared service
that keeps those loaders running while workers use them (`KubeClientService`).

A loader is a service: `KubeCtlProxyConfigLoader` runs `kubectl proxy` while it is started.
`getConfig()` gives `{"master_url", "namespace", "headers"?, "verify"?, "cert"?}` and
`getAuthorization()` the `Authorization` header value (or None), possibly a Deferred.

This module is in `util`, which may not import the configuration package: a loader that
cannot work with its arguments records the message in `config_problem`, and
KubeLatentWorker reports it as a configuration error (so `buildbot checkconfig` refuses
the same master.cfg files as 4.3's, with the same text).
"""

from __future__ import annotations

import base64
import os
from typing import Any, ClassVar

from twisted.internet import defer, error, protocol
from twisted.logger import Logger

from buildbot.util.deferred import ensure_deferred, maybe_await
from buildbot.util.service import BuildbotService, SharedService

log = Logger()


class KubeConfigLoaderBase(BuildbotService):
    """Base of the loaders; subclasses implement `getConfig()`."""

    name = "KubeConfig"
    config_problem: str | None = None

    def getConfig(self) -> dict[str, Any]:
        raise NotImplementedError

    def get_master_url(self) -> str:
        """The API server's URL (asked before the loader is configured, so subclasses
        whose getConfig needs configuration override it)."""
        return str(self.getConfig()["master_url"])

    def getAuthorization(self) -> Any:
        return None

    def __str__(self) -> str:
        # SharedService names derive from str(): one per loader object.
        return f"{type(self).__name__}({hash(self)})"


class KubeHardcodedConfig(KubeConfigLoaderBase):
    """The API server given in master.cfg: `master_url`, one of `bearerToken` or
    `basicAuth` (`{"user", "password"}`, both renderable secrets), extra `headers`,
    TLS `cert`/`verify`, and the default `namespace`."""

    def checkConfig(self, master_url: str | None = None, bearerToken: Any = None,
                    basicAuth: Any = None, headers: dict[str, str] | None = None,
                    cert: Any = None, verify: Any = None, namespace: str = "default"
                    ) -> None:
        self._apply(master_url, bearerToken, basicAuth, headers, cert, verify, namespace)

    def reconfigService(self, master_url: str | None = None, bearerToken: Any = None,
                        basicAuth: Any = None, headers: dict[str, str] | None = None,
                        cert: Any = None, verify: Any = None, namespace: str = "default"
                        ) -> None:
        self._apply(master_url, bearerToken, basicAuth, headers, cert, verify, namespace)

    def _apply(self, master_url: str | None, bearer: Any, basic: Any,
               headers: dict[str, str] | None, cert: Any, verify: Any, namespace: str) -> None:
        if bearer and basic:
            # 4.3 raises this (not a config error) from the constructor
            raise RuntimeError("set one of basicAuth and bearerToken, not both")
        settings: dict[str, Any] = {"master_url": master_url, "namespace": namespace,
                                    "headers": dict(headers or {})}
        for key, value in (("cert", cert), ("verify", verify)):
            if value is not None:
                settings[key] = value
        self.config = settings
        self.bearerToken = bearer
        self.basicAuth = basic

    def getConfig(self) -> dict[str, Any]:
        return self.config

    def getAuthorization(self) -> defer.Deferred[str | None]:
        return ensure_deferred(self._authorization())

    async def _authorization(self) -> str | None:
        if self.basicAuth is not None:
            creds = await self.renderSecrets(self.basicAuth)
            pair = f"{creds['user']}:{creds['password']}".encode()
            # 4.3 formats the bytes object (b'...'): kept, API servers accept what it sent
            return f"Basic {base64.b64encode(pair)!r}"
        if self.bearerToken is not None:
            token = await self.renderSecrets(self.bearerToken)
            return f"Bearer {token}"
        return None


class _FirstLine(protocol.ProcessProtocol):
    """Fires `first_line` with kubectl's first stdout line (it prints where it listens),
    or fails with its first stderr line; `ended` fires when the process is gone."""

    def __init__(self) -> None:
        self.first_line: defer.Deferred[bytes] = defer.Deferred()
        self.ended: defer.Deferred[None] = defer.Deferred()
        self._pending = {1: b"", 2: b""}

    def childDataReceived(self, fd: int, data: bytes) -> None:
        if fd not in self._pending:
            return
        self._pending[fd] += data
        if b"\n" in self._pending[fd] and not self.first_line.called:
            line = self._pending[fd].split(b"\n", 1)[0].rstrip(b"\r")
            if fd == 1:
                self.first_line.callback(line)
            else:
                self.first_line.errback(RuntimeError(line.decode("utf-8", "replace")))

    def processEnded(self, reason: Any) -> None:
        if not self.first_line.called:
            self.first_line.errback(RuntimeError("kubectl proxy exited before listening"))
        self.ended.callback(None)


class KubeCtlProxyConfigLoader(KubeConfigLoaderBase):
    """Runs `kubectl proxy -p <proxy_port>` while started and talks to the API server
    through it (kubectl reads ~/.kube/config: credentials and TLS stay its business)."""

    LocalPP = _FirstLine
    kube_ctl_proxy_cmd: ClassVar[list[str]] = ["kubectl", "proxy"]  # tests replace it

    def checkConfig(self, proxy_port: int = 8001, namespace: str = "default") -> None:
        self.proxy_port = proxy_port
        self.namespace = namespace
        self.pp: _FirstLine | None = None
        self.process: Any = None
        self.kube_proxy_output: bytes | None = None

    async def reconfigService(self, proxy_port: int = 8001,
                              namespace: str = "default") -> None:
        self.proxy_port = proxy_port
        self.namespace = namespace
        if self.running:
            await self.ensure_subprocess_killed()
            await self.start_subprocess()

    async def start_subprocess(self) -> None:
        from twisted.internet import reactor

        self.pp = _FirstLine()
        argv = [*self.kube_ctl_proxy_cmd, "-p", str(self.proxy_port)]
        spawn: Any = reactor.spawnProcess
        self.process = spawn(self.pp, argv[0], argv, env=os.environ)
        self.kube_proxy_output = await self.pp.first_line

    async def ensure_subprocess_killed(self) -> None:
        pp, self.pp = self.pp, None
        if pp is None:
            return
        try:
            self.process.signalProcess("TERM")
        except error.ProcessExitedAlready:
            pass
        await pp.ended

    async def start(self) -> None:
        try:
            await self.start_subprocess()
        except Exception:
            await self.ensure_subprocess_killed()
            raise
        await super().start()

    async def stop(self) -> None:
        await self.ensure_subprocess_killed()
        await super().stop()

    def getConfig(self) -> dict[str, Any]:
        return {"master_url": f"http://localhost:{self.proxy_port}",
                "namespace": self.namespace}


class KubeInClusterConfigLoader(KubeConfigLoaderBase):
    """For a master running in a pod: the service account's token, CA certificate and
    namespace, and the API server from `KUBERNETES_PORT`."""

    kube_dir = "/var/run/secrets/kubernetes.io/serviceaccount/"
    kube_namespace_file = os.path.join(kube_dir, "namespace")
    kube_token_file = os.path.join(kube_dir, "token")
    kube_cert_file = os.path.join(kube_dir, "ca.crt")

    def checkConfig(self) -> None:
        self.config_problem = None
        if not os.path.exists(self.kube_dir):
            self.config_problem = (f"Not in kubernetes cluster (kube_dir not found: "
                                   f"{self.kube_dir})")

    def reconfigService(self) -> None:
        with open(self.kube_token_file, encoding="utf-8") as f:
            token = f.read().strip()
        with open(self.kube_namespace_file, encoding="utf-8") as f:
            namespace = f.read().strip()
        self.config = {"master_url": self.get_master_url(), "verify": self.kube_cert_file,
                       "headers": {"Authorization": f"Bearer {token}"},
                       "namespace": namespace}

    def getConfig(self) -> dict[str, Any]:
        return self.config

    def get_master_url(self) -> str:
        # KUBERNETES_PORT is "tcp://10.0.0.1:443"
        return os.environ["KUBERNETES_PORT"].replace("tcp", "https")


class KubeClientService(SharedService):
    """One per master: starts a config loader when its first worker registers and stops
    it when its last one leaves (loaders are shared by object identity)."""

    name: str | None = "KubeClientService"  # type: ignore[assignment]  # a fixed service name where the base allows None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._users: dict[int, list[str]] = {}
        self._loader_of: dict[str, Any] = {}
        self._lock = defer.DeferredLock()

    def register(self, worker: Any, config: Any) -> defer.Deferred[None]:
        return ensure_deferred(self._locked(self._add_user, worker, config))

    def unregister(self, worker: Any) -> defer.Deferred[None]:
        return ensure_deferred(self._locked(self._remove_user, worker))

    async def _locked(self, fn: Any, *args: Any) -> None:
        await self._lock.acquire()
        try:
            await fn(*args)
        finally:
            self._lock.release()

    async def _add_user(self, worker: Any, config: Any) -> None:
        if worker.name in self._loader_of:
            raise ValueError(f"Worker {worker.name} registered multiple times")
        self._loader_of[worker.name] = config
        users = self._users.setdefault(id(config), [])
        users.append(worker.name)
        if len(users) == 1:
            await maybe_await(config.setServiceParent(self))

    async def _remove_user(self, worker: Any) -> None:
        config = self._loader_of.pop(worker.name, None)
        if config is None:
            raise ValueError(f"Worker {worker.name} was not registered")
        users = self._users[id(config)]
        users.remove(worker.name)
        if not users:
            del self._users[id(config)]
            await maybe_await(config.disownServiceParent())

    async def start(self) -> None:
        await self._locked(super().start)

    async def stop(self) -> None:
        await self._locked(super().stop)
