"""MailNotifier on real builds, delivering to a local ESMTP server."""

from __future__ import annotations

import json
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import reporters, secrets, util, worker
from buildbot.process.results import FAILURE
from tests.fixtures.master import running_master
from tests.reporters.builds import BUILDBOT_URL, force, master_config, secrets_dir
from tests.reporters.remote_services import RecordingSmtpServer


@pytest_twisted.async_yield_fixture
async def smtp() -> Any:
    srv = RecordingSmtpServer()
    srv.start()
    yield srv
    await srv.stop()


def subject_of(msg: Any) -> str:
    return str(make_header(decode_header(msg["Subject"])))


def body_of(msg: Any) -> str:
    part = msg.get_payload()[0] if msg.is_multipart() else msg
    return part.get_payload(decode=True).decode("utf-8")


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_failed_build_mails_owner_with_extra_recipients_in_cc(
        tmp_path: Path, smtp: RecordingSmtpServer) -> None:
    mn = reporters.MailNotifier(
        fromaddr="buildbot@example.org", relayhost="127.0.0.1", smtpPort=smtp.portnum,
        extraRecipients=["team@example.org"],
        extraHeaders={"X-Builder": util.Interpolate("%(prop:buildername)s")},
        generators=[reporters.BuildStatusGenerator(
            mode="failing", message_formatter=reporters.MessageFormatter())])
    async with running_master(tmp_path, master_config(mn, fail=("b0",))) as master:
        bs = await force(master, branch="main")
        (mail,) = await smtp.wait_for(1)
        builds = await master.data.get(("builds",))
    assert bs["results"] == FAILURE
    assert mail.sender == "buildbot@example.org"
    assert sorted(mail.recipients) == ["me@example.org", "team@example.org"]
    msg = mail.message
    assert msg["From"] == "buildbot@example.org"
    assert msg["To"] == '"=?utf-8?q?me?=" <me@example.org>'  # as 4.3 encodes it
    assert msg["CC"] == "team@example.org"
    assert msg["X-Builder"] == "b0"
    assert msg["Content-Type"] == 'text/plain; charset="utf-8"'
    assert subject_of(msg) == "\u2620 Buildbot (Reporting): b0 - failed 'exit 1' (failure) (main)"
    body = body_of(msg)
    url = f"{BUILDBOT_URL}#/builders/{builds[0]['builderid']}/builds/1"
    assert "Buildbot detected a failed build on builder b0 while building Reporting." in body
    assert f"Full details: {url}\n" in body
    assert "Build state: failed 'exit 1' (failure)\n" in body
    assert "Blamelist: me <me@example.org>\n" in body
    assert "- 1: run ( failure )\n" in body
    assert f"        - stdio: {url}/steps/1/logs/stdio\n" in body


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_passing_build_is_not_mailed_in_failing_mode_and_lookup_maps_users(
        tmp_path: Path, smtp: RecordingSmtpServer) -> None:
    mn = reporters.MailNotifier(
        fromaddr="bb@example.org", relayhost="127.0.0.1", smtpPort=smtp.portnum,
        lookup="example.com", sendToInterestedUsers=True,
        generators=[reporters.BuildStatusGenerator(
            mode=("failing",), builders=["b1"],
            message_formatter=reporters.MessageFormatter(template="{{ summary }}",
                                                         subject="{{ buildername }}"))])
    cfg = master_config(mn, builders=("b0", "b1"), fail=("b1",))
    async with running_master(tmp_path, cfg) as master:
        await force(master, builders=["b0"], owner="alice")
        await force(master, builders=["b1"], owner="bob")
        (mail,) = await smtp.wait_for(1)
    assert mail.recipients == ["bob@example.com"]
    assert subject_of(mail.message) == "b1"
    assert body_of(mail.message) == "BUILD FAILED: failed 'exit 1' (failure)\n\n"


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_logs_are_attached_when_the_formatter_wants_their_content(
        tmp_path: Path, smtp: RecordingSmtpServer) -> None:
    mn = reporters.MailNotifier(
        fromaddr="bb@example.org", relayhost="127.0.0.1", smtpPort=smtp.portnum,
        sendToInterestedUsers=False, extraRecipients=["ops@example.org"],
        generators=[reporters.BuildStatusGenerator(
            mode="all", message_formatter=reporters.MessageFormatter(
                template="see attached", want_logs_content=["run.stdio"]))])
    async with running_master(tmp_path, master_config(mn)) as master:
        await force(master)
        (mail,) = await smtp.wait_for(1)
    msg = mail.message
    assert mail.recipients == ["ops@example.org"]
    assert msg["To"] == "ops@example.org"
    assert msg.is_multipart()
    parts = msg.get_payload()
    assert parts[0].get_payload(decode=True) == b"see attached\n\n"
    assert [p.get_filename() for p in parts[1:]] == ["run.stdio"]
    assert b"hello" in parts[1].get_payload(decode=True)


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_smtp_auth_credentials_come_from_secrets(tmp_path: Path) -> None:
    smtp = RecordingSmtpServer(credentials={"mailer": "pw1"})
    smtp.start()
    try:
        mn = reporters.MailNotifier(
            fromaddr="bb@example.org", relayhost="127.0.0.1", smtpPort=smtp.portnum,
            smtpUser="mailer", smtpPassword=util.Secret("smtp_pw"),
            sendToInterestedUsers=False, extraRecipients=["ops@example.org"],
            generators=[reporters.BuildStatusGenerator(mode="all")])
        cfg = master_config(mn, secretsProviders=[
            secrets.SecretInAFile(dirname=secrets_dir(tmp_path, smtp_pw="pw1"))])
        async with running_master(tmp_path, cfg) as master:
            await force(master)
            (mail,) = await smtp.wait_for(1)
    finally:
        await smtp.stop()
    assert mail.authenticated == "mailer"
    assert mail.recipients == ["ops@example.org"]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_missing_worker_is_mailed_to_its_notify_addresses(
        tmp_path: Path, smtp: RecordingSmtpServer) -> None:
    mn = reporters.MailNotifier(fromaddr="bb@example.org", relayhost="127.0.0.1",
                                smtpPort=smtp.portnum)
    cfg = master_config(mn)
    cfg["workers"].append(worker.Worker("ghost", "pw", missing_timeout=1,
                                        notify_on_missing=["admin@example.org"]))
    async with running_master(tmp_path, cfg):
        (mail,) = await smtp.wait_for(1)
    msg = mail.message
    assert mail.recipients == ["admin@example.org"]
    assert msg["To"] is None
    assert subject_of(msg) == "Buildbot Reporting worker ghost missing"
    assert msg["Content-Type"] == 'text/html; charset="utf-8"'
    body = body_of(msg)
    assert body.startswith("<p>Buildbot worker ghost is missing.</p>\n<p>It last disconnected "
                           "at ")


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_smtps_relay(tmp_path: Path) -> None:
    smtp = RecordingSmtpServer(tls=True)
    smtp.start()
    try:
        mn = reporters.MailNotifier(
            fromaddr="bb@example.org", relayhost="127.0.0.1", smtpPort=smtp.portnum,
            useSmtps=True, sendToInterestedUsers=False, extraRecipients=["ops@example.org"],
            generators=[reporters.BuildStatusGenerator(mode="all")])
        async with running_master(tmp_path, master_config(mn)) as master:
            await force(master)
            (mail,) = await smtp.wait_for(1)
    finally:
        await smtp.stop()
    assert mail.recipients == ["ops@example.org"]
    assert subject_of(mail.message).startswith("\u263a Buildbot (Reporting): b0 - ")


# createEmail's MIME structure (parts, their types, file names and encodings) for patches
# and logs, recorded from 4.3's MailNotifier.createEmail.
MAIL_PARTS = json.loads((Path(__file__).parent / "reference_mail_parts.json").read_text())


@pytest.mark.parametrize("case", MAIL_PARTS, ids=[str(i) for i in range(len(MAIL_PARTS))])
@pytest_twisted.ensureDeferred
async def test_create_email_attaches_patches_and_logs_as_the_reference(
        case: dict[str, Any]) -> None:
    mn = reporters.MailNotifier("bb@example.org")
    mn.fromaddr, mn.extraHeaders = "bb@example.org", None
    m = await mn.createEmail({"body": b"hello\n\n", "subject": "subj", "type": case["type"]},
                             "T", 0, builds=[{"properties": {}}], patches=case["patches"],
                             logs=case["logs"])
    parts = m.get_payload() if m.is_multipart() else [m]
    assert m.get_content_type() == case["content_type"]
    assert [{"type": p.get_content_type(), "filename": p.get_filename(),
             "cte": p["Content-Transfer-Encoding"],
             "text": p.get_payload(decode=True).decode()} for p in parts] == case["parts"]
