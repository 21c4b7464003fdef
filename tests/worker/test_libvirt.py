"""LibVirtWorker against libvirt's built-in test driver (`test:///<node.xml>`: a host
with a defined, shut-off domain named like the worker): the domain is really started and
destroyed through libvirt; the "guest" reads its credentials from the domain metadata the
worker set, and starts a stock buildbot-worker process with them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.config.errors import capture_config_errors
from buildbot.process.results import RETRY, SUCCESS
from buildbot.worker.latent import States
from tests.fixtures.master import running_master
from tests.worker.cloud_fakes import Instances, failing_build
from tests.worker.masterkit import config, force, free_port, listen, wait_until

libvirt = pytest.importorskip(
    "libvirt", reason="libvirt-python not installed (apt-get install libvirt-dev "
                      "pkg-config; pip install libvirt-python)")

from buildbot.worker.libvirt import LibVirtWorker  # noqa: E402

NODE = Path(__file__).parent / "payloads" / "libvirt" / "node.xml"
pytestmark = pytest.mark.integration


class BootingLibVirt(LibVirtWorker):
    """The domain's "boot" runs a worker configured from the domain's metadata."""

    quarantine_timeout = quarantine_initial_timeout = quarantine_max_timeout = 0.2
    machines: Instances
    states: list[int]

    async def start_instance(self, build: Any) -> bool:
        started = await super().start_instance(build)

        def metadata(conn: Any) -> tuple[str, int]:
            domain = conn.lookupByName(self.workername)
            return (domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, self.ns,
                                    libvirt.VIR_DOMAIN_AFFECT_CONFIG), domain.state()[0])

        auth, state = await self._libvirt(metadata)
        self.states.append(state)
        user, password = re.search(r'username="([^"]*)" password="([^"]*)"', auth).groups()
        port = self.master.workers.get_port(self.name, "pb")
        await self.machines.start(user, {"BUILDMASTER_PORT": str(port), "WORKERNAME": user,
                                         "WORKERPASS": password})
        return started

    async def stop_instance(self, fast: bool = False) -> None:
        await self.machines.stop(self.workername)
        await super().stop_instance(fast)
        # the test driver forgets a destroyed domain it did not have on disk
        gone = await self._running_domain() is None
        self.states.append(libvirt.VIR_DOMAIN_SHUTOFF if gone else -1)


def libvirt_worker(tmp_path: Path, uri: str = f"test://{NODE}", **kw: Any) -> BootingLibVirt:
    w = BootingLibVirt("lw", "pw", uri=uri, masterFQDN="127.0.0.1", build_wait_timeout=0,
                       **kw)
    w.machines = Instances(tmp_path / "guests")
    w.states = []
    return w


@pytest_twisted.ensureDeferred
async def test_a_build_runs_in_a_libvirt_domain(tmp_path: Path) -> None:
    port = free_port()
    lw = libvirt_worker(tmp_path)
    try:
        async with running_master(tmp_path / "m", config([lw], port=port)) as master:
            bsid, _ = await force(master)
            _, bs = await listen(master, ("buildsets", str(bsid), "complete"))
            assert bs["results"] == SUCCESS
            await wait_until("insubstantiated", lambda: lw.state == States.NOT_SUBSTANTIATED)
            # 4.3's call queue: func(*args) on the URI's thread, in order
            import threading

            here = threading.get_ident()
            where = await lw.pool.do(lw.uri, lambda a, b=0: (threading.get_ident(), a + b),
                                     1, b=2)
            assert where[1] == 3 and where[0] != here
            again = await lw.pool.do(lw.uri, threading.get_ident)
            assert again == where[0]  # the same thread for the same URI
            other = await lw.pool.do("test:///default", threading.get_ident)
            assert other != where[0]
    finally:
        await lw.machines.stop_all()
    assert lw._threads == {}  # every URI's thread ended with the worker
    # started (running), then destroyed (shut off)
    assert lw.states == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_SHUTOFF]
    assert lw.machines.started == ["lw"]


@pytest_twisted.ensureDeferred
async def test_libvirt_errors_fail_the_substantiation(tmp_path: Path) -> None:
    # test:///default has no domain called lw
    lw = libvirt_worker(tmp_path, uri="test:///default")
    build, failed = await failing_build(tmp_path / "m", lw)
    assert build["results"] == RETRY and not lw.machines.started
    assert failed and "Got error while starting VM" in failed[0] and "lw" in failed[0], failed


def test_missing_binding_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import buildbot.worker.libvirt as module

    monkeypatch.setattr(module, "libvirt", None)
    with capture_config_errors() as errors:
        LibVirtWorker("w", "pw", uri="qemu:///system")
    assert errors.errors == ["The python module 'libvirt' is needed to use a LibVirtWorker"]
