"""UpcloudLatentWorker against a local HTTP server answering as UpCloud's API 1.3 (its
documented payloads: storage templates, servers, errors); a created server boots a stock
buildbot-worker process configured from the server's user_data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.process.results import RETRY, SUCCESS
from buildbot.worker.latent import States
from buildbot.worker.upcloud import UpcloudLatentWorker
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

UUID = "00798b85-efdc-41ca-8021-f6ef457b8531"


class FakeUpcloud(JsonApi):
    """One server at most; it is in maintenance for one poll after creation."""

    def __init__(self, instances: Instances) -> None:
        super().__init__()
        self.instances = instances
        self.server: dict[str, Any] | None = None
        self.no_credit = False

    def _server(self) -> dict[str, Any]:
        assert self.server is not None
        return payload("upcloud", "server", **self.server)

    async def handle(self, method: str, path: str, query: dict[str, list[str]],
                     body: Any) -> tuple[int, Any]:
        assert path.startswith("/1.3/"), path
        path = path[4:]
        if (method, path) == ("GET", "/storage/template"):
            return 200, payload("upcloud", "templates")
        if (method, path) == ("POST", "/server"):
            if self.no_credit:
                return 402, payload("upcloud", "error", code="INSUFFICIENT_CREDITS",
                                    message="Your account does not have enough credits.")
            spec = body["server"]
            self.server = {"hostname": spec["hostname"], "title": spec["title"],
                           "state": "maintenance"}
            env = dict(line.split("=", 1) for line in spec["user_data"].split())
            await self.instances.start("server", env)
            return 202, self._server()
        if self.server is None or not path.startswith(f"/server/{UUID}"):
            return 404, payload("upcloud", "error", code="SERVER_NOT_FOUND",
                                message=f"The server {UUID} does not exist.")
        answer = self._server()
        if method == "GET":
            if self.server["state"] == "maintenance":
                self.server["state"] = "started"
            return 200, answer
        if method == "POST" and path.endswith("/stop"):
            await self.instances.stop("server")
            self.server["state"] = "stopped"
            return 202, answer
        assert method == "DELETE" and query == {"storages": ["1"]}, (method, query)
        self.server = None
        return 204, None


@pytest_twisted.async_yield_fixture
async def upcloud(tmp_path: Path) -> AsyncIterator[tuple[FakeUpcloud, str]]:
    instances = Instances(tmp_path / "servers")
    api = FakeUpcloud(instances)
    try:
        async with serving(api) as url:
            yield api, url + "/1.3"
    finally:
        await instances.stop_all()


class QuickUpcloud(UpcloudLatentWorker):
    quarantine_timeout = quarantine_initial_timeout = quarantine_max_timeout = 0.2


def upcloud_worker(url: str, port: int, cls: Any = UpcloudLatentWorker,
                   image: str = "Debian GNU/Linux 12 (Bookworm)") -> Any:
    # what a cloud-init script would hand to buildbot-worker on the server
    user_data = f"BUILDMASTER_PORT={port} WORKERNAME=uw WORKERPASS=pw"
    return cls("uw", "pw", api_username="api", api_password="s3cr3t", image=image,
               base_url=url, hostconfig={"user_data": user_data, "plan": "custom",
                                         "memory_amount": 2048},
               build_wait_timeout=0)


@pytest_twisted.ensureDeferred
async def test_a_build_runs_on_an_upcloud_server(tmp_path: Path,
                                                 upcloud: tuple[FakeUpcloud, str]) -> None:
    api, url = upcloud
    port = free_port()
    uw = upcloud_worker(url, port)
    async with running_master(tmp_path / "m", config([uw], port=port)) as master:
        bsid, _ = await force(master)
        _, bs = await listen(master, ("buildsets", str(bsid), "complete"))
        assert bs["results"] == SUCCESS
        # the worker may connect (and build) before the server's state polling says
        # "started", which is when the worker records the password
        await wait_until("the root password property", lambda: uw.properties.getProperty(
            "root_password") == "aNzk8Ub5")
        await wait_until("server deleted", lambda: api.server is None
                         and uw.state == States.NOT_SUBSTANTIATED)
    server = f"/1.3/server/{UUID}"
    calls = api.calls()
    assert calls[:3] == [("GET", "/1.3/storage/template"), ("POST", "/1.3/server"),
                         ("GET", server)]
    assert calls[-3:] == [("POST", server + "/stop"), ("GET", server),
                          ("DELETE", server)]
    assert all(h["authorization"] == basic_auth("api", "s3cr3t") for h in api.headers)
    request = api.requests[1][3]["server"]
    assert request["storage_devices"]["storage_device"] == [{
        "action": "clone", "storage": "01000000-0000-4000-8000-000020070100",
        "title": f"buildbot-uw-{uw.masterhash}", "size": 10, "tier": "maxiops"}]
    assert (request["zone"], request["plan"], request["core_number"],
            request["memory_amount"], request["hostname"]) == (
        "de-fra1", "custom", 1, 2048, "uw")


@pytest_twisted.ensureDeferred
async def test_unknown_template_and_api_errors_fail_the_substantiation(
        tmp_path: Path, upcloud: tuple[FakeUpcloud, str]) -> None:
    api, url = upcloud
    build, failed = await failing_build(tmp_path / "m1", upcloud_worker(
        url, free_port(), QuickUpcloud, image="Plan 9"))
    assert build["results"] == RETRY and failed and "resolving image" in failed[0]
    api.no_credit = True
    build, failed = await failing_build(tmp_path / "m2", upcloud_worker(
        url, free_port(), QuickUpcloud))
    assert build["results"] == RETRY and failed and "starting" in failed[0]
    assert not api.instances.started
