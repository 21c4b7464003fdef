"""Record the digest of the build of `tools_build.py` from a real master (a script, not a
test), as JSON on stdout:

    /work/refvenv/bin/python tests/steps/record_tools_reference.py \
        --buildbot /work/refvenv/bin/buildbot > tests/steps/fixtures/tools_reference_4_3.json
    /work/refvenv/bin/python tests/steps/record_tools_reference.py --real \
        --buildbot /work/refvenv/bin/buildbot > tests/steps/fixtures/real_tools_reference_4_3.json

(`--real`: the build of `real_tool_steps`, with bzr, cvs, darcs, rpmbuild, rpmlint and
lintian installed; their outputs vary from run to run and are left out.)

The master is created with that `buildbot` command and run in this process (the
implementation this Python imports); a LocalWorker runs the build with the fake tools on
PATH; the steps, logs and properties are read back through the data API.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tools_build

CFG = """
import sys
sys.path.insert(0, {here!r})
import tools_build
from pathlib import Path
from buildbot.plugins import schedulers, util, worker
c = BuildmasterConfig = {{}}
c['workers'] = [worker.LocalWorker('local')]
c['protocols'] = {{'null': {{}}}}
c['schedulers'] = [schedulers.ForceScheduler(name='force', builderNames=['b0'])]
c['builders'] = [util.BuilderConfig(name='b0', workernames=['local'],
    factory=util.BuildFactory(tools_build.{steps_function}(Path({bindir!r}))))]
c['db'] = {{'db_url': 'sqlite:///state.sqlite'}}
c['buildbotNetUsageData'] = None
"""


async def run_master(basedir: Path, bindir: Path, outputs: bool) -> dict[str, Any]:
    """Start the master in this process, force one build, return its digest."""
    from twisted.internet import reactor
    from twisted.internet.task import deferLater
    from twisted.python import log

    from buildbot.master import BuildMaster

    log.startLogging(sys.stderr, setStdout=False)
    master = BuildMaster(str(basedir), reactor=reactor)
    await master.startService()
    try:
        async def sleep() -> None:
            await deferLater(reactor, 0.2, lambda: None)

        while not await master.data.get(("workers",)) or not any(
                w["connected_to"] for w in await master.data.get(("workers",))):
            await sleep()
        await master.data.control("force", {"builderNames": ["b0"]},
                                  ("forceschedulers", "force"))
        while not any(b["complete"] for b in await master.data.get(("builds",))):
            await sleep()
        build = (await master.data.get(("builds",)))[0]
        steps_out = []
        for st in await master.data.get(("builds", build["buildid"], "steps")):
            logs = {}
            for lg in await master.data.get(("steps", st["stepid"], "logs")):
                content = await master.data.get(("logs", lg["logid"], "contents"))
                logs[lg["name"]] = content["content"] if content else ""
            steps_out.append({"name": st["name"], "results": st["results"],
                              "state_string": st["state_string"], "logs": logs})
        props = {k: v[0] for k, v in
                 (await master.data.get(("builds", build["buildid"], "properties"))).items()}
    finally:
        await master.stopService()
    paths = tools_build.placeholder_paths(bindir, basedir / "workers" / "local" / "b0")
    digest = tools_build.digest_build(steps_out[1:], props, paths, outputs)
    digest["build"] = {"results": build["results"], "state_string": build["state_string"]}
    return digest


def main() -> None:
    from twisted.internet import defer, task

    ap = argparse.ArgumentParser()
    ap.add_argument("--buildbot", required=True)
    ap.add_argument("--real", action="store_true",
                    help="the build with the real tools (outputs not compared)")
    args = ap.parse_args()
    bb = shlex.split(args.buildbot)
    with tempfile.TemporaryDirectory() as tmp:
        bindir, basedir = Path(tmp) / "bin", Path(tmp) / "master"
        if args.real:
            bindir.mkdir()
            tools_build.make_real_inputs(bindir)
        else:
            tools_build.install_fake_tools(bindir)
            os.environ["PATH"] = f":{bindir}:{os.environ['PATH']}"
        subprocess.run([*bb, "create-master", "-q", str(basedir)], check=True)
        steps_function = "real_tool_steps" if args.real else "build_steps"
        (basedir / "master.cfg").write_text(CFG.format(here=str(HERE), bindir=str(bindir),
                                                       steps_function=steps_function))
        os.chdir(basedir)

        async def record(_: Any) -> None:
            digest = await run_master(basedir, bindir, outputs=not args.real)
            json.dump(digest, sys.stdout, indent=1, sort_keys=True)
            sys.stdout.write("\n")

        task.react(lambda reactor: defer.ensureDeferred(record(reactor)))


if __name__ == "__main__":
    main()
