"""OpenStackLatentWorker with the real novaclient and keystoneauth1 against a local HTTP
server answering as Keystone v3, Nova (v2.1) and Glance (v2) with their payload shapes;
a created server boots a stock buildbot-worker process configured from its metadata."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.config.errors import capture_config_errors
from buildbot.process.results import RETRY, SUCCESS
from buildbot.worker.latent import States
from tests.fixtures.master import running_master
from tests.worker.cloud_fakes import Instances, JsonApi, failing_build, payload, serving
from tests.worker.masterkit import config, force, free_port, listen, wait_until

pytest.importorskip("novaclient", reason="python-novaclient not installed (the openstack "
                                         "extra)")
pytest.importorskip("keystoneauth1", reason="keystoneauth1 not installed")

from buildbot.worker.openstack import OpenStackLatentWorker  # noqa: E402

pytestmark = pytest.mark.integration


class FakeOpenStack(JsonApi):
    """Keystone, Nova and Glance under /identity, /compute/v2.1 and /image. A server is
    in BUILD for one read, then ACTIVE; `quota` refuses creations as Nova does."""

    def __init__(self, instances: Instances) -> None:
        super().__init__()
        self.instances = instances
        self.base = ""
        self.servers: dict[str, dict[str, Any]] = {}
        self.quota = False

    def _server(self, sid: str) -> dict[str, Any]:
        s = self.servers[sid]
        answer = payload("openstack", "server", id=sid, base=self.base, name=s["name"],
                         status=s["status"])
        answer["server"]["metadata"] = s["metadata"]
        return answer["server"]

    async def handle(self, method: str, path: str, query: dict[str, list[str]],
                     body: Any) -> tuple[Any, ...]:
        if path.rstrip("/") == "/identity/v3":
            return 200, payload("openstack", "identity_v3", base=self.base)
        if path == "/identity/v3/auth/tokens":
            assert body["auth"]["identity"]["password"]["user"]["password"] == "s3cr3t"
            return (201, payload("openstack", "token", base=self.base),
                    {"X-Subject-Token": "gAAAAABm-token"})
        if path.startswith("/image/v2/images"):
            return 200, payload("openstack", "images")
        assert path.startswith("/compute/v2.1"), path
        path = path[len("/compute/v2.1"):]
        if path == "/flavors/detail":
            return 200, payload("openstack", "flavors")
        if method == "POST" and path == "/servers":
            if self.quota:
                return 403, payload("openstack", "error", kind="forbidden", code=403,
                                    message="Quota exceeded for instances: Requested 1, "
                                            "but already used 10 of 10 instances")
            spec = body["server"]
            sid = str(uuid.uuid4())
            self.servers[sid] = {"name": spec["name"], "status": "BUILD",
                                 "metadata": spec["metadata"], "spec": spec}
            await self.instances.start(sid, spec["metadata"])
            return 202, payload("openstack", "server_created", id=sid, base=self.base)
        if method == "GET" and path in ("/servers", "/servers/detail"):
            wanted = query.get("name", [None])[0]
            return 200, {"servers": [self._server(sid) for sid, s in self.servers.items()
                                     if wanted is None or s["name"] == wanted]}
        sid = path.split("/")[2]
        if sid not in self.servers:
            return 404, payload("openstack", "error", kind="itemNotFound", code=404,
                                message="Instance could not be found")
        if method == "DELETE":
            del self.servers[sid]
            await self.instances.stop(sid)
            return 204, None
        answer = self._server(sid)
        self.servers[sid]["status"] = "ACTIVE"
        return 200, {"server": answer}


@pytest_twisted.async_yield_fixture
async def openstack(tmp_path: Path) -> AsyncIterator[tuple[FakeOpenStack, str]]:
    instances = Instances(tmp_path / "servers")
    api = FakeOpenStack(instances)
    try:
        async with serving(api) as url:
            api.base = url
            yield api, url
    finally:
        await instances.stop_all()


class QuickOpenStack(OpenStackLatentWorker):
    _poll_resolution = 0.1
    quarantine_timeout = quarantine_initial_timeout = quarantine_max_timeout = 0.2


def os_worker(url: str, port: int) -> QuickOpenStack:
    # what the image's boot script reads from the metadata service
    meta = {"BUILDMASTER_PORT": str(port), "WORKERNAME": "ow", "WORKERPASS": "pw"}
    return QuickOpenStack("ow", "pw", flavor="m1.small", image="buildbot-worker",
                          os_username="buildbot", os_password="s3cr3t", os_tenant_name="ci",
                          os_auth_url=f"{url}/identity/v3", os_user_domain="Default",
                          os_project_domain="Default", meta=meta, build_wait_timeout=0)


@pytest_twisted.ensureDeferred
async def test_a_build_runs_on_an_openstack_server(
        tmp_path: Path, openstack: tuple[FakeOpenStack, str]) -> None:
    api, url = openstack
    port = free_port()
    ow = os_worker(url, port)
    async with running_master(tmp_path / "m", config([ow], port=port)) as master:
        bsid, _ = await force(master)
        _, bs = await listen(master, ("buildsets", str(bsid), "complete"))
        assert bs["results"] == SUCCESS
        await wait_until("server deleted", lambda: not api.servers
                         and ow.state == States.NOT_SUBSTANTIATED)
    create = next(b for m, p, _, b in api.requests
                  if m == "POST" and p == "/compute/v2.1/servers")["server"]
    assert (create["name"], create["imageRef"], create["flavorRef"]) == (
        "ow", "1bea47ed-f6a9-463b-b423-14b9cca9ad27", "2")
    assert create["metadata"]["BUILDBOT:instance"] == ow.masterhash
    assert len(api.instances.started) == 1
    calls = [c for c in api.calls() if c[1].startswith("/compute")]
    assert ("GET", "/compute/v2.1/servers") in calls  # leftovers looked for
    assert calls[-1][0] == "DELETE"


@pytest_twisted.ensureDeferred
async def test_a_nova_error_fails_the_substantiation(
        tmp_path: Path, openstack: tuple[FakeOpenStack, str]) -> None:
    api, url = openstack
    api.quota = True
    build, failed = await failing_build(tmp_path / "m", os_worker(url, free_port()))
    assert build["results"] == RETRY and not api.instances.started
    assert failed and "Quota exceeded for instances" in failed[0], failed


def test_config_errors() -> None:
    with capture_config_errors() as errors:
        OpenStackLatentWorker("w", "pw", flavor=1, image="i")
    assert errors.errors == [
        "Missing os_auth_url OpenStackLatentWorker and os_auth_args not provided.",
        "Missing os_username / os_password for OpenStackLatentWorker and os_auth_args "
        "not provided."]
    with pytest.raises(ValueError, match="One of block_devices or image must be given"):
        OpenStackLatentWorker("w", "pw", flavor=1, os_auth_args={"auth_url": "x"})
