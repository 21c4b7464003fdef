"""KubeLatentWorker against a local twisted.web server implementing the pod calls it makes
(create, delete, read status) with the API server's payload shapes; a created pod is a
stock buildbot-worker process started from the pod's container environment. Also the
config loaders of buildbot.util.kubeclientservice."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.config.errors import capture_config_errors
from buildbot.plugins import util, worker
from buildbot.process.results import RETRY, SUCCESS
from buildbot.util import kubeclientservice
from buildbot.worker.kubernetes import KubeLatentWorker
from buildbot.worker.latent import States
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


class FakeKube(JsonApi):
    """Pods of one API server; `refuse_create` answers creations with 403, `crash` makes
    created pods fail at once (their worker never starts)."""

    def __init__(self, instances: Instances) -> None:
        super().__init__()
        self.instances = instances
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.refuse_create = False
        self.crash = False

    async def handle(self, method: str, path: str, query: dict[str, list[str]],
                     body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        assert parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods", path
        ns = parts[3]
        if method == "POST" and len(parts) == 5:
            name = body["metadata"]["name"]
            if self.refuse_create:
                return 403, payload("kubernetes", "status_forbidden", namespace=ns)
            pod = payload("kubernetes", "pod", name=name, namespace=ns)
            pod["spec"] = body["spec"]
            self.pods[(ns, name)] = pod
            if self.crash:
                pod["status"] = payload("kubernetes", "status_failed_pod", name=name)
            else:
                env = {e["name"]: e["value"] for e in body["spec"]["containers"][0]["env"]}
                await self.instances.start(name, env)
            return 201, pod
        name = parts[5]
        pod = self.pods.get((ns, name))
        if pod is None:
            return 404, payload("kubernetes", "status_not_found", name=name)
        if method == "DELETE":
            del self.pods[(ns, name)]
            await self.instances.stop(name)
            return 200, pod
        assert method == "GET" and parts[6:] == ["status"], path
        return 200, pod


@pytest_twisted.async_yield_fixture
async def kube(tmp_path: Path) -> AsyncIterator[tuple[FakeKube, str]]:
    instances = Instances(tmp_path / "pods")
    api = FakeKube(instances)
    try:
        async with serving(api) as url:
            yield api, url
    finally:
        await instances.stop_all()


class QuickKube(KubeLatentWorker):
    quarantine_timeout = quarantine_initial_timeout = quarantine_max_timeout = 0.2


def kube_worker(url: str, cls: Any = worker.KubeLatentWorker, **kw: Any) -> Any:
    loader = kw.pop("kube_config", None) or util.KubeHardcodedConfig(
        master_url=url, bearerToken="s3cr3t", namespace="ci")
    return cls("kw", image="buildbot/buildbot-worker:4.3.0", masterFQDN="127.0.0.1",
               kube_config=loader, **kw)


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_a_build_runs_in_a_pod_created_and_deleted_through_the_api(
        tmp_path: Path, kube: tuple[FakeKube, str]) -> None:
    api, url = kube
    port = free_port()
    kw = kube_worker(url)
    async with running_master(tmp_path / "m", config([kw], port=port)) as master:
        bsid, _ = await force(master)
        _, bs = await listen(master, ("buildsets", str(bsid), "complete"))
        assert bs["results"] == SUCCESS
        # build_wait_timeout defaults to 0: the pod goes right after the build
        await wait_until("pod deleted", lambda: not api.pods)
        await wait_until("insubstantiated", lambda: kw.state == States.NOT_SUBSTANTIATED)
        from buildbot.process.properties import Properties

        # what a build would render (by keyword, 4.3's parameter name)
        rendered = await kw.renderWorkerProps(build_props=Properties())
        assert kw.shortid is None  # a pod, not a Docker container
    name = f"buildbot-kw-{kw.masterhash}"
    pod_path = f"/api/v1/namespaces/ci/pods/{name}"
    assert api.calls() == [
        # a pod left over from a previous master goes first
        ("DELETE", pod_path), ("GET", pod_path + "/status"),
        ("POST", "/api/v1/namespaces/ci/pods"),
        ("DELETE", pod_path), ("GET", pod_path + "/status")]
    assert all(h["authorization"] == "Bearer s3cr3t" for h in api.headers)
    assert api.requests[0][2] == {"graceperiod": ["0"]}
    spec = api.requests[2][3]
    container = spec["spec"]["containers"][0]
    assert (spec["kind"], spec["metadata"], spec["spec"]["restartPolicy"]) == (
        "Pod", {"name": name}, "Never")
    assert container["image"] == "buildbot/buildbot-worker:4.3.0"
    assert rendered == spec
    assert {e["name"]: e["value"] for e in container["env"]} == {
        "BUILDMASTER": "127.0.0.1", "BUILDMASTER_PORT": str(port),
        "BUILDMASTER_PROTOCOL": "pb", "WORKERNAME": "kw", "WORKERPASS": kw.password}
    assert api.instances.started == [name]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_an_api_error_fails_the_substantiation_with_the_servers_message(
        tmp_path: Path, kube: tuple[FakeKube, str]) -> None:
    api, url = kube
    api.refuse_create = True
    kw = kube_worker(url, QuickKube)
    build, failed = await failing_build(tmp_path / "m", kw)
    assert build["results"] == RETRY and kw.substantiation_failures >= 1
    assert not api.instances.started
    assert failed and 'User "system:serviceaccount:default:buildbot" cannot create ' \
        'resource "pods"' in failed[0], failed


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_a_pod_that_fails_before_connecting_is_noticed_by_the_instance_check(
        tmp_path: Path, kube: tuple[FakeKube, str]) -> None:
    api, url = kube
    api.crash = True
    kw = kube_worker(url, QuickKube, check_instance_interval=0.2, missing_timeout=60)
    build, failed = await failing_build(tmp_path / "m", kw)
    assert build["results"] == RETRY
    assert failed and "pod failed (Error)" in failed[0], failed
    assert not api.pods and kw.substantiation_failures >= 1


def test_config_loaders() -> None:
    hard = util.KubeHardcodedConfig(master_url="https://k8s:6443", namespace="ci",
                                    basicAuth={"user": "u", "password": "p"},
                                    headers={"X-A": "1"}, verify="/ca.crt")
    assert hard.getConfig() == {"master_url": "https://k8s:6443", "namespace": "ci",
                                "headers": {"X-A": "1"}, "verify": "/ca.crt"}
    assert hard.get_master_url() == "https://k8s:6443"
    with pytest.raises(RuntimeError, match="not both"):
        util.KubeHardcodedConfig(master_url="x", bearerToken="t", basicAuth={"user": "u"})
    proxy = util.KubeCtlProxyConfigLoader(proxy_port=8999, namespace="n")
    assert proxy.getConfig() == {"master_url": "http://localhost:8999", "namespace": "n"}
    # not inside a cluster here: a config error once a worker uses the loader, 4.3's text
    with capture_config_errors() as errors:
        kube_worker("http://x", kube_config=util.KubeInClusterConfigLoader())
    assert errors.errors == ["Not in kubernetes cluster (kube_dir not found: "
                             "/var/run/secrets/kubernetes.io/serviceaccount/)"]
    assert basic_auth("u", "p").startswith("Basic ")


@pytest_twisted.ensureDeferred
async def test_basic_auth_header() -> None:
    hard = util.KubeHardcodedConfig(master_url="http://k", basicAuth={"user": "u",
                                                                       "password": "p"})
    # 4.3 formats the base64 bytes object; kept so servers see the same header
    assert await hard.getAuthorization() == "Basic b'dTpw'"


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_kubectl_proxy_loader_runs_the_proxy_while_started(tmp_path: Path) -> None:
    script = tmp_path / "kubectl.py"
    script.write_text("import sys, time\nprint('Starting to serve on 127.0.0.1:' + "
                      "sys.argv[-1], flush=True)\ntime.sleep(60)\n")
    loader = util.KubeCtlProxyConfigLoader(proxy_port=8123)
    loader.kube_ctl_proxy_cmd = [sys.executable, str(script)]
    await loader.startService()
    assert loader.kube_proxy_output == b"Starting to serve on 127.0.0.1:8123"
    process = loader.process
    await loader.stopService()
    assert process.pid is None  # reaped
    assert kubeclientservice.KubeClientService.__name__ == "KubeClientService"
