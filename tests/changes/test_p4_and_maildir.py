"""P4Source against a stand-in `p4` on PATH printing recorded `p4 changes` / `p4 describe`
output (same command lines and changes as 4.3's P4Source on it: fixtures/p4_4_3.json), and the maildir sources on a real maildir (mail delivered through tmp/ -> new/ as
mail agents do): the parsers give what 4.3's give for the same mails
(fixtures/mail_parsed_4_3.json), and the changes land in the database."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer

from buildbot.changes import mail
from buildbot.changes.p4poller import P4Source, get_simple_split
from buildbot.util.deferred import maybe_await
from tests.changes.remote_sources import configure, stored_changes
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).parent / "fixtures"

P4_SCRIPT = (FIXTURES / "p4_fake.sh").read_text()  # prints recorded p4 output


@pytest.mark.parametrize("tickets", [False, True], ids=["password", "tickets"])
@pytest_twisted.ensureDeferred
async def test_p4source_reports_changelists_per_branch(
        stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tickets: bool) -> None:
    p4 = tmp_path / "p4"
    log = tmp_path / "p4.log"  # (p4 gets only the P4*/PATH/HOME variables, as in 4.3)
    p4.write_text(P4_SCRIPT.replace("{LOG}", str(log)))
    p4.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    source = await configure(stack, P4Source(
        p4port="perforce:1666", p4user="bb", p4passwd="pw", p4base="//depot/proj/",
        split_file=lambda path: ("trunk", path[len("trunk/"):]) if path.startswith("trunk/")
        else get_simple_split(path[len("branches/"):]) if path.startswith("branches/")
        else (None, None),
        server_tz="Europe/Paris", project="proj", use_tickets=tickets,
        revlink=lambda branch, rev: f"https://swarm.example.org/changes/{rev}"))

    await source.poll()  # sets the starting point only
    await source.poll()

    recorded = json.loads((FIXTURES / "p4_4_3.json").read_text())
    if tickets:  # `p4 login` (password on stdin) before each poll, no -u/-P after
        recorded = recorded["with_tickets"]
    assert log.read_text().splitlines() == recorded["commands"]
    changes = await stored_changes(stack)
    assert [{k: c[k] for k in recorded["changes"][0]} for c in changes] == recorded["changes"]
    assert source.last_change == recorded["last_change"] == 102
    assert source.loop is None  # as in 4.3: polling runs through doPoll


@pytest.mark.parametrize("cls,filename,prefix", [
    ("CVSMaildirSource", "cvs_1_11.eml", None), ("CVSMaildirSource", "cvs_1_12b.eml", None),
    ("SVNCommitEmailMaildirSource", "svn_commit.eml", "spamassassin/trunk/")])
def test_mail_parsers_give_what_4_3_gives(cls: str, filename: str, prefix: str | None) -> None:
    recorded = json.loads((FIXTURES / "mail_parsed_4_3.json").read_text())[filename]
    with open(FIXTURES / filename, encoding="utf-8") as f:
        parsed = getattr(mail, cls)("/nonexistent").parse_file(f, prefix)
    if parsed[0] == "svn":  # the time of receipt
        parsed[1]["when"] = "NOW"
    assert json.loads(json.dumps(parsed)) == recorded


def test_launchpad_parser_reads_the_branch_mail() -> None:
    # 4.3's parser returns None for every mail (see mail._decoded_body_lines)
    source = mail.BzrLaunchpadEmailMaildirSource(
        "/nonexistent", branchMap={"lp:~knielsen/maria/tmp-buildbot-test": "maria-test"})
    with open(FIXTURES / "launchpad.eml", encoding="utf-8") as f:
        parsed = source.parse_file(f)
    assert parsed == ("bzr", {
        "author": "Joe <joe@acme.com>", "committer": None,
        "files": ["test-add-file ADDED", "a.txt RENAMED b.txt", "sql/handler.cc MODIFIED"],
        "comments": "test add file\n", "when": 1242376543, "revision": "2701",
        "branch": "maria-test", "repository": "~knielsen/maria/tmp-buildbot-test"})


def deliver(maildir: Path, name: str, text: str) -> None:
    tmp = maildir / "tmp" / name
    tmp.write_text(text)
    os.rename(tmp, maildir / "new" / name)


async def wait_for_changes(stack: Stack, n: int) -> None:
    """Until `n` changes are stored (checked at each announced change), 20 s at most."""
    from twisted.internet import reactor

    arrived: defer.Deferred[None] = defer.Deferred()

    def check(*_: Any) -> None:
        d = defer.ensureDeferred(stack.data.get(("changes",)))
        d.addCallback(lambda rows: len(rows) >= n and not arrived.called
                      and arrived.callback(None))

    consumer = await stack.mq.startConsuming(check, ("changes", None, "new"))
    check()
    try:
        await arrived.addTimeout(20, reactor)
    except defer.TimeoutError:
        raise AssertionError(f"{n} changes never arrived") from None
    finally:
        consumer.stopConsuming()


@pytest_twisted.ensureDeferred
async def test_maildir_source_turns_delivered_mail_into_changes(stack: Stack,
                                                                tmp_path: Path) -> None:
    maildir = tmp_path / "maildir"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True)
    # delivered while the master was down: read at start
    deliver(maildir, "1.cvs", (FIXTURES / "cvs_1_12b.eml").read_text())
    source = mail.CVSMaildirSource(str(maildir), properties={"origin": "cvs-mail"})
    source.master = stack.master
    await source.reconfigServiceWithSibling(source)
    await maybe_await(source.startService())
    try:
        await wait_for_changes(stack, 1)
        deliver(maildir, "2.cvs", (FIXTURES / "cvs_1_11.eml").read_text())
        deliver(maildir, "3.junk", "From: \nSubject: hello\n\nnot a commit mail\n")
        await wait_for_changes(stack, 2)
    finally:
        await maybe_await(source.stopService())
    changes = await stored_changes(stack)
    assert [(c["author"], c["files"], c["branch"], c["revision"], c["when_timestamp"],
             c["category"], c["repository"], c["project"], c["properties"]) for c in changes] == [
        ("andy", ["base/module/src/make/GNUmakefile", "base/module/src/make/new.c"],
         "BRANCH-DEVEL", "2010-07-07 22:43:11", 1278542591, "None",
         ":ext:cvshost.example.com:/cvsroot", "MyModuleName",
         {"origin": ("cvs-mail", "Change")}),
        ("andy", ["base/module/src/make/GNUmakefile"], None, "2010-07-07 22:43:11",
         1278542591, "None", ":ext:cvshost.example.com:/cvsroot", "MyModuleName",
         {"origin": ("cvs-mail", "Change")})]
    assert sorted(os.listdir(maildir / "cur")) == ["1.cvs", "2.cvs", "3.junk"]
    assert os.listdir(maildir / "new") == []


def test_missing_maildir_is_refused_at_start(tmp_path: Path) -> None:
    from buildbot.util.maildir import NoSuchMaildir

    source = mail.SVNCommitEmailMaildirSource(str(tmp_path / "nope"))
    d = source.startService()
    failures: list[Any] = []
    d.addErrback(failures.append)
    assert failures and failures[0].check(NoSuchMaildir)
    assert str(failures[0].value) == f"invalid maildir '{tmp_path / 'nope'}'"

