"""`MarathonLatentWorker`: a latent worker whose instance is a Marathon (Mesos) app running
one Docker container of a buildbot-worker image.

The app is `<marathon_app_prefix><container name>` with one instance; its environment tells
the worker where the master is (as for DockerLatentWorker). `marathon_extra_config` is
merged into the app definition (deeply: dicts merge, lists concatenate), e.g. to add
volumes, resources or constraints. Marathon's answers other than success become a failed
substantiation naming the app, the status and Marathon's message.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.logger import Logger

from buildbot.interfaces import LatentWorkerFailedToSubstantiate
from buildbot.util import dictionary_merge
from buildbot.util.httpclientservice import HttpResponse, HTTPSession
from buildbot.util.latent import CompatibleLatentWorkerMixin
from buildbot.util.service import BuildbotService
from buildbot.worker.docker import DockerBaseWorker

log = Logger()


async def _answer(res: HttpResponse) -> Any:
    """Marathon's JSON answer; a body that is not JSON becomes `{"message": text}`."""
    body = await res.content()
    try:
        return json.loads(body) if body else {}
    except ValueError:
        return {"message": body.decode("utf-8", "replace")[:200]}


class MarathonLatentWorker(CompatibleLatentWorkerMixin, DockerBaseWorker):
    """`MarathonLatentWorker(name, marathon_url, image, marathon_auth=None,
    marathon_extra_config=None, marathon_app_prefix="buildbot-worker/", masterFQDN=None,
    **latent worker options)`; `image` and `marathon_extra_config` are renderable."""

    instance: Any = None
    image: Any = None
    _http: HTTPSession | None = None

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        # No password argument (4.3's signature): skip Worker.__init__, which inserts one.
        BuildbotService.__init__(self, name, *args, **kwargs)

    def checkConfig(self, name: str, marathon_url: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    image: Any, marathon_auth: Any = None, marathon_extra_config: Any = None,
                    marathon_app_prefix: str = "buildbot-worker/", masterFQDN: Any = None,
                    **kwargs: Any) -> None:
        super().checkConfig(name, None, image=image, masterFQDN=masterFQDN, **kwargs)

    async def reconfigService(self, name: str, marathon_url: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              image: Any, marathon_auth: Any = None,
                              marathon_extra_config: Any = None,
                              marathon_app_prefix: str = "buildbot-worker/",
                              masterFQDN: Any = None, **kwargs: Any) -> None:
        await super().reconfigService(name, None, image=image, masterFQDN=masterFQDN,
                                      **kwargs)
        self._http = HTTPSession(self.master.httpservice, marathon_url, auth=marathon_auth)
        self.marathon_extra_config = marathon_extra_config or {}
        self.marathon_app_prefix = marathon_app_prefix

    def getApplicationId(self) -> str:
        return self.marathon_app_prefix + self.getContainerName()

    def renderWorkerProps(self, build: Any) -> Any:
        return build.render((self.image, self.marathon_extra_config))

    def _app_definition(self, image: str, extra: dict[str, Any]) -> dict[str, Any]:
        app: dict[str, Any] = {
            "id": self.getApplicationId(),
            "instances": 1,
            "container": {"type": "DOCKER", "docker": {"image": image, "network": "BRIDGE"}},
            "env": self.createEnvironment(),
        }
        dictionary_merge(app, extra)
        return app

    async def start_instance(self, build: Any) -> bool:
        # an app left over by a master that died would keep the id taken
        await self.stop_instance(reportFailure=False)
        image, extra = await self.renderWorkerPropsOnStart(build)
        assert self._http is not None
        res = await self._http.post("/v2/apps", json=self._app_definition(image, extra))
        answer = await _answer(res)
        if res.code != 201:
            raise LatentWorkerFailedToSubstantiate(
                f"Unable to create Marathon app: {self.getApplicationId()} "
                f"{res.code}: {answer.get('message')} {answer}")
        self.instance = answer
        return True

    async def stop_instance(self, fast: bool = False, reportFailure: bool = True) -> None:
        assert self._http is not None
        res = await self._http.delete(f"/v2/apps/{self.getApplicationId()}")
        self.instance = None
        self.resetWorkerPropsOnStop()
        if res.code != 200 and reportFailure:
            answer = await _answer(res)
            log.warn("Unable to delete Marathon app: {id} {code}: {message} {details}",
                     id=self.getApplicationId(), code=res.code,
                     message=answer.get("message"), details=answer)
