"""One build mixing many step families; the expected step names, results, state strings,
URL names and build state string were produced by Buildbot 4.3.0 running the same steps on
a LocalWorker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import schedulers, steps, util, worker
from tests.fixtures.master import running_master
from tests.steps.harness import collect_build

pytestmark = pytest.mark.integration

# (name, results, state_string, url names) as Buildbot 4.3.0 reported them
REFERENCE = [
    ("desc", 0, "'true'", []),
    ("three", 0, "'echo a ...'", []),
    ("compile", 1, "compile (warnings)", []),
    ("setproperty", 0, "property 'p' set", []),
    ("spfail", 2, "'echo v; ...' (failure)", []),
    ("fe", 2, "File not found. (failure)", []),
    ("MakeDirectory", 0, "Created", []),
    ("string_download", 0, "downloading to s.txt", []),
    ("upload", 0, "uploading s.txt", []),
    ("upmiss", 2, "uploading missing (failure)", []),
    ("upload_1", 0, "uploading d", []),
    ("upload_2", 0, "uploading 1 file", []),
    ("trigger", 0, "triggered t, 1 success", ["t #{brid}", "success: child #{n}"]),
    ("nowait", 0, "triggered t", ["t #{brid}"]),
    ("treesize", 0, "treesize {kib} KiB", []),
    ("generic", 0, "'echo z'", []),
    ("Assert", 0, "checked Property(p)", []),
    ("SetProperty", 0, "Set", []),
    ("MasterShellCommand", 2, "failed (2) (failure)", []),
    ("to", 2, "'sleep 3' (failure) (timed out)", []),
]
REFERENCE_BUILD = ("failed 'echo v; ...' (failure) File not found. (failure) uploading missing "
                   "(failure) failed (2) (failure) 'sleep 3' (failure) (timed out)")


def config(master_dir: Path) -> dict[str, Any]:
    f = util.BuildFactory([
        steps.ShellCommand(command="true", description="doing", name="desc"),
        steps.ShellCommand(command=["echo", "a", "b"], name="three"),
        steps.Compile(command="echo 'x.c:1: warning: w'", haltOnFailure=False),
        steps.SetPropertyFromCommand(command="echo v", property="p"),
        steps.SetPropertyFromCommand(command="echo v; exit 1", property="q", name="spfail"),
        steps.FileExists(file="nothere", haltOnFailure=False, name="fe"),
        steps.MakeDirectory(dir="build/d"),
        steps.StringDownload("abc", workerdest="s.txt"),
        steps.FileUpload(workersrc="s.txt", masterdest=str(master_dir / "up.txt")),
        steps.FileUpload(workersrc="missing", masterdest=str(master_dir / "up2.txt"),
                         haltOnFailure=False, name="upmiss"),
        steps.DirectoryUpload(workersrc="d", masterdest=str(master_dir / "dup")),
        steps.MultipleFileUpload(workersrcs=["s.txt"], masterdest=str(master_dir / "mup")),
        steps.Trigger(schedulerNames=["t"], waitForFinish=True),
        steps.Trigger(schedulerNames=["t"], name="nowait"),
        steps.TreeSize(),
        steps.ShellSequence(commands=[util.ShellArg(command="true", logname="l1"),
                                      util.ShellArg(command="echo z")]),
        steps.Assert(util.Property("p")),
        steps.SetProperty(property="x", value="y"),
        steps.MasterShellCommand(command="exit 2", haltOnFailure=False),
        steps.ShellCommand(command="sleep 3", timeout=1, name="to"),
    ])
    child = util.BuildFactory([steps.ShellCommand(command="true")])
    return {
        "workers": [worker.LocalWorker("local", max_builds=2)],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b0"]),
                       schedulers.Triggerable(name="t", builderNames=["child"])],
        "builders": [util.BuilderConfig(name="b0", workernames=["local"], factory=f),
                     util.BuilderConfig(name="child", workernames=["local"], factory=child)],
    }


@pytest_twisted.ensureDeferred
async def test_state_strings_match_buildbot_4_3(tmp_path: Path) -> None:
    from tests.fixtures.master import wait_for_message

    mdir = tmp_path / "m"
    async with running_master(mdir, config(mdir)) as master:
        builders = {b["name"]: b["builderid"] for b in await master.data.get(("builders",))}
        parent_done = wait_for_message(
            master, ("builds", None, "finished"),
            lambda k, b: b["builderid"] == builders["b0"], timeout=60)
        await master.data.control("force", {"builderNames": ["b0"]},
                                  ("forceschedulers", "force"))
        _, body = await parent_done
        out = await collect_build(master, body["buildid"])
        requests = await master.data.get(("buildrequests",))
    child_brids = [r["buildrequestid"] for r in requests if r["builderid"] == builders["child"]]
    kib = out.props["tree-size-KiB"]
    expected = [(name, res, text.format(kib=kib),
                 [u.format(brid=child_brids[0 if name == "trigger" else 1], n=1)
                  for u in urls])
                for name, res, text, urls in REFERENCE]
    got = [(s.name, s.results, s.state_string, [u["name"] for u in s.urls])
           for s in out.steps[1:]]
    assert got == expected
    assert out.state_string == REFERENCE_BUILD
    assert (out.props["p"], out.props["x"], out.props["warnings-count"]) == ("v", "y", 3)
