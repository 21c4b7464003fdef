"""`KubeLatentWorker`: a latent worker whose instance is a Kubernetes pod.

The pod runs one container from `image` (a buildbot-worker image) whose environment tells
it where the master is (as for DockerLatentWorker). The API server is reached through a
config loader of `buildbot.util.kubeclientservice` (`kube_config=`) with plain HTTP calls
of the core v1 pod API: create, delete, read status. Subclasses shape the pod through the
4.3 customization points (`getBuildContainerResources`, `getServicesContainers`,
`get_affinity`, `get_node_selector`, `get_volumes`, `get_build_container_volume_mounts`).
"""

from __future__ import annotations

import json
from typing import Any

from twisted.logger import Logger

from buildbot import config
from buildbot.interfaces import LatentWorkerFailedToSubstantiate
from buildbot.util import asyncSleep
from buildbot.util.deferred import maybe_await
from buildbot.util.httpclientservice import HttpResponse, HTTPSession
from buildbot.util.kubeclientservice import KubeClientService, KubeConfigLoaderBase
from buildbot.util.latent import CompatibleLatentWorkerMixin
from buildbot.util.service import BuildbotService
from buildbot.worker.docker import DockerBaseWorker

log = Logger()

DEFAULT_IMAGE = "buildbot/buildbot-worker"


class KubeError(RuntimeError):
    """The API server refused a call."""


class KubeJsonError(KubeError):
    """An error answered as a Kubernetes `Status` object (`reason`: NotFound, ...)."""

    def __init__(self, code: int, response_json: dict[str, Any]) -> None:
        super().__init__(response_json.get("message", f"HTTP {code}"))
        self.code = code
        self.json = response_json
        self.reason = response_json.get("reason")


class KubeTextError(KubeError):
    """An answer that is not JSON (a proxy's error page...)."""

    def __init__(self, code: int, response: str) -> None:
        super().__init__(response)
        self.code = code


