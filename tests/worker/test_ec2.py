"""EC2LatentWorker against a local moto server (boto3's calls really go over HTTP to an
EC2 API implementation): on-demand and spot instances, key pair and security group
creation, tags and volumes, AWS errors. moto runs no machines: when an instance is
running, the test starts a stock buildbot-worker process from the instance's user data,
as the AMI's boot would."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, protocol

from buildbot.config.errors import capture_config_errors
from buildbot.plugins import worker
from buildbot.process.results import RETRY, SUCCESS
from buildbot.worker.ec2 import EC2LatentWorker
from buildbot.worker.latent import States
from tests.fixtures.master import running_master
from tests.fixtures.reactor import global_reactor
from tests.worker.cloud_fakes import Instances, failing_build, master_log
from tests.worker.masterkit import config, force, free_port, listen, wait_until

boto3 = pytest.importorskip("boto3", reason="boto3 not installed (the EC2 extra)")
MOTO = shutil.which("moto_server") or os.path.join(os.path.dirname(sys.executable),
                                                   "moto_server")

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not os.path.exists(MOTO),
                                 reason="moto_server not installed (pip install "
                                        "'moto[server]')")]


class _Moto(protocol.ProcessProtocol):
    def __init__(self) -> None:
        self.listening: defer.Deferred[None] = defer.Deferred()
        self.ended: defer.Deferred[None] = defer.Deferred()
        self.output = b""

    def childDataReceived(self, fd: int, data: bytes) -> None:
        self.output += data
        if b"Running on" in self.output and not self.listening.called:
            self.listening.callback(None)

    def processEnded(self, reason: Any) -> None:
        if not self.listening.called:
            self.listening.errback(RuntimeError(f"moto_server exited: {self.output!r}"))
        self.ended.callback(None)


@pytest_twisted.async_yield_fixture
async def moto(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """A moto server; boto3 sessions made meanwhile talk to it. Yields an EC2 resource."""
    reactor = global_reactor()

    port = free_port()
    proto = _Moto()
    process = reactor.spawnProcess(
        proto, MOTO, [MOTO, "-H", "127.0.0.1", "-p", str(port)], env=dict(os.environ))
    try:
        await proto.listening
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        for key, value in (("AWS_ACCESS_KEY_ID", "testing"),
                           ("AWS_SECRET_ACCESS_KEY", "testing"),
                           ("AWS_DEFAULT_REGION", "us-east-1")):
            monkeypatch.setenv(key, value)
        yield boto3.Session(region_name="us-east-1").resource("ec2")
    finally:
        process.signalProcess("TERM")
        await proto.ended


def user_data(port: int, name: str = "ew") -> str:
    return f"BUILDMASTER_PORT={port} WORKERNAME={name} WORKERPASS=pw"


class BootingEC2(EC2LatentWorker):
    """Boots the instance's worker (a local process) once EC2 says it runs."""

    _poll_resolution = 0.1
    quarantine_timeout = quarantine_initial_timeout = quarantine_max_timeout = 0.2
    machines: Instances

    async def start_instance(self, build: Any) -> Any:
        started = await super().start_instance(build)
        env = dict(item.split("=", 1) for item in self.user_data.split())
        await self.machines.start(self.instance.id, env)
        return started

    async def stop_instance(self, fast: bool = False) -> None:
        if self.instance is not None:
            await self.machines.stop(self.instance.id)
        await super().stop_instance(fast)


def ec2_worker(tmp_path: Path, port: int, **kw: Any) -> BootingEC2:
    kw.setdefault("ami", None if "valid_ami_owners" in kw else "ami-03cf127a")
    kw.setdefault("security_name", "buildbot-sg")
    w = BootingEC2("ew", "pw", "t2.micro", keypair_name="buildbot",
                   user_data=user_data(port), build_wait_timeout=0, **kw)
    w.machines = Instances(tmp_path / "instances")
    return w


async def run_one_build(tmp_path: Path, ew: BootingEC2, port: int) -> None:
    try:
        with master_log() as lines:
            async with running_master(tmp_path / "m", config([ew], port=port)) as master:
                bsid, _ = await force(master)
                try:
                    _, bs = await listen(master, ("buildsets", str(bsid), "complete"))
                except AssertionError:
                    raise AssertionError("\n".join(lines)) from None
                assert bs["results"] == SUCCESS
                await wait_until("insubstantiated",
                                 lambda: ew.state == States.NOT_SUBSTANTIATED)
    finally:
        await ew.machines.stop_all()


