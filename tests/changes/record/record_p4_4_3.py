"""Records what Buildbot 4.3's P4Source gives for the `p4` stand-in in
tests/changes/fixtures/p4_fake.sh (run with the reference's interpreter:
`/work/refvenv/bin/python tests/changes/record/record_p4_4_3.py`); writes
fixtures/p4_4_3.json (the changes and the p4 command lines, also with use_tickets), which
tests/changes/test_p4_and_maildir.py compares with."""

import json
import os
import sys
import tempfile
from pathlib import Path

from twisted.internet import defer, reactor

from buildbot.changes.p4poller import P4Source, get_simple_split

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def split_file(path):
    """trunk/<file> on trunk, branches/<name>/<file> on <name>, nothing else."""
    if path.startswith("trunk/"):
        return "trunk", path[len("trunk/"):]
    if path.startswith("branches/"):
        return get_simple_split(path[len("branches/"):])
    return None, None


class Master:
    def __init__(self):
        self.reactor = reactor
        self.recorded = []
        self.data = type("Data", (), {"updates": self})()

    @property
    def master(self):
        return self

    def addChange(self, **kwargs):
        self.recorded.append(kwargs)
        return defer.succeed(None)


async def record(tmp, **extra):
    log = Path(tmp) / "p4.log"
    p4 = Path(tmp) / "p4"
    p4.write_text((FIXTURES / "p4_fake.sh").read_text().replace("{LOG}", str(log)))
    p4.chmod(0o755)
    os.environ["PATH"] = f"{tmp}{os.pathsep}{os.environ['PATH']}"
    master = Master()
    kwargs = {"p4port": "perforce:1666", "p4user": "bb", "p4passwd": "pw",
              "p4base": "//depot/proj/", "split_file": split_file, "server_tz": "Europe/Paris",
              "project": "proj",
              "revlink": lambda branch, rev: f"https://swarm.example.org/changes/{rev}",
              **extra}
    source = P4Source(**kwargs)
    source.parent = master
    await source.reconfigService(**kwargs)
    await source.poll()
    await source.poll()
    return {"changes": master.recorded, "commands": log.read_text().splitlines(),
            "last_change": source.last_change}


def main():
    result = {}

    def start():
        async def run():
            with tempfile.TemporaryDirectory() as tmp:
                result.update(await record(tmp))
            with tempfile.TemporaryDirectory() as tmp:
                result["with_tickets"] = await record(tmp, use_tickets=True)

        d = defer.ensureDeferred(run())
        d.addErrback(lambda f: (print(f.getTraceback()), result.setdefault("error", True)))
        d.addBoth(lambda _: reactor.stop())

    reactor.callLater(30, reactor.stop)  # never hang
    reactor.callWhenRunning(start)
    reactor.run()
    if "error" in result or not result:
        sys.exit(1)
    (FIXTURES / "p4_4_3.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")


main()