class KubeLatentWorker(CompatibleLatentWorkerMixin, DockerBaseWorker):
    """`KubeLatentWorker(name, image=..., namespace=None, masterFQDN=None,
    master_protocol="pb", kube_config=<loader>, **latent worker options)`."""

    instance = None
    _namespace: str | None = None
    _kube: Any = None
    _kube_config: Any = None

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        # No password argument (4.3's signature): skip Worker.__init__, which inserts one.
        BuildbotService.__init__(self, name, *args, **kwargs)

    def checkConfig(self, name: str, image: Any = DEFAULT_IMAGE,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    namespace: str | None = None, masterFQDN: Any = None,
                    master_protocol: str = "pb", kube_config: Any = None,
                    **kwargs: Any) -> None:
        super().checkConfig(name, None, image=image, master_protocol=master_protocol, **kwargs)
        if kube_config is not None and not isinstance(kube_config, KubeConfigLoaderBase):
            config.error(f"worker '{name}': kube_config must be a KubeHardcodedConfig, "
                         "KubeCtlProxyConfigLoader or KubeInClusterConfigLoader")
        problem = getattr(kube_config, "config_problem", None)
        if problem:
            config.error(problem)

    async def reconfigService(self, name: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              image: Any = DEFAULT_IMAGE, namespace: str | None = None,
                              masterFQDN: Any = None, master_protocol: str = "pb",
                              kube_config: Any = None, **kwargs: Any) -> None:
        if kube_config is None:
            # 4.3's checkconfig accepts this too, then fails starting the worker
            raise ValueError(f"KubeLatentWorker '{name}' needs kube_config= (a "
                             "KubeHardcodedConfig, KubeCtlProxyConfigLoader or "
                             "KubeInClusterConfigLoader)")
        if masterFQDN is None:
            masterFQDN = self.get_ip
        if callable(masterFQDN):
            masterFQDN = masterFQDN()
        # made on first use: an in-cluster loader knows its TLS settings once started
        self._session: HTTPSession | None = None
        if self.running and self._kube is not None:
            await self._kube.unregister(self)
        self._kube = await KubeClientService.getService(self.master)
        self._kube_config = kube_config
        if self.running:
            await self._kube.register(self, kube_config)
        self._namespace = namespace or kube_config.getConfig()["namespace"]
        await super().reconfigService(name, None, image=image, masterFQDN=masterFQDN,
                                      master_protocol=master_protocol, **kwargs)

    async def start(self) -> None:
        await super().start()
        await self._kube.register(self, self._kube_config)

    async def stop(self) -> None:
        await self._kube.unregister(self)
        await super().stop()

    # -- the pod ------------------------------------------------------------------------
    async def getPodSpec(self, build: Any) -> dict[str, Any]:
        image = await build.render(self.image)
        env = self.createEnvironment(build)
        name = self.getContainerName()
        container = {
            "name": name,
            "image": image,
            "env": [{"name": k, "value": v} for k, v in env.items()],
            "resources": await maybe_await(self.getBuildContainerResources(build)),
            "volumeMounts": await maybe_await(self.get_build_container_volume_mounts(build)),
        }
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {
                "affinity": await maybe_await(self.get_affinity(build)),
                "containers": [container,
                               *await maybe_await(self.getServicesContainers(build))],
                "nodeSelector": await maybe_await(self.get_node_selector(build)),
                "restartPolicy": "Never",
                "volumes": await maybe_await(self.get_volumes(build)),
            },
        }

    def getBuildContainerResources(self, build: Any) -> Any:
        """`resources` of the build container (requests/limits)."""
        return {}

    def get_build_container_volume_mounts(self, build: Any) -> Any:
        return []

    def get_affinity(self, build: Any) -> Any:
        return {}

    def get_node_selector(self, build: Any) -> Any:
        return {}

    def get_volumes(self, build: Any) -> Any:
        return []

    def getServicesContainers(self, build: Any) -> Any:
        """Extra containers of the pod (databases...), reachable on localhost."""
        return []

    def renderWorkerProps(self, build_props: Any) -> Any:
        """The pod spec for a build (what decides which builds may share a pod)."""
        return self.getPodSpec(build_props)

    # -- latent worker ------------------------------------------------------------------
    async def start_instance(self, build: Any) -> bool:
        try:
            # a pod left over by a master that died would block the name
            await self.stop_instance(reportFailure=False)
            spec = await self.renderWorkerPropsOnStart(build)
            await self._create_pod(self._namespace, spec)
        except KubeError as e:
            raise LatentWorkerFailedToSubstantiate(str(e)) from e
        return True

    async def stop_instance(self, fast: bool = False, reportFailure: bool = True) -> None:
        self.current_pod_spec = None
        self.resetWorkerPropsOnStop()
        try:
            await self._delete_pod(self._namespace, self.getContainerName())
        except KubeJsonError as e:
            if reportFailure and e.reason != "NotFound":
                raise
        if not fast:
            await self._wait_for_pod_deletion(self._namespace, self.getContainerName(),
                                              timeout=self.missing_timeout or 0)

    async def check_instance(self) -> tuple[bool, str]:
        """A pod that ended (image not runnable, worker exited) before the worker connected
        fails the substantiation now rather than at missing_timeout."""
        url = f"/api/v1/namespaces/{self._namespace}/pods/{self.getContainerName()}/status"
        res = await self._http.get(url, **await self._request_kwargs())
        if res.code != 200:
            return True, ""
        status = (await self._decode(res)).get("status", {})
        phase = status.get("phase")
        if phase in ("Failed", "Succeeded"):
            reasons = [s.get("state", {}).get("terminated", {}).get("reason")
                       for s in status.get("containerStatuses", [])]
            detail = ", ".join(r for r in reasons if r) or status.get("reason") or ""
            return False, f"pod {phase.lower()}" + (f" ({detail})" if detail else "")
        return True, ""

    # -- API calls ----------------------------------------------------------------------
    @property
    def _http(self) -> HTTPSession:
        if self._session is None:
            settings = self._kube_config.getConfig()
            self._session = HTTPSession(self.master.httpservice,
                                        self._kube_config.get_master_url(),
                                        verify=settings.get("verify"),
                                        cert=settings.get("cert"))
        return self._session

    async def _request_kwargs(self) -> dict[str, Any]:
        settings = self._kube_config.getConfig()
        headers = dict(settings.get("headers") or {})
        auth = await maybe_await(self._kube_config.getAuthorization())
        if auth is not None:
            headers["Authorization"] = auth
        return {"headers": headers} if headers else {}

    async def _decode(self, res: HttpResponse) -> Any:
        body = await res.content()
        try:
            return json.loads(body)
        except ValueError:
            text = body.decode("utf-8", errors="ignore")[:200]
            raise KubeTextError(res.code, "Failed to decode: " + text) from None

    async def _create_pod(self, namespace: str | None, spec: dict[str, Any]) -> Any:
        res = await self._http.post(f"/api/v1/namespaces/{namespace}/pods", json=spec,
                                    **await self._request_kwargs())
        answer = await self._decode(res)
        if res.code not in (200, 201, 202):
            raise KubeJsonError(res.code, answer)
        return answer

    async def _delete_pod(self, namespace: str | None, name: str, graceperiod: int = 0
                          ) -> Any:
        res = await self._http.delete(f"/api/v1/namespaces/{namespace}/pods/{name}",
                                      params={"graceperiod": graceperiod},
                                      **await self._request_kwargs())
        answer = await self._decode(res)
        if res.code != 200:
            raise KubeJsonError(res.code, answer)
        return answer

    async def _wait_for_pod_deletion(self, namespace: str | None, name: str,
                                     timeout: float) -> Any:
        deadline = self.clock.seconds() + timeout
        url = f"/api/v1/namespaces/{namespace}/pods/{name}/status"
        while True:
            if self.clock.seconds() > deadline:
                raise TimeoutError(f"Did not see pod {name} terminate after {timeout}s")
            res = await self._http.get(url, **await self._request_kwargs())
            answer = await self._decode(res)
            if res.code == 404:  # gone
                return answer
            if res.code != 200:
                raise KubeJsonError(res.code, answer)
            await asyncSleep(1, reactor=self.clock)
