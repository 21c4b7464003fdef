"""LocalWorker: a stock buildbot-worker running inside the master process."""

from __future__ import annotations

import os
from typing import Any

from buildbot import config
from buildbot.util.service import BuildbotService
from buildbot.worker.base import Worker

BuildbotServiceInit = BuildbotService.__init__


class LocalWorker(Worker):
    """Runs `buildbot_worker.null.LocalWorker` in-process; it connects through the
    in-process ("null") protocol, so no port and no password are involved."""

    def __init__(self, name: str, workdir: str | None = None, **kwargs: Any) -> None:
        kwargs.pop("password", None)
        BuildbotServiceInit(self, name, workdir, **kwargs)

    def checkConfig(self, name: str, workdir: str | None = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    **kwargs: Any) -> None:
        kwargs["password"] = None
        super().checkConfig(name, **kwargs)
        self.LocalWorkerFactory: Any = None
        try:
            from buildbot_worker.null import LocalWorker as RemoteLocalWorker
            self.LocalWorkerFactory = RemoteLocalWorker
        except ImportError:
            config.error("LocalWorker needs the buildbot-worker package installed "
                         "(pip install buildbot-worker)")
        self.remote_worker: Any = None

    async def reconfigService(self, name: str, workdir: str | None = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              **kwargs: Any) -> None:
        kwargs["password"] = None
        await super().reconfigService(name, **kwargs)
        if self.remote_worker is None:
            basedir = os.path.join(self.master.basedir, "workers", workdir or name)
            os.makedirs(basedir, exist_ok=True)
            self.remote_worker = self.LocalWorkerFactory(name, basedir)
            # The stock service reaches the master through its parent (this object).
            self.remote_worker.setServiceParent(self)
