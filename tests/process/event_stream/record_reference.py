"""Record the event streams of the scenarios in `scenarios.py` on a real Buildbot 4.3.0 master.

Run with the reference's interpreter (the repository must not be on its path):

    cd tests/process/event_stream && /work/refvenv/bin/python record_reference.py > reference_4.3.json

It starts a 4.3 `BuildMaster` on in-memory SQLite with one LocalWorker per scenario, forces
each scenario's build in turn and prints `{scenario: [[routing key, changed fields], ...]}`.
`test_event_stream.py` compares our master's streams with it. Not collected by pytest.
"""

from __future__ import annotations

import json
import sys
import tempfile
from typing import Any

from twisted.internet import defer, task

import scenarios  # noqa: E402  (this directory, run as a script)
from buildbot.config.master import MasterConfig
from buildbot.master import BuildMaster


class DictLoader:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def loadConfig(self) -> MasterConfig:
        return MasterConfig.loadFromDict(self.config, "master.cfg")


async def main(reactor: Any) -> None:
    from twisted.python import log

    log.startLogging(sys.stderr, setStdout=False)  # the master's log, for when a recording goes wrong
    cfg = scenarios.config()
    cfg.update({"buildbotNetUsageData": None, "protocols": {"null": {}}, "db": {"db_url": "sqlite://"}})
    with tempfile.TemporaryDirectory() as basedir:
        master = BuildMaster(basedir, reactor=reactor, config_loader=DictLoader(cfg))
        master.config.db.db_url = "sqlite://"
        await master.db.setup(check_version=False)
        await master.db.model.upgrade()
        master.db.setup = lambda: None  # already set up, as 4.3's own integration tests do
        await master.startService()
        try:
            out = {}
            for name in scenarios.SCENARIOS:
                out[name] = await scenarios.record_scenario(master, name)
        finally:
            await master.stopService()
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
