"""MarathonLatentWorker against a local HTTP server answering as Marathon's /v2/apps API
(payload shapes of Marathon 1.x); a created app's task is a stock buildbot-worker process
started from the app's environment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.process.results import RETRY, SUCCESS
from buildbot.worker.latent import States
from buildbot.worker.marathon import MarathonLatentWorker
from tests.fixtures.master import running_master
from tests.worker.cloud_fakes import (
    Instances,
    JsonApi,
    basic_auth,
    failing_build,
    payload,
    serving,
)
from tests.worker.masterkit import config, force, free_port, listen, wait_until

pytestmark = pytest.mark.integration


class FakeMarathon(JsonApi):
    def __init__(self, instances: Instances) -> None:
        super().__init__()
        self.instances = instances
        self.apps: dict[str, Any] = {}
        self.invalid = False

    async def handle(self, method: str, path: str, query: dict[str, list[str]],
                     body: Any) -> tuple[int, Any]:
        if method == "POST" and path == "/v2/apps":
            if self.invalid:
                return 422, payload("marathon", "app_invalid")
            app_id = body["id"]
            self.apps[app_id] = body
            await self.instances.start(app_id.replace("/", "-"), body["env"])
            return 201, payload("marathon", "app_created", id=app_id,
                                image=body["container"]["docker"]["image"])
        assert method == "DELETE" and path.startswith("/v2/apps/"), path
        app_id = path[len("/v2/apps/"):]
        if self.apps.pop(app_id, None) is None:
            return 404, payload("marathon", "app_not_found", id=app_id)
        await self.instances.stop(app_id.replace("/", "-"))
        return 200, payload("marathon", "app_deleted")


@pytest_twisted.async_yield_fixture
async def marathon(tmp_path: Path) -> AsyncIterator[tuple[FakeMarathon, str]]:
    instances = Instances(tmp_path / "tasks")
    api = FakeMarathon(instances)
    try:
        async with serving(api) as url:
            yield api, url
    finally:
        await instances.stop_all()


class QuickMarathon(MarathonLatentWorker):
    quarantine_timeout = quarantine_initial_timeout = quarantine_max_timeout = 0.2


@pytest_twisted.ensureDeferred
async def test_a_build_runs_in_a_marathon_app(tmp_path: Path,
                                              marathon: tuple[FakeMarathon, str]) -> None:
    api, url = marathon
    port = free_port()
    mw = MarathonLatentWorker("mw", url, "buildbot/buildbot-worker:4.3.0",
                              marathon_auth=("admin", "pw"), masterFQDN="127.0.0.1",
                              marathon_extra_config={"container": {"docker": {
                                  "network": "HOST"}}, "mem": 512})
    async with running_master(tmp_path / "m", config([mw], port=port)) as master:
        bsid, _ = await force(master)
        _, bs = await listen(master, ("buildsets", str(bsid), "complete"))
        assert bs["results"] == SUCCESS
        await wait_until("app deleted", lambda: not api.apps)
        await wait_until("insubstantiated", lambda: mw.state == States.NOT_SUBSTANTIATED)
    app_id = f"buildbot-worker/buildbot-mw-{mw.masterhash}"
    assert api.calls() == [("DELETE", f"/v2/apps/{app_id}"), ("POST", "/v2/apps"),
                           ("DELETE", f"/v2/apps/{app_id}")]
    assert all(h["authorization"] == basic_auth("admin", "pw") for h in api.headers)
    app = api.requests[1][3]
    assert app == {
        "id": app_id, "instances": 1, "mem": 512,
        "container": {"type": "DOCKER", "docker": {
            "image": "buildbot/buildbot-worker:4.3.0", "network": "HOST"}},
        "env": {"BUILDMASTER": "127.0.0.1", "BUILDMASTER_PORT": str(port),
                "BUILDMASTER_PROTOCOL": "pb", "WORKERNAME": "mw",
                "WORKERPASS": mw.password}}
    assert len(api.instances.started) == 1


@pytest_twisted.ensureDeferred
async def test_marathon_refusing_the_app_fails_the_substantiation(
        tmp_path: Path, marathon: tuple[FakeMarathon, str]) -> None:
    api, url = marathon
    api.invalid = True
    mw = QuickMarathon("mw", url, "", masterFQDN="127.0.0.1")
    build, failed = await failing_build(tmp_path / "m", mw)
    assert build["results"] == RETRY and not api.instances.started
    assert failed and "Unable to create Marathon app: buildbot-worker/buildbot-mw-" \
        in failed[0] and "422: Object is not valid" in failed[0], failed