@pytest_twisted.ensureDeferred
async def test_a_build_runs_on_an_on_demand_instance(tmp_path: Path, moto: Any) -> None:
    port = free_port()
    ew = ec2_worker(tmp_path, port, tags={"team": "ci"})
    await run_one_build(tmp_path, ew, port)
    instances = list(moto.instances.all())
    assert len(instances) == 1 and ew.machines.started == [instances[0].id]
    instance = instances[0]
    assert instance.state["Name"] == "terminated"
    assert (instance.image_id, instance.instance_type, instance.key_name) == (
        "ami-03cf127a", "t2.micro", "buildbot")
    assert {t["Key"]: t["Value"] for t in instance.tags} == {"team": "ci"}
    # created on first use
    assert moto.KeyPair("buildbot").key_name == "buildbot"
    assert [g.group_name for g in moto.security_groups.filter(GroupNames=["buildbot-sg"])] \
        == ["buildbot-sg"]
    assert ew.properties.getProperty("instance") == instance.id


@pytest_twisted.ensureDeferred
async def test_a_build_runs_on_a_spot_instance_of_an_image_found_by_owner(
        tmp_path: Path, moto: Any) -> None:
    port = free_port()
    image = moto.meta.client.register_image(Name="worker")["ImageId"]
    # (no price_multiplier: moto's day of price history takes seconds to list)
    ew = ec2_worker(tmp_path, port, spot_instance=True, max_spot_price=0.5,
                    price_multiplier=None, valid_ami_owners=[123456789012])
    await run_one_build(tmp_path, ew, port)
    requests = moto.meta.client.describe_spot_instance_requests()["SpotInstanceRequests"]
    assert len(requests) == 1
    assert float(requests[0]["SpotPrice"]) == 0.5
    assert requests[0]["LaunchSpecification"]["ImageId"] == image
    assert ew.machines.started == [requests[0]["InstanceId"]]
    assert moto.Instance(requests[0]["InstanceId"]).state["Name"] == "terminated"


@pytest_twisted.ensureDeferred
async def test_an_aws_error_fails_the_substantiation_naming_it(tmp_path: Path,
                                                                moto: Any) -> None:
    ew = ec2_worker(tmp_path, free_port(), security_name=None, subnet_id="subnet-deadbeef")
    try:
        build, failed = await failing_build(tmp_path / "m", ew)
    finally:
        await ew.machines.stop_all()
    assert build["results"] == RETRY and not ew.machines.started
    assert failed and "AWS error" in failed[0] and "subnet-deadbeef" in failed[0], failed


def test_config_errors() -> None:
    with capture_config_errors() as errors:
        worker.EC2LatentWorker("w", "pw", "t2.micro", ami="ami-1")
    assert errors.errors == ["EC2LatentWorker: 'keypair_name' parameter must be specified",
                             "EC2LatentWorker: 'security_name' parameter must be specified"]
    with pytest.raises(ValueError, match="either a specific ami"):
        worker.EC2LatentWorker("w", "pw", "t2.micro", keypair_name="k", security_name="s")
    with pytest.raises(ValueError, match="region does not exist"):
        worker.EC2LatentWorker("w", "pw", "t2.micro", ami="ami-1", keypair_name="k",
                               security_name="s", region="mars-north-1")


def test_ec2_settings_travel_as_keywords_under_the_latent_signature() -> None:
    import inspect

    w = worker.EC2LatentWorker("ew", "pw", "t2.micro", "ami-1", keypair_name="k",
                               security_name="s", build_wait_timeout=0)
    assert w._config_args == ("ew", "pw")
    assert w._config_kwargs == {"instance_type": "t2.micro", "ami": "ami-1",
                                "keypair_name": "k", "security_name": "s",
                                "build_wait_timeout": 0}
    # 4.3's (inherited) signature: build_wait_timeout is the third positional parameter
    assert list(inspect.signature(w.reconfigService).parameters)[:4] == [
        "name", "password", "build_wait_timeout", "check_instance_interval"]
    with pytest.raises(TypeError):
        worker.EC2LatentWorker("ew", "pw")  # instance_type is required, as in 4.3


@pytest_twisted.ensureDeferred
async def test_a_subclass_written_for_4_3_reconfigures_through_super(
        tmp_path: Path) -> None:
    seen: list[Any] = []

    class Mine(EC2LatentWorker):
        async def reconfigService(  # type: ignore[override]  # as a 4.3 subclass writes it
                self, name: str, password: Any, build_wait_timeout: float = 600,
                **kwargs: Any) -> None:
            seen.append((build_wait_timeout, kwargs["instance_type"]))
            await super().reconfigService(name, password, build_wait_timeout, **kwargs)

    w = Mine("ew", "pw", "t2.micro", ami="ami-1", keypair_name="k", security_name="s",
             region="us-east-1", identifier="id", secret_identifier="sec",
             build_wait_timeout=5)
    w.master = None
    await w.reconfigService(*w._config_args, **w._config_kwargs)
    assert seen == [(5, "t2.micro")]
    assert (w.instance_type, w.build_wait_timeout, w.keypair_name) == ("t2.micro", 5, "k")
