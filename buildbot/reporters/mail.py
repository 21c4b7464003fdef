"""MailNotifier: reports by email through an SMTP relay (twisted.mail's ESMTP client).

Recipients are the users responsible for the build (change authors, owners; mapped to
addresses through `lookup`) when `sendToInterestedUsers`, plus `extraRecipients` (in CC when
there are interested users); a missing-worker report goes to the worker's
`notify_on_missing` addresses. Patches and wanted logs are attached.
"""

from __future__ import annotations

import re
from email import charset, encoders
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, parseaddr
from io import BytesIO
from typing import Any, ClassVar

from twisted.internet import defer
from twisted.logger import Logger
from twisted.mail.smtp import ESMTPSenderFactory
from zope.interface import implementer

from buildbot import config
from buildbot.interfaces import IEmailLookup, IEmailSender
from buildbot.process.properties import Properties
from buildbot.reporters.base import ENCODING, ReporterBase
from buildbot.reporters.generators.build import BuildStatusGenerator
from buildbot.reporters.generators.worker import WorkerMissingGenerator
from buildbot.reporters.message import MessageFormatter, MessageFormatterMissingWorker
from buildbot.reporters.utils import merge_reports
from buildbot.util import unicode2bytes
from buildbot.util.deferred import gather, maybe_await
from buildbot.util.service import ComparableMixin

log = Logger()

# Same process-wide registration as Buildbot 4.3 (which does it on import): UTF-8 headers
# use the shortest of base64/quoted-printable, bodies go out as 8bit.
charset.add_charset(ENCODING, charset.SHORTEST, None, ENCODING)

# A relay that accepts the connection and then stays silent would otherwise hold the report
# (and the master's shutdown) forever; 4.3 sets no timeout.
SMTP_TIMEOUT = 120

_VALID_EMAIL_ADDR = r"(?:\S+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+\.?)"
VALID_EMAIL = re.compile(rf"^(?:{_VALID_EMAIL_ADDR}|(.+\s+)?<{_VALID_EMAIL_ADDR}>\s*)$")
VALID_EMAIL_ADDR = re.compile(_VALID_EMAIL_ADDR)


@implementer(IEmailLookup)
class Domain(ComparableMixin):
    """`lookup="example.org"`: a user name `bob` becomes `bob@example.org` (addresses are
    passed through)."""

    compare_attrs = ("domain",)

    def __init__(self, domain: str) -> None:
        if "@" in domain:
            raise ValueError(f"a lookup domain has no '@': {domain!r}")
        self.domain = domain

    def getAddress(self, name: str) -> str:
        if "@" in name:
            return name
        return f"{name}@{self.domain}"


def _attachment(text: str, filename: str) -> MIMEText:
    # base64, so that long lines survive relays (RFC 5322 2.1.1)
    # bytes, not str: the payload is kept as encoded here and turned to base64 below
    part = MIMEText(text.encode(ENCODING), _charset=ENCODING)  # type: ignore[arg-type]  # see above
    del part["Content-Transfer-Encoding"]
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def _message_with_body(body: Any, msgtype: str, multipart: bool) -> Message:
    """A text/<msgtype> message, or a multipart one whose first part is the text."""
    if not multipart:
        single = Message()
        single.set_payload(body, ENCODING)
        single.set_type(f"text/{msgtype}")
        return single
    mixed = MIMEMultipart()
    text = body.decode(ENCODING) if isinstance(body, bytes) else body
    mixed.attach(MIMEText(text, msgtype, ENCODING))
    return mixed


def _without_second_domain(address: str) -> str:
    # git can give 'User <user@foo.com>@foo.com' (a lookup domain added to an address)
    if address.count("@") > 1:
        return address[:address.rindex("@")]
    return address


def _setting_problems(extra_recipients: Any, lookup: Any, extra_headers: Any) -> list[str]:
    """Configuration errors of MailNotifier's address settings (4.3's texts)."""
    problems = []
    if extra_recipients is not None and not isinstance(extra_recipients, (list, tuple)):
        problems.append("extraRecipients must be a list or tuple")
    elif extra_recipients:
        problems += [f"extra recipient {r} is not a valid email" for r in extra_recipients
                     if not (isinstance(r, str) and VALID_EMAIL.search(r))]
    if not (lookup is None or isinstance(lookup, str) or IEmailLookup.providedBy(lookup)):
        problems.append("lookup must be a domain name (str) or provide IEmailLookup")
    if extra_headers and not isinstance(extra_headers, dict):
        problems.append("extraHeaders must be a dictionary")
    return problems


