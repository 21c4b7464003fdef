"""Commands run on stock buildbot-worker 4.3 processes over PB and msgpack: shell output,
every file-system command, interrupts and refused commands."""

from __future__ import annotations

import errno
import os
import stat

import pytest
import pytest_twisted

from buildbot.worker.protocols.base import new_command_id
from tests.worker.conftest import MasterSide, run_command, wait_for_path
from tests.worker.standin import RecordingCommand

pytestmark = pytest.mark.integration


def shell_args(command: object, **kw: object) -> dict[str, object]:
    args: dict[str, object] = {
        "workdir": "build", "env": {}, "want_stdout": True, "want_stderr": True,
        "logfiles": {}, "timeout": 1200, "maxTime": None, "max_lines": None,
        "sigtermTime": None, "usePTY": False, "logEnviron": True, "initial_stdin": None,
        "interruptSignal": "KILL", "command": command,
    }
    args.update(kw)
    return args


@pytest_twisted.ensureDeferred
async def test_shell_command_streams_output_and_completes(master_side: MasterSide) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        cmd = await run_command(conn, "shell", shell_args(
            ["sh", "-c", "echo hello; echo oops >&2; printf partial"]))

        assert cmd.failure is None
        assert [k for k, _ in cmd.updates if k != "header"] == [
            "stdout", "stderr", "rc", "elapsed", "stdout"]
        assert cmd.text("stdout") == "hello\npartial\n"
        assert cmd.text("stderr") == "oops\n"
        assert cmd.rc == 0
        header = cmd.text("header")
        assert f" in dir {w.basedir / 'b1' / 'build'}" in header
        assert "elapsedTime=" in header
        assert isinstance(cmd.values("elapsed")[0], float)


@pytest_twisted.ensureDeferred
async def test_shell_command_logfiles_arrive_as_named_log_updates(
        master_side: MasterSide) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        cmd = await run_command(conn, "shell", shell_args(
            "printf 'line1\\nline2\\n' > my.log; exit 3", logfiles={"mylog": "my.log"}))

        assert cmd.rc == 3
        assert cmd.values("log") == [("mylog", "line1\nline2\n")]


@pytest_twisted.ensureDeferred
async def test_every_file_system_command(master_side: MasterSide) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        bdir = w.basedir / "b1"

        cmd = await run_command(conn, "mkdir", {"dir": "build/sub"})
        assert (cmd.failure, cmd.rc) == (None, 0) and (bdir / "build" / "sub").is_dir()
        (bdir / "build" / "f.txt").write_text("12345")

        cmd = await run_command(conn, "stat", {"file": "f.txt", "workdir": "build"})
        st = cmd.values("stat")[0]
        assert isinstance(st, tuple) and len(st) == 10
        assert stat.S_ISREG(st[0]) and st[6] == 5 and cmd.rc == 0

        cmd = await run_command(conn, "stat", {"file": "missing", "workdir": "build"})
        assert cmd.rc == errno.ENOENT and "stat: " in cmd.text("header")

        cmd = await run_command(conn, "glob", {"path": "build/*.txt"})
        assert cmd.values("files") == [[str(bdir / "build" / "f.txt")]] and cmd.rc == 0

        cmd = await run_command(conn, "listdir", {"dir": "build"})
        assert sorted(cmd.values("files")[0]) == ["f.txt", "sub"] and cmd.rc == 0

        cmd = await run_command(conn, "cpdir", {"fromdir": "build", "todir": "copy",
                                                "timeout": 120, "maxTime": None,
                                                "logEnviron": False})
        assert cmd.rc == 0 and (bdir / "copy" / "f.txt").read_text() == "12345"

        cmd = await run_command(conn, "rmfile", {"path": "copy/f.txt"})
        assert cmd.rc == 0 and not (bdir / "copy" / "f.txt").exists()

        cmd = await run_command(conn, "rmdir", {"dir": ["copy", "build/sub"], "timeout": 120,
                                                "maxTime": None, "logEnviron": False})
        assert cmd.rc == 0
        assert not (bdir / "copy").exists() and not (bdir / "build" / "sub").exists()
        assert (bdir / "build" / "f.txt").exists()


@pytest_twisted.ensureDeferred
async def test_interrupt_kills_the_running_process(master_side: MasterSide) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        pidfile = w.basedir / "b1" / "build" / "pid"
        cmd = RecordingCommand()
        cid = new_command_id()
        await conn.remoteStartCommand(
            cmd, "b1", cid, "shell",
            shell_args(["sh", "-c", "echo $$ > p; mv p pid; exec sleep 60"]))
        await wait_for_path(pidfile)
        pid = int(pidfile.read_text())
        await conn.remoteInterruptCommand("b1", cid, "test interrupt reason")

        assert await cmd.wait_complete() is None
        assert cmd.rc == -1
        assert "command interrupted, attempting to kill" in cmd.text("header")
        assert cmd.values("elapsed") == []
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest_twisted.ensureDeferred
async def test_unknown_command_is_refused_at_start(master_side: MasterSide) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        cmd = RecordingCommand()
        with pytest.raises(Exception, match="unrecognized WorkerCommand 'bogusCommand'"):
            await conn.remoteStartCommand(cmd, "b1", new_command_id(), "bogusCommand", {})
        assert cmd.updates == [] and not cmd.completed.called
        # the connection is still usable
        cmd = await run_command(conn, "listdir", {"dir": "."})
        assert cmd.rc == 0


@pytest_twisted.ensureDeferred
async def test_start_build_is_accepted(master_side: MasterSide) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        await conn.remotePrint("ping")
        await conn.remoteStartBuild("b1")
        await w.wait_for_log("message from master: ping")
