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
from buildbot.reporters.utils import merge_reports_prop, merge_reports_prop_take_first
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


@implementer(IEmailSender)
class MailNotifier(ReporterBase):
    """`reporters.MailNotifier(fromaddr, relayhost='localhost', ...)`."""

    secrets: ClassVar[list[str]] = ["smtpUser", "smtpPassword"]

    def checkConfig(self, fromaddr: str, relayhost: str = "localhost",  # type: ignore[override]
                    lookup: Any = None, extraRecipients: Any = None,
                    sendToInterestedUsers: bool = True, extraHeaders: Any = None,
                    useTls: bool = False, useSmtps: bool = False, smtpUser: Any = None,
                    smtpPassword: Any = None, smtpPort: int = 25,
                    dumpMailsToLog: bool = False, generators: Any = None) -> None:
        if generators is None:
            generators = self._create_default_generators()
        super().checkConfig(generators=generators)
        if extraRecipients is None:
            extraRecipients = []
        if not isinstance(extraRecipients, (list, tuple)):
            config.error("extraRecipients must be a list or tuple")
        else:
            for r in extraRecipients:
                if not isinstance(r, str) or not VALID_EMAIL.search(r):
                    config.error(f"extra recipient {r} is not a valid email")
        if lookup is not None and not isinstance(lookup, str) and \
                not IEmailLookup.providedBy(lookup):
            config.error("lookup must be a domain name (str) or provide IEmailLookup")
        if extraHeaders and not isinstance(extraHeaders, dict):
            config.error("extraHeaders must be a dictionary")

    async def reconfigService(self, fromaddr: str,  # type: ignore[override]
                              relayhost: str = "localhost", lookup: Any = None,
                              extraRecipients: Any = None, sendToInterestedUsers: bool = True,
                              extraHeaders: Any = None, useTls: bool = False,
                              useSmtps: bool = False, smtpUser: Any = None,
                              smtpPassword: Any = None, smtpPort: int = 25,
                              dumpMailsToLog: bool = False, generators: Any = None) -> None:
        if generators is None:
            generators = self._create_default_generators()
        await super().reconfigService(generators=generators)
        self.extraRecipients = list(extraRecipients or [])
        self.sendToInterestedUsers = sendToInterestedUsers
        self.fromaddr = fromaddr
        self.relayhost = relayhost
        self.lookup = Domain(str(lookup)) if isinstance(lookup, str) else lookup
        self.extraHeaders = extraHeaders
        self.useTls = useTls
        self.useSmtps = useSmtps
        self.smtpUser = smtpUser
        self.smtpPassword = smtpPassword
        self.smtpPort = smtpPort
        self.dumpMailsToLog = dumpMailsToLog

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
        a = MIMEText(body.encode(ENCODING), _charset=ENCODING)
        del a["Content-Transfer-Encoding"]
        encoders.encode_base64(a)
        a.add_header("Content-Disposition", "attachment", filename=f"source patch {index}")
        return a

    @staticmethod
    def _builder_names_by_log(builds: list[dict[str, Any]] | None) -> dict[Any, str]:
        names: dict[Any, str] = {}
        for build in builds or []:
            builder = (build.get("builder") or {}).get("name", "")
            for step in build.get("steps") or []:
                for entry in step.get("logs") or []:
                    names[entry.get("logid")] = builder
        return names

    async def createEmail(self, msgdict: dict[str, Any], title: str, results: Any,
                          builds: list[dict[str, Any]] | None = None,
                          patches: list[Any] | None = None,
                          logs: list[dict[str, Any]] | None = None) -> Message:
        """The message (without `To`) for a merged report."""
        text = msgdict["body"]
        msgtype = msgdict["type"]
        subject = msgdict["subject"]
        if "\n" in subject:
            raise ValueError("Subject cannot contain newlines")
        if msgtype not in ("plain", "html"):
            raise ValueError(f"'{msgtype}' message type must be 'plain' or 'html'.")
        m: Message
        if patches or logs:
            m = MIMEMultipart()
            if isinstance(text, bytes):
                text = text.decode(ENCODING)
            m.attach(MIMEText(text, msgtype, ENCODING))
        else:
            m = Message()
            m.set_payload(text, ENCODING)
            m.set_type(f"text/{msgtype}")
        m["Date"] = formatdate(localtime=True)
        m["Subject"] = subject
        m["From"] = self.fromaddr
        for i, patch in enumerate(patches or []):
            m.attach(self.patch_to_attachment(patch, i))
        if logs:
            # 4.3 names attachments of multi-build reports after a `buildername` key the
            # logs do not have (KeyError); the builder of each log is looked up instead.
            builders = self._builder_names_by_log(builds)
            for entry in logs:
                name = f"{entry['stepname']}.{entry['name']}"
                if builds is not None and len(builds) > 1:
                    name = f"{builders.get(entry.get('logid'), '')}.{name}"
                content = entry["content"]["content"]
                a = MIMEText(content.encode(ENCODING), _charset=ENCODING)
                del a["Content-Transfer-Encoding"]
                encoders.encode_base64(a)
                a.add_header("Content-Disposition", "attachment", filename=name)
                m.attach(a)
        if self.extraHeaders:
            headers = self.extraHeaders
            if builds is not None and len(builds) == 1:
                props = Properties.fromDict(builds[0].get("properties") or {})
                props.master = self.master
                headers = await props.render(headers)
            for k, v in headers.items():
                if k in m:
                    log.info("Warning: Got header {k} in self.extraHeaders but it already "
                             "exists in the Message - not adding it.", k=k)
                m[k] = v
        return m

    # -- recipients -----------------------------------------------------------------------
    async def findInterrestedUsersEmails(self, users: list[str]) -> set[str]:
        """Valid addresses of `users` (through `lookup`) if `sendToInterestedUsers`."""
        recipients: set[str] = set()
        if not self.sendToInterestedUsers:
            return recipients
        if self.lookup:
            users = await gather([maybe_await(self.lookup.getAddress(u)) for u in users])
        for r in users:
            if r is None:
                continue
            # git can give 'User <user@foo.com>@foo.com': drop the second domain
            if r.count("@") > 1:
                r = r[:r.rindex("@")]
            if VALID_EMAIL.search(r):
                recipients.add(r)
            else:
                log.info("INVALID EMAIL: {r}", r=r)
        return recipients

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
        body = merge_reports_prop(reports, "body")
        subject = merge_reports_prop_take_first(reports, "subject")
        msgtype = merge_reports_prop_take_first(reports, "type")
        results = merge_reports_prop(reports, "results")
        builds = merge_reports_prop(reports, "builds")
        users = merge_reports_prop(reports, "users")
        patches = merge_reports_prop(reports, "patches")
        logs = merge_reports_prop(reports, "logs")
        worker = merge_reports_prop_take_first(reports, "worker")

        body = unicode2bytes(body) if body is not None else b""
        if not body.endswith(b"\n\n"):
            body += b"\n\n"
        msgdict = {"body": body, "subject": subject, "type": msgtype}
        m = await self.createEmail(msgdict, self.master.config.title, results, builds,
                                   patches, logs)
        if worker is None:
            recipients = await self.findInterrestedUsersEmails(list(users or []))
            all_recipients = self.processRecipients(recipients, m)
        else:
            all_recipients = list(users or [])
        await self.sendMail(m, all_recipients)

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
