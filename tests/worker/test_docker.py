"""DockerLatentWorker against a local twisted.web resource playing the Docker Engine API
(over a unix socket and over TCP), whose containers run stock buildbot-worker processes;
plus the request/response helpers. The test against a real Docker engine is
test_docker_engine.py."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.web import server

from buildbot.config.errors import capture_config_errors
from buildbot.interfaces import LatentWorkerCannotSubstantiate
from buildbot.process.properties import Interpolate, Properties
from buildbot.process.results import SUCCESS
from buildbot.worker.docker import DockerLatentWorker
from buildbot.worker.docker_api import (
    DockerAPIError,
    demultiplex,
    host_config,
    parse_bytes,
    split_image,
    stream_lines,
)
from buildbot.worker.latent import States
from tests.fixtures.master import running_master
from tests.fixtures.reactor import global_reactor
from tests.worker.fake_docker import FakeDocker
from tests.worker.masterkit import config, force, free_port, listen, wait_until

IMAGE = "buildbot/buildbot-worker:latest"


@pytest_twisted.async_yield_fixture
async def docker(tmp_path: Path) -> AsyncIterator[tuple[FakeDocker, str]]:
    """The fake daemon on a unix socket (short path: sockets are limited to ~100 bytes)."""
    reactor = global_reactor()

    sockdir = tempfile.mkdtemp(prefix="dk")
    fake = FakeDocker(tmp_path / "containers")
    port = reactor.listenUNIX(os.path.join(sockdir, "docker.sock"),
                              server.Site(fake))
    try:
        yield fake, f"unix://{sockdir}/docker.sock"
    finally:
        await fake.stop_all()
        await port.stopListening()
        shutil.rmtree(sockdir, ignore_errors=True)


def docker_worker(host: str, name: str = "dw", **kw: Any) -> DockerLatentWorker:
    kw.setdefault("image", IMAGE)
    return DockerLatentWorker(name, None, docker_host=host, masterFQDN="127.0.0.1", **kw)


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_a_build_runs_in_a_container_started_and_removed_through_the_api(
        tmp_path: Path, docker: tuple[FakeDocker, str]) -> None:
    fake, host = docker
    fake.images.append(IMAGE)
    port = free_port()
    dw = docker_worker(host, volumes=["/src:/data:ro"],
                       hostconfig={"network_mode": "host", "mem_limit": "512m"})
    async with running_master(tmp_path / "m", config([dw], port=port)) as master:
        bsid, _ = await force(master)
        _, bs = await listen(master, ("buildsets", str(bsid), "complete"))
        assert bs["results"] == SUCCESS
        # build_wait_timeout is 0 by default: the worker goes away right after the build (the
        # container may be gone a moment before the worker's state says so)
        await wait_until("container removed, worker insubstantiated", lambda: not fake.containers
                         and dw.state == States.NOT_SUBSTANTIATED)
    name = f"buildbot-dw-{dw.masterhash}"
    cid = next(p for m, p, _, _ in fake.requests if m == "POST" and p.endswith("/start"))
    cid = cid.split("/")[2]
    assert fake.calls() == [
        ("GET", "/containers/json"), ("GET", "/images/json"), ("GET", "/images/json"),
        ("POST", "/containers/create"), ("POST", f"/containers/{cid}/start"),
        ("POST", f"/containers/{cid}/stop"), ("POST", f"/containers/{cid}/wait"),
        ("DELETE", f"/containers/{cid}")]
    create = next(r for r in fake.requests if r[1] == "/containers/create")
    assert create[2]["name"] == [name]
    spec = create[3]
    env = dict(e.split("=", 1) for e in spec["Env"])
    assert env == {"BUILDMASTER": "127.0.0.1", "BUILDMASTER_PORT": str(port),
                   "BUILDMASTER_PROTOCOL": "pb", "WORKERNAME": "dw",
                   "WORKERPASS": dw.password}
    assert len(dw.password) == 20  # a random one, as no password was given
    assert (spec["Image"], spec["Volumes"], spec["HostConfig"]) == (
        IMAGE, {"/data": {}}, {"NetworkMode": "host", "Memory": 512 * 1024 ** 2,
                               "Binds": ["/src:/data:ro"], "Init": True})


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_missing_image_is_pulled_built_or_refused(
        tmp_path: Path, docker: tuple[FakeDocker, str]) -> None:
    fake, host = docker
    port = free_port()
    workers = [docker_worker(host, "plain"), docker_worker(host, "pull", autopull=True),
               docker_worker(host, "build", image="local/thing", dockerfile="FROM scratch\n")]
    fake.pullable.add(IMAGE)
    async with running_master(tmp_path / "m", config(workers, port=port)) as master:
        plain, pull, build = workers
        with pytest.raises(LatentWorkerCannotSubstantiate,
                           match=f'Image "{IMAGE}" not found on docker host'):
            await plain._start(plain._make_client(host), IMAGE, None, [], {}, False, "gzip",
                               "", None, None)
        assert not fake.containers
        fake.requests.clear()
        await pull.start_instance(Properties())
        assert ("POST", "/images/create") in fake.calls()
        pulled = next(r for r in fake.requests if r[1] == "/images/create")
        assert (pulled[2]["fromImage"], pulled[2]["tag"]) == (["buildbot/buildbot-worker"],
                                                              ["latest"])
        await pull.stop_instance(fast=True)
        fake.requests.clear()
        await build.start_instance(Properties())
        built = next(r for r in fake.requests if r[1] == "/build")
        assert built[2]["t"] == ["local/thing"]
        with tarfile.open(fileobj=io.BytesIO(built[3])) as tar:
            dockerfile = tar.extractfile("Dockerfile")
            assert dockerfile is not None and dockerfile.read() == b"FROM scratch\n"
        await build.stop_instance()
        assert master is not None


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_check_instance_reports_an_exited_container_with_its_logs(
        tmp_path: Path) -> None:
    reactor = global_reactor()

    fake = FakeDocker(tmp_path / "containers")
    fake.images.append("broken/image:1")
    listening = reactor.listenTCP(0, server.Site(fake),
                                  interface="127.0.0.1")
    host = f"tcp://127.0.0.1:{listening.getHost().port}"
    port = free_port()
    dw = docker_worker(host, image=Interpolate("broken/image:%(prop:tag)s"), version="1.41")
    try:
        async with running_master(tmp_path / "m", config([dw], port=port)):
            props = Properties(tag="1")
            assert dw.shortid is None
            container_id, _ = await dw.start_instance(props)
            assert dw.shortid == container_id[:6] and len(container_id) > 6
            ok, message = await dw.check_instance()
            assert (ok, message) == (False, "logs: \nno output\n")
            # compatibility: only builds rendering the same image may use this container
            assert await dw.isCompatibleWithBuild(Properties(tag="1"))
            assert not await dw.isCompatibleWithBuild(Properties(tag="2"))
            fake.fail_stop_with_404 = True
            await dw.stop_instance()
            assert dw.shortid is None
            assert await dw.isCompatibleWithBuild(Properties(tag="2"))
    finally:
        await listening.stopListening()
    assert all(p.startswith("/v1.41/") for p in fake.raw_paths)
    # a 404 on stop: nothing to wait for, but the removal is still asked
    after_stop = fake.calls()[[p.endswith("/stop") for _, p in fake.calls()].index(True):]
    assert [m for m, _ in after_stop] == ["POST", "DELETE"]


def test_config_errors_name_the_problem() -> None:
    with capture_config_errors() as errors:
        DockerLatentWorker("dw", "pw", docker_host="unix:///x")
        DockerLatentWorker("dw", "pw", docker_host="unix:///x", image="i", volumes=["novol"],
                           hostconfig={"network_mod": "host"})
    assert errors.errors == [
        "DockerLatentWorker: You need to specify at least an image name, or a dockerfile",
        "Invalid volume definition for docker novol. Skipping...",
        "DockerLatentWorker 'dw': unknown hostconfig keys ['network_mod']"]


def test_positional_arguments_bind_as_in_4_3() -> None:
    import inspect

    # checkConfig: buildargs and hostname follow encoding (target is a keyword there)
    bound = inspect.signature(DockerLatentWorker.checkConfig).bind(
        None, "dw", "pw", "unix:///x", "img", None, None, None, None, None, False, None, "pb",
        None, False, False, False, "gzip", {"A": "1"}, "host1", target="stage")
    assert (bound.arguments["buildargs"], bound.arguments["hostname"],
            bound.arguments["target"]) == ({"A": "1"}, "host1", "stage")
    with capture_config_errors() as errors:
        DockerLatentWorker("dw", "pw", "unix:///x", image="i", target="stage",
                           buildargs={"A": "1"}, hostname="h")
    assert errors.errors == []


def test_host_config_translates_docker_py_keywords() -> None:
    assert host_config({
        "network_mode": "bridge", "shm_size": "1g", "port_bindings": {8080: 80,
                                                                      "53/udp": ("::", 53)},
        "extra_hosts": {"db": "10.0.0.2"}, "devices": ["/dev/fuse"], "privileged": True,
        "ulimits": [{"name": "nofile", "soft": 1024, "hard": 2048}], "links": {"a": "b"},
        "tmpfs": ["/run:size=64m"], "Dns": ["1.1.1.1"], "cap_add": None,
    }) == {
        "NetworkMode": "bridge", "ShmSize": 1024 ** 3,
        "PortBindings": {"8080/tcp": [{"HostIp": "", "HostPort": "80"}],
                         "53/udp": [{"HostIp": "::", "HostPort": "53"}]},
        "ExtraHosts": ["db:10.0.0.2"],
        "Devices": [{"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse",
                     "CgroupPermissions": "rwm"}],
        "Privileged": True, "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}],
        "Links": ["a:b"], "Tmpfs": {"/run": "size=64m"}, "Dns": ["1.1.1.1"]}
    assert parse_bytes("512m") == 512 * 1024 ** 2 and parse_bytes(10) == 10
    with pytest.raises(ValueError):
        host_config({"bogus": 1})


def test_stream_and_log_helpers() -> None:
    assert split_image("registry:5000/team/img") == ("registry:5000/team/img", "latest")
    assert split_image("img:3.1") == ("img", "3.1")
    assert stream_lines(b'{"stream":"a\\nb\\n"}\r\n{"status":"c"}\r\n') == ["a", "b", "c"]
    with pytest.raises(DockerAPIError, match="no space left"):
        stream_lines(b'{"stream":"x"}\n{"error":"no space left"}\n')
    framed = b"\x01\0\0\0\0\0\0\x03out" + b"\x02\0\0\0\0\0\0\x03err"
    assert demultiplex(framed) == b"outerr"
    assert demultiplex(b"plain tty output") == b"plain tty output"


def test_master_address_follows_an_overridden_fqdn() -> None:
    from buildbot.worker.docker import DockerBaseWorker

    class Named(DockerBaseWorker):
        @staticmethod
        def get_fqdn() -> str:
            return "localhost"

    assert Named.get_ip() == "127.0.0.1"
