"""`buildbot sendchange` (the real CLI process) → PBChangeSource → change → scheduler → build,
on a real in-process master with a LocalWorker."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.changes.pb import PBChangeSource
from buildbot.changes.process import run_process
from buildbot.clients.sendchange import Sender
from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import SUCCESS
from tests.fixtures.master import running_master, wait_for_message

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]


def config(**pb: Any) -> dict[str, Any]:
    return {
        "workers": [worker.LocalWorker("local")],
        "protocols": {"null": {}, "pb": {"port": "tcp:0:interface=127.0.0.1"}},
        "change_source": [PBChangeSource(**pb)],
        "schedulers": [schedulers.SingleBranchScheduler(
            name="sbs", builderNames=["b"], change_filter=util.ChangeFilter(branch="main"))],
        "builders": [util.BuilderConfig(name="b", workernames=["local"],
                                        factory=util.BuildFactory(
                                            [steps.ShellCommand(command=["echo", "built"])]))],
    }


def pb_port(master: Any) -> int:
    (source,) = master.change_svc.namedServices.values()
    port: int = source.registration.getPort()
    return port


@pytest_twisted.ensureDeferred
async def test_sendchange_cli_starts_a_build(tmp_path: Path) -> None:
    async with running_master(tmp_path, config()) as master:
        done = wait_for_message(master, ("buildsets", None, "complete"))
        code, out, err = await run_process(master.reactor, [
            sys.executable, "-m", "buildbot.scripts.runner", "sendchange",
            "--master", f"127.0.0.1:{pb_port(master)}", "--who", "me <me@example.org>",
            "--branch", "main", "--revision", "abc", "--repository", "https://r/x",
            "--comments", "from the cli", "--property", "color:red", "--vc", "git",
            "src/a.c", "b.c"], path=str(REPO_ROOT), env={**os.environ})
        assert (code, out.decode().strip()) == (0, "change sent successfully"), err.decode()
        _, bs = await done
        assert bs["results"] == SUCCESS
        (change,) = await master.data.get(("changes",))
        assert {k: change[k] for k in ("author", "branch", "revision", "repository",
                                       "comments", "files", "properties")} == {
            "author": "me <me@example.org>", "branch": "main", "revision": "abc",
            "repository": "https://r/x", "comments": "from the cli",
            "files": ["src/a.c", "b.c"], "properties": {"color": ("red", "Change")}}


@pytest_twisted.ensureDeferred
async def test_sender_with_prefix_and_wrong_password(tmp_path: Path) -> None:
    async with running_master(tmp_path, config(prefix="src/", user="u", passwd="p")) as master:
        port = pb_port(master)
        await Sender(f"127.0.0.1:{port}", auth=("u", "p")).send(
            "dev", "r1", "c", ["src/a.c", "other/b.c"], who="me")
        (change,) = await master.data.get(("changes",))
        assert (change["files"], change["branch"]) == (["a.c"], "dev")
        with pytest.raises(Exception, match="wrong password"):
            await Sender(f"127.0.0.1:{port}", auth=("u", "wrong")).send(
                "dev", "r2", "c", ["src/a.c"], who="me")


@pytest_twisted.ensureDeferred
async def test_reconfig_with_a_new_password_takes_effect(tmp_path: Path) -> None:
    login = {"user": "u", "passwd": "old", "name": "pb"}
    async with running_master(tmp_path, lambda: config(**login)) as master:
        port = pb_port(master)
        await Sender(f"127.0.0.1:{port}", auth=("u", "old")).send("main", "r1", "c", ["a"])
        login["passwd"] = "new"
        await master.reconfig()
        port = pb_port(master)  # the port was re-registered: tcp:0 picks a new one
        with pytest.raises(Exception, match="wrong password"):
            await Sender(f"127.0.0.1:{port}", auth=("u", "old")).send("main", "r2", "c", ["a"])
        await Sender(f"127.0.0.1:{port}", auth=("u", "new")).send("main", "r3", "c", ["a"])
        revs = sorted(c["revision"] for c in await master.data.get(("changes",)))
        assert revs == ["r1", "r3"]


def test_constructor_names_the_source_and_reconfig_takes_keywords() -> None:
    assert PBChangeSource(port=9999).name == "PBChangeSource:9999"
    assert PBChangeSource("u", "p", 9999, "src/").name == "PBChangeSource:src/:9999"
    source = PBChangeSource("u", "p", 9999, name="mine")
    assert (source.name, source.user, source.passwd, source.port) == ("mine", "u", "p", 9999)
    source.reconfigService("mine", user="v", passwd="q", port=9998)  # 4.3's signature
    assert (source.user, source.passwd, source.port, source.prefix) == ("v", "q", 9998, None)
