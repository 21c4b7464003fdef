"""A latent worker for tests whose instance is a stock `buildbot-worker` process.

`start_instance` creates the worker directory (first time) and starts
`buildbot-worker start --nodaemon`; `stop_instance` stops the process; `check_instance`
reports a process that exited before connecting. Knobs for failure tests:
`connect_password` (a wrong one: the instance never attaches), `broken` (the process exits
at once), `refuse` (start_instance answers False), `explode` (start_instance raises).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from buildbot.worker.latent import AbstractLatentWorker
from tests.fixtures.worker_process import WorkerProcess, create_worker


class ProcessLatentWorker(AbstractLatentWorker):
    """`ProcessLatentWorker(name, password, basedir, protocol="pb", ...)`."""

    def checkConfig(  # type: ignore[override]  # its own constructor: basedir comes third
            self, name: str, password: Any, basedir: Any = None, protocol: str = "pb",
            connect_password: str | None = None, broken: bool = False, refuse: bool = False,
            explode: bool = False, **kwargs: Any) -> None:
        super().checkConfig(name, password, **kwargs)
        self.process: WorkerProcess | None = None
        self.started = 0
        self.stopped: list[bool] = []
        self.processes: list[WorkerProcess] = []

    async def reconfigService(  # type: ignore[override]  # as checkConfig: basedir third
            self, name: str, password: Any, basedir: Any = None, protocol: str = "pb",
            connect_password: str | None = None, broken: bool = False, refuse: bool = False,
            explode: bool = False, **kwargs: Any) -> None:
        await super().reconfigService(name, password, **kwargs)
        self.basedir = Path(basedir)
        self.protocol = protocol
        self.connect_password = connect_password or password
        self.broken, self.refuse, self.explode = broken, refuse, explode

    async def start_instance(self, build: Any) -> bool:
        self.started += 1
        if self.explode:
            raise RuntimeError("the cloud is on fire")
        if self.refuse:
            return False
        path = self.basedir / "missing" if self.broken else self.basedir
        if not self.broken and not (path / "buildbot.tac").exists():
            port = self.master.workers.get_port(
                self.name, "pb" if self.protocol == "pb" else "msgpack")
            assert port is not None, "the worker is not registered on a port"
            await create_worker(path, port, self.name, self.connect_password,
                                protocol=self.protocol)
        self.process = WorkerProcess(path, self.name)
        self.process.start()
        self.processes.append(self.process)
        return True

    async def stop_instance(self, fast: bool = False) -> None:
        self.stopped.append(fast)
        process, self.process = self.process, None
        if process is not None:
            await process.stop()

    def check_instance(self) -> tuple[bool, str]:
        if self.process is not None and not self.process.running:
            return False, f"the worker process exited with {self.process.exit_code}"
        return True, ""