@implementer(IEmailSender)
class MailNotifier(ReporterBase):
    """`reporters.MailNotifier(fromaddr, relayhost='localhost', ...)`."""

    secrets: ClassVar[list[str]] = ["smtpUser", "smtpPassword"]

    def checkConfig(self, fromaddr: str, relayhost: str = "localhost",  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    lookup: Any = None, extraRecipients: Any = None,
                    sendToInterestedUsers: bool = True, extraHeaders: Any = None,
                    useTls: bool = False, useSmtps: bool = False, smtpUser: Any = None,
                    smtpPassword: Any = None, smtpPort: int = 25,
                    dumpMailsToLog: bool = False, generators: Any = None) -> None:
        super().checkConfig(generators=generators)
        for problem in _setting_problems(extraRecipients, lookup, extraHeaders):
            config.error(problem)

    async def reconfigService(self, fromaddr: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              relayhost: str = "localhost", lookup: Any = None,
                              extraRecipients: Any = None, sendToInterestedUsers: bool = True,
                              extraHeaders: Any = None, useTls: bool = False,
                              useSmtps: bool = False, smtpUser: Any = None,
                              smtpPassword: Any = None, smtpPort: int = 25,
                              dumpMailsToLog: bool = False, generators: Any = None) -> None:
        await super().reconfigService(generators=generators)
        # who gets the mail
        self.fromaddr = fromaddr
        self.sendToInterestedUsers = sendToInterestedUsers
        self.lookup = Domain(lookup) if isinstance(lookup, str) else lookup
        self.extraRecipients = list(extraRecipients or [])
        self.extraHeaders = extraHeaders
        self.dumpMailsToLog = dumpMailsToLog
        # how it is delivered
        self.relayhost, self.smtpPort = relayhost, smtpPort
        self.useTls, self.useSmtps = useTls, useSmtps
        self.smtpUser, self.smtpPassword = smtpUser, smtpPassword

    def _create_default_generators(self) -> list[Any]:
        return [
            BuildStatusGenerator(add_patch=True,
                                 message_formatter=MessageFormatter(template_type="html")),
            WorkerMissingGenerator(
                workers="all",
                message_formatter=MessageFormatterMissingWorker(template_type="html")),
        ]

    # -- building the message -------------------------------------------------------------
    def patch_to_attachment(self, patch: dict[str, Any], index: int) -> MIMEText:
        """A base64 attachment "source patch <index>" holding the patch body."""
        body = patch["body"]
        if isinstance(body, bytes):
            body = body.decode(ENCODING, "replace")
        return _attachment(body, f"source patch {index}")

    @staticmethod
    def _log_attachments(logs: list[dict[str, Any]],
                         builds: list[dict[str, Any]] | None) -> list[MIMEText]:
        # "<step>.<log>", prefixed by the builder when the mail covers several builds.
        # 4.3 names those after a `buildername` key the logs do not have (KeyError); the
        # builder of each log is looked up instead.
        several = builds is not None and len(builds) > 1
        builder_of_log = {entry.get("logid"): (build.get("builder") or {}).get("name", "")
                          for build in builds or [] for step in build.get("steps") or []
                          for entry in step.get("logs") or []}
        parts = []
        for entry in logs:
            filename = f"{entry['stepname']}.{entry['name']}"
            if several:
                filename = f"{builder_of_log.get(entry.get('logid'), '')}.{filename}"
            parts.append(_attachment(entry["content"]["content"], filename))
        return parts

    async def _rendered_extra_headers(self, builds: list[dict[str, Any]] | None) -> Any:
        # rendered with the build's properties only when the mail is about one build
        if builds is None or len(builds) != 1:
            return self.extraHeaders
        props = Properties.fromDict(builds[0].get("properties") or {})
        props.master = self.master
        return await props.render(self.extraHeaders)

    async def createEmail(self, msgdict: dict[str, Any], title: str, results: Any,
                          builds: list[dict[str, Any]] | None = None,
                          patches: list[Any] | None = None,
                          logs: list[dict[str, Any]] | None = None) -> Message:
        """The message (without `To`) for a merged report."""
        subject, msgtype = msgdict["subject"], msgdict["type"]
        if "\n" in subject:
            raise ValueError("Subject cannot contain newlines")
        if msgtype not in ("plain", "html"):
            raise ValueError(f"'{msgtype}' message type must be 'plain' or 'html'.")
        attachments = [self.patch_to_attachment(p, i) for i, p in enumerate(patches or [])]
        attachments += self._log_attachments(logs or [], builds)
        m = _message_with_body(msgdict["body"], msgtype, multipart=bool(patches or logs))
        m["Date"] = formatdate(localtime=True)
        m["Subject"] = subject
        m["From"] = self.fromaddr
        for part in attachments:
            m.attach(part)
        if self.extraHeaders:
            for name, value in (await self._rendered_extra_headers(builds)).items():
                if name in m:
                    log.info("Warning: Got header {k} in self.extraHeaders but it already "
                             "exists in the Message - not adding it.", k=name)
                m[name] = value
        return m

    # -- recipients -----------------------------------------------------------------------
    async def findInterrestedUsersEmails(self, users: list[str]) -> set[str]:
        """Valid addresses of `users` (through `lookup`) if `sendToInterestedUsers`."""
        if not self.sendToInterestedUsers:
            return set()
        addresses = users
        if self.lookup:
            addresses = await gather([maybe_await(self.lookup.getAddress(u)) for u in users])
        # None: the lookup had no address for that user
        found = {_without_second_domain(a) for a in addresses if a is not None}
        for invalid in sorted(a for a in found if not VALID_EMAIL.search(a)):
            log.info("INVALID EMAIL: {r}", r=invalid)
        return {a for a in found if VALID_EMAIL.search(a)}

    def formatAddress(self, addr: str) -> str:
        name, address = parseaddr(addr)
        if not name:
            return address
        return f"\"{Header(name, 'utf-8').encode()}\" <{address}>"

    def processRecipients(self, blamelist: Any, m: Message) -> list[str]:
        """Set `To` (and `CC`) on `m`; return every recipient."""
        to_recipients = set(blamelist)
        cc_recipients: set[str] = set()
        # extras go in CC when interested users are the main recipients, so they can tell
        # whether the mail is about them
        if self.sendToInterestedUsers and to_recipients:
            cc_recipients.update(self.extraRecipients)
        else:
            to_recipients.update(self.extraRecipients)
        m["To"] = ", ".join(self.formatAddress(a) for a in sorted(to_recipients))
        if cc_recipients:
            m["CC"] = ", ".join(self.formatAddress(a) for a in sorted(cc_recipients))
        return list(to_recipients | cc_recipients)

    # -- sending --------------------------------------------------------------------------
    async def sendMessage(self, reports: list[dict[str, Any]]) -> None:
        merged = merge_reports(reports)
        body = unicode2bytes(merged["body"]) if merged["body"] is not None else b""
        if not body.endswith(b"\n\n"):  # the body always ends with an empty line
            body += b"\n\n"
        m = await self.createEmail(
            {"body": body, "subject": merged["subject"], "type": merged["type"]},
            self.master.config.title, merged["results"], merged["builds"],
            merged["patches"], merged["logs"])
        users = list(merged["users"] or [])
        if merged["worker"] is not None:
            # a missing-worker report: `users` are the worker's notify addresses already
            await self.sendMail(m, users)
            return
        recipients = await self.findInterrestedUsersEmails(users)
        await self.sendMail(m, self.processRecipients(recipients, m))

    def sendMail(self, m: Message, recipients: list[str]) -> defer.Deferred[Any]:
        """Deliver `m` to `recipients` through the relay; the Deferred fires when the relay
        accepted it (or fails)."""
        text = m.as_string()
        log.info("sending mail ({n} bytes) to {recipients}", n=len(text), recipients=recipients)
        if self.dumpMailsToLog:
            log.info("mail data:\n{text}", text=text)
        result: defer.Deferred[Any] = defer.Deferred()
        use_auth = bool(self.smtpUser and self.smtpPassword)
        hostname = self.relayhost if self.useTls or use_auth else None
        factory = ESMTPSenderFactory(
            unicode2bytes(self.smtpUser), unicode2bytes(self.smtpPassword),
            parseaddr(self.fromaddr)[1], [parseaddr(r)[1] for r in recipients],
            BytesIO(unicode2bytes(text)), result,
            requireTransportSecurity=self.useTls, requireAuthentication=use_auth,
            hostname=hostname, timeout=SMTP_TIMEOUT)
        reactor = self.master.reactor
        if self.useSmtps:
            from twisted.internet import ssl

            reactor.connectSSL(self.relayhost, self.smtpPort, factory,
                               ssl.ClientContextFactory())
        else:
            reactor.connectTCP(self.relayhost, self.smtpPort, factory)
        return result
