"""DockerLatentWorker against a real Docker engine: the running one (DOCKER_HOST or
/var/run/docker.sock), or a private `dockerd --storage-driver=vfs --iptables=false
--bridge=none` this test session starts (Debian's docker.io, as root) and stops.

No image registry is reachable, so the worker image is made locally with `docker import`:
a tiny file system holding a start script, whose Python and buildbot-worker are this
machine's, bind-mounted read-only (the interpreter and the test virtualenv). Its tag is a
hash of its content and of those paths, so a daemon that already has it reuses it. The
container runs with host networking and connects to the master on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_twisted

from buildbot.process.results import SUCCESS
from buildbot.worker.docker import DockerLatentWorker
from buildbot.worker.latent import States
from tests.fixtures.master import running_master
from tests.worker.masterkit import config, force, free_port, listen, wait_until

pytestmark = pytest.mark.integration

DOCKER = shutil.which("docker", path="/usr/bin:/usr/local/bin")
DOCKERD = shutil.which("dockerd", path="/usr/sbin:/usr/bin:/usr/local/bin")
PYTHON = os.path.realpath(sys.executable)
VENV = Path(sys.executable).parent.parent
# what the container borrows from this machine: the interpreter, its libraries, the venv
MOUNTS = sorted({"/usr", "/lib", "/lib64", str(Path(PYTHON).parents[1]), str(VENV)})

START = """\
import os, subprocess, sys
env = os.environ
basedir = "/tmp/worker"
worker = [sys.executable, os.path.join(sys.prefix, "bin", "buildbot-worker")]
subprocess.run([*worker, "create-worker", "-q", "--keepalive=0", basedir,
                f"{env['BUILDMASTER']}:{env['BUILDMASTER_PORT']}", env["WORKERNAME"],
                env["WORKERPASS"]], check=True)
os.execv(sys.executable, [*worker, "start", "--nodaemon", basedir])
"""


def _engine_answers(host: str) -> bool:
    if DOCKER is None:
        return False
    probe = subprocess.run([DOCKER, "-H", host, "version"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[str]:
    """The Docker host to use; skips when there is no engine and none can be started."""
    for host in (os.environ.get("DOCKER_HOST"), "unix:///var/run/docker.sock"):
        if host and (not host.startswith("unix://") or os.path.exists(host[7:])) \
                and _engine_answers(host):
            yield host
            return
    if DOCKERD is None or DOCKER is None or os.geteuid() != 0:
        pytest.skip("no Docker engine running, and dockerd (Debian: docker.io) cannot be "
                    "started here (not installed, or not root)")
    rundir = tempfile.mkdtemp(prefix="dkd")  # short: unix socket paths are limited
    host = f"unix://{rundir}/docker.sock"
    data = Path(tempfile.gettempdir()) / "buildbot-tests-dockerd"  # images kept between runs
    daemon = subprocess.Popen(
        [DOCKERD, "--storage-driver=vfs", "--iptables=false", "--bridge=none",
         "--host", host, "--data-root", str(data), "--exec-root", f"{rundir}/exec",
         "--pidfile", f"{rundir}/docker.pid"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert daemon.stderr is not None
        seen = []
        for line in daemon.stderr:  # its log says when the API listens
            seen.append(line)
            if "API listen on" in line:
                break
        else:
            pytest.skip(f"dockerd did not start: {''.join(seen[-5:])}")
        yield host
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
        # dockerd leaves its network namespace mounted
        subprocess.run(["umount", f"{rundir}/exec/netns/default"], capture_output=True,
                       check=False)
        shutil.rmtree(rundir, ignore_errors=True)


def _image_tar() -> tuple[bytes, str]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("tmp", "etc"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if name == "tmp" else 0o755
            tar.addfile(info)
        script = START.encode()
        info = tarfile.TarInfo("start.py")
        info.size, info.mode = len(script), 0o755
        tar.addfile(info, io.BytesIO(script))
    content = buf.getvalue()
    key = hashlib.sha256(content + repr((MOUNTS, PYTHON)).encode()).hexdigest()[:12]
    return content, f"buildbot-test-worker:{key}"


@pytest.fixture(scope="session")
def worker_image(docker_engine: str) -> str:
    assert DOCKER is not None
    content, tag = _image_tar()
    found = subprocess.run([DOCKER, "-H", docker_engine, "image", "inspect", tag],
                           capture_output=True, check=False)
    if found.returncode != 0:
        subprocess.run([DOCKER, "-H", docker_engine, "import",
                        "--change", f'CMD ["{VENV}/bin/python", "/start.py"]', "-", tag],
                       input=content, capture_output=True, check=True)
    return tag


@pytest_twisted.ensureDeferred
async def test_a_build_in_a_real_docker_container(tmp_path: Path, docker_engine: str,
                                                  worker_image: str) -> None:
    port = free_port()
    dw = DockerLatentWorker("dw", None, docker_host=docker_engine, image=worker_image,
                            masterFQDN="127.0.0.1", hostconfig={"network_mode": "host"},
                            volumes=[f"{m}:{m}:ro" for m in MOUNTS])
    async with running_master(tmp_path / "m", config([dw], port=port)) as master:
        bsid, _ = await force(master)
        _, bs = await listen(master, ("buildsets", str(bsid), "complete"), timeout=120)
        assert bs["results"] == SUCCESS
        await wait_until("container removed", lambda: dw.state == States.NOT_SUBSTANTIATED,
                         timeout=60)
    assert DOCKER is not None
    left = subprocess.run([DOCKER, "-H", docker_engine, "ps", "-aq", "--filter",
                           f"name=buildbot-dw-{dw.masterhash}"], capture_output=True,
                          check=True, text=True)
    assert left.stdout.strip() == ""  # stopped and removed
