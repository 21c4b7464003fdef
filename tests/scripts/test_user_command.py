"""`buildbot user` against a running master whose c['user_managers'] holds a
CommandlineUserManager: add, update, get and remove go over PB and reach the database; the
printed reports are 4.3's (recorded by running this same sequence against a 4.3 master; 4.3's
own client cannot log in on Python 3)."""

from __future__ import annotations

import re
import socket
import sqlite3
from pathlib import Path

import pytest

from tests.scripts.conftest import Daemons, run_cli

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


MASTER_CFG = """\
from buildbot.plugins import util
from buildbot.plugins import schedulers, steps, worker
c = BuildmasterConfig = {{}}
c['buildbotNetUsageData'] = None
c['workers'] = [worker.Worker('w', 'pw')]
c['builders'] = [util.BuilderConfig(name='b', workernames=['w'],
                                    factory=util.BuildFactory([steps.ShellCommand(command='true')]))]
c['protocols'] = {{'pb': {{'port': {pb}}}}}
c['www'] = {{'port': {www}}}
c['db'] = {{'db_url': 'sqlite:///state.sqlite'}}
c['schedulers'] = [schedulers.ForceScheduler(name='f', builderNames=['b'])]
c['user_managers'] = [util.CommandlineUserManager(username='admin', passwd='s3cret',
                                                  port='tcp:{um}:interface=127.0.0.1')]
"""


def test_user_add_update_get_remove_against_a_running_master(
        tmp_path: Path, daemons: Daemons) -> None:
    basedir = daemons.watch(tmp_path / "m")
    assert run_cli("create-master", str(basedir), cwd=tmp_path).returncode == 0
    um = free_port()
    (basedir / "master.cfg").write_text(MASTER_CFG.format(pb=free_port(), www=free_port(),
                                                          um=um))
    # a busy machine may take longer than the default 10 s to load the tac
    started = run_cli("start", "--start_timeout=120", str(basedir), cwd=tmp_path)
    daemons.note_pid(basedir)
    try:
        assert started.returncode == 0, (basedir / "twistd.log").read_text()[-3000:]
        creds = ["--master", f"127.0.0.1:{um}", "--username", "admin", "--passwd", "s3cret"]

        added = run_cli("user", *creds, "--op", "add",
                        "--info", "git=Alice <alice@example.org>,email=alice@example.org",
                        cwd=tmp_path)
        assert added.returncode == 0, added.stdout + added.stderr
        # the identifier of a new user is the smallest of its attribute values
        ident = "Alice <alice@example.org>"
        uid = int(re.search(r"uid: (\d+)", added.stdout).group(1))  # type: ignore[union-attr]  # a miss fails the test
        assert added.stdout == (f"user(s) added:\nidentifier: {ident}\nuid: {uid}\n\n"
                                f"identifier: {ident}\n\n")

        updated = run_cli("user", *creds, "--op", "update",
                          "--info", f"{ident}:email=alice@new.example.org", cwd=tmp_path)
        assert updated.stdout == f"user(s) updated:\nidentifier: {ident}\n\n", updated.stderr
        creds_set = run_cli("user", *creds, "--op", "update", "--bb_username", "alice",
                            "--bb_password", "pw", "--info", ident, cwd=tmp_path)
        assert creds_set.returncode == 0, creds_set.stdout + creds_set.stderr

        got = run_cli("user", *creds, "--op", "get", "--ids", f"{ident},nobody", cwd=tmp_path)
        assert got.stdout == (
            f"user(s) found:\nuid: {uid}\nidentifier: {ident}\nbb_username: alice\n"
            f"attributes:\n\tgit: {ident}\n\temail: alice@new.example.org\n\n"
            "no match found\n\n"), got.stderr

        with sqlite3.connect(basedir / "state.sqlite") as db:
            (password,) = db.execute("select bb_password from users where uid=?",
                                     (uid,)).fetchone()
        assert len(password) == 16 + 40  # hex salt + sha1 hex, as 4.3 stores it

        bad = run_cli("user", "--master", f"127.0.0.1:{um}", "--username", "admin",
                      "--passwd", "wrong", "--op", "get", "--ids", ident, cwd=tmp_path)
        assert bad.returncode == 1 and "user command failed" in bad.stdout

        removed = run_cli("user", *creds, "--op", "remove", "--ids", ident, cwd=tmp_path)
        assert removed.stdout == f"user(s) removed:\nidentifier: {ident}\n\n"
        with sqlite3.connect(basedir / "state.sqlite") as db:
            assert db.execute("select count(*) from users").fetchone() == (0,)
    finally:
        run_cli("stop", str(basedir), cwd=tmp_path)
