"""P4Source: polls a Perforce depot path with the `p4` command line.

The first poll only notes the newest changelist (`p4 changes -m 1 <base>...`); later polls
list the changelists after it (`p4 changes <base>...@<last+1>,#head`) and describe each
(`p4 describe -s <n>`), reporting one change per branch its files touch. The position is
kept in memory, as in Buildbot 4.3.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable
from typing import Any

from twisted.internet import defer, protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from buildbot import config
from buildbot.changes.base import ReconfigurablePollingChangeSource
from buildbot.changes.process import run_process
from buildbot.util.misc import bytes2unicode, datetime2epoch

log = Logger()

# True: log the `p4 login` exchange (password included), as 4.3's module flag does
debug_logging = False


class P4PollerError(Exception):
    """A `p4` command failed or printed something unexpected."""


class TicketLoginProtocol(protocol.ProcessProtocol):
    """Feeds the password to `p4 login` on stdin; `deferred` fires with its exit code."""

    def __init__(self, stdin: str, p4base: str) -> None:
        self.p4base, self.stdin = p4base, stdin.encode("ascii")
        self.stdout = self.stderr = b""  # what p4 printed, kept for whoever looks
        self.deferred: defer.Deferred[int] = defer.Deferred()

    def connectionMade(self) -> None:
        transport: Any = self.transport
        if self.stdin:
            if debug_logging:
                log.info("P4Poller: entering password for {base}: {pw!r}", base=self.p4base,
                         pw=self.stdin)
            transport.write(self.stdin)
        transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        self.stdout += data

    def errReceived(self, data: bytes) -> None:
        self.stderr += data

    def processEnded(self, reason: Failure) -> None:
        code = getattr(reason.value, "exitCode", None)
        if debug_logging:
            log.info("P4Poller: login process finished for {base}: {code}", base=self.p4base,
                     code=code)
        self.deferred.callback(code if code is not None else -1)


def get_simple_split(branchfile: str) -> tuple[str | None, str | None]:
    """`(branch, file)` taking the first path component as the branch ((None, None) for
    a path without one)."""
    branch, sep, rest = branchfile.partition("/")
    return (branch, rest) if sep else (None, None)


def _no_split(branchfile: str) -> tuple[str | None, str | None]:
    return None, branchfile


def _no_revlink(branch: str, revision: str) -> str:
    return ""


def _same_who(who: str) -> str:
    return who


def _timezone(name: str) -> Any:
    import dateutil.tz  # python-dateutil, a dependency of 4.3's as of ours

    return dateutil.tz.gettz(name)


class P4Source(ReconfigurablePollingChangeSource):
    """`changes.P4Source(p4port=None, p4user=None, p4passwd=None, p4base="//", p4bin="p4",
    split_file=<all on the default branch>, pollInterval=600, histmax=None,
    encoding="utf8", project=None, name=None, use_tickets=False,
    ticket_login_interval=86400, server_tz=None, pollAtLaunch=False, revlink=...,
    resolvewho=..., pollRandomDelayMin=0, pollRandomDelayMax=0)`."""

    # what `p4` needs from the master's environment (nothing else is passed on)
    # (a list in 4.3: subclasses extend it)
    env_vars = ["P4CLIENT", "P4PORT", "P4PASSWD", "P4USER", "P4CHARSET",  # noqa: RUF012
                "P4CONFIG", "P4TICKETS", "PATH", "HOME"]
    loop = None  # 4.3 has this attribute, always None (its polling loop is `doPoll`)
    changes_line_re = re.compile(r"Change (?P<num>\d+) on \S+ by \S+@\S+ '.*'$")
    describe_header_re = re.compile(r"Change \d+ by (?P<who>\S+)@\S+ on (?P<when>.+)$")
    file_re = re.compile(r"^\.\.\. (?P<path>[^#]+)#\d+ [/\w]+$")
    datefmt = "%Y/%m/%d %H:%M:%S"

    last_change: int | None = None

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("name") is None:
            kwargs["name"] = self.build_name(None, kwargs.get("p4port"),
                                             kwargs.get("p4base", "//"))
        super().__init__(**kwargs)

    @staticmethod
    def build_name(name: str | None, p4port: str | None, p4base: str) -> str:
        return name if name is not None else f"P4Source:{p4port}:{p4base}"

    def checkConfig(self, p4port: str | None = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    p4user: str | None = None, p4passwd: str | None = None,
                    p4base: str = "//", p4bin: str = "p4",
                    split_file: Callable[[str], tuple[str | None, str | None]] = _no_split,
                    pollInterval: float = 60 * 10, histmax: int | None = None,
                    encoding: str = "utf8", project: str | None = None,
                    name: str | None = None, use_tickets: bool = False,
                    ticket_login_interval: int = 60 * 60 * 24, server_tz: str | None = None,
                    pollAtLaunch: bool = False,
                    revlink: Callable[[str, str], str] = _no_revlink,
                    resolvewho: Callable[[str], str] = _same_who,
                    pollRandomDelayMin: int = 0, pollRandomDelayMax: int = 0) -> None:
        problems = {
            "You need to provide a P4 password to use ticket authentication":
                use_tickets and not p4passwd,
            "You need to provide a valid callable for revlink": not callable(revlink),
            "You need to provide a valid callable for resolvewho": not callable(resolvewho),
        }
        for message in (m for m, bad in problems.items() if bad):
            config.error(message)
        if server_tz is not None and _timezone(server_tz) is None:
            raise P4PollerError(f"Failed to get timezone from server_tz string '{server_tz}'")
        super().checkConfig(name=self.build_name(name, p4port, p4base),
                            pollInterval=pollInterval, pollAtLaunch=pollAtLaunch,
                            pollRandomDelayMin=pollRandomDelayMin,
                            pollRandomDelayMax=pollRandomDelayMax)

    async def reconfigService(self, p4port: str | None = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              p4user: str | None = None, p4passwd: str | None = None,
                              p4base: str = "//", p4bin: str = "p4",
                              split_file: Callable[[str], tuple[str | None, str | None]]
                              = _no_split,
                              pollInterval: float = 60 * 10, histmax: int | None = None,
                              encoding: str = "utf8", project: str | None = None,
                              name: str | None = None, use_tickets: bool = False,
                              ticket_login_interval: int = 60 * 60 * 24,
                              server_tz: str | None = None, pollAtLaunch: bool = False,
                              revlink: Callable[[str, str], str] = _no_revlink,
                              resolvewho: Callable[[str], str] = _same_who,
                              pollRandomDelayMin: int = 0, pollRandomDelayMax: int = 0
                              ) -> None:
        self.p4port, self.p4user, self.p4passwd = p4port, p4user, p4passwd
        self.p4base, self.p4bin = p4base, p4bin
        self.split_file = split_file
        self.encoding = encoding
        self.project = bytes2unicode(project or "")
        self.use_tickets = use_tickets
        self.ticket_login_interval = ticket_login_interval
        self.revlink_callable = revlink
        self.resolvewho_callable = resolvewho
        self.server_tz = _timezone(server_tz) if server_tz else None
        self._ticket_login_counter = 0
        await super().reconfigService(
            name=self.build_name(name, p4port, p4base), pollInterval=pollInterval,
            pollAtLaunch=pollAtLaunch, pollRandomDelayMin=pollRandomDelayMin,
            pollRandomDelayMax=pollRandomDelayMax)

    def describe(self) -> str:
        return f"p4source {self.p4port} {self.p4base}"

    async def poll(self) -> None:
        try:
            await self._poll_depot()
        except Exception:  # noqa: BLE001 - logged; the next poll retries
            log.failure("P4 poll failed on {port}, {base}", port=self.p4port,
                        base=self.p4base)

    def _connection_args(self) -> list[str]:
        args = ["-p", self.p4port] if self.p4port else []
        if not self.use_tickets:  # with tickets the login holds the credentials
            if self.p4user:
                args += ["-u", self.p4user]
            if self.p4passwd:
                args += ["-P", self.p4passwd]
        return args

    async def _p4(self, *args: str) -> str:
        env = {k: os.environ[k] for k in self.env_vars if os.environ.get(k)}
        code, out, err = await run_process(self.master.reactor, [self.p4bin, *args], env=env)
        if code != 0 or err:
            raise P4PollerError(f"Failed to run {self.p4bin}")
        try:
            return str(bytes2unicode(out, self.encoding))
        except UnicodeError as e:
            log.warn("{err}: cannot fully decode {out!r} in {enc}",  # noqa: G010
                     err=e, out=out,
                     enc=self.encoding)
            return str(bytes2unicode(out, self.encoding, errors="replace"))

    async def _login(self) -> None:
        self._ticket_login_counter -= 1
        if self._ticket_login_counter > 0:
            return
        log.info("P4Poller: (re)acquiring P4 ticket for {base}...", base=self.p4base)
        argv = [self.p4bin]
        if self.p4port:
            argv += ["-p", self.p4port]
        if self.p4user:
            argv += ["-u", self.p4user]
        assert self.p4passwd
        login = TicketLoginProtocol(self.p4passwd + "\n", self.p4base)
        reactor = self.master.reactor
        if not hasattr(reactor, "spawnProcess"):  # a test clock
            from twisted.internet import reactor
        reactor.spawnProcess(login, self.p4bin, [*argv, "login"], env=dict(os.environ))
        await login.deferred

    async def _poll_depot(self) -> None:
        if self.use_tickets:
            await self._login()
        if self.last_change is None:
            listing = await self._p4(*self._connection_args(), "changes", "-m", "1",
                                     f"{self.p4base}...")
        else:
            listing = await self._p4(*self._connection_args(), "changes",
                                     f"{self.p4base}...@{self.last_change + 1},#head")
        numbers = []
        for line in filter(None, (raw.strip() for raw in listing.split("\n"))):
            m = self.changes_line_re.match(line)
            if not m:
                raise P4PollerError(f"Unexpected 'p4 changes' output: {listing!r}")
            numbers.append(int(m.group("num")))
        if self.last_change is None:
            if numbers:  # the first poll only sets the starting point
                log.info("P4Poller: starting at change {num}", num=numbers[0])
                self.last_change = numbers[0]
            return
        for num in reversed(numbers):  # `p4 changes` lists the newest first
            await self._report(num)
            self.last_change = num

    def _parse_describe(self, text: str) -> tuple[str, int | None, str, dict[str, list[str]]]:
        """(author, epoch time, comments, files per branch) from `p4 describe -s`."""
        lines = text.split("\n")
        header = self.describe_header_re.match(lines[0].rstrip())  # stray ^M seen in the wild
        if not header:
            raise P4PollerError(f"Unexpected 'p4 describe -s' result: {text!r}")
        when = datetime.datetime.strptime(header.group("when"), self.datefmt)
        if self.server_tz:
            when = when.replace(tzinfo=self.server_tz)
        affected = next((i for i, line in enumerate(lines)
                         if i >= 2 and line.startswith("Affected files")), None)
        if affected is None:
            raise P4PollerError(f"Unexpected 'p4 describe -s' result: {text!r}")
        comments = "\n".join(line[1:] for line in lines[2:affected] if line.startswith("\t"))
        per_branch: dict[str, list[str]] = {}
        for line in filter(None, (raw.strip() for raw in lines[affected + 1:])):
            m = self.file_re.match(line)
            if not m:
                raise P4PollerError(f"Invalid file line: {line!r}")
            path = m.group("path")
            if not path.startswith(self.p4base):
                continue
            branch, file = self.split_file(path[len(self.p4base):])
            if branch is not None and file is not None:
                per_branch.setdefault(branch, []).append(file)
        return (self.resolvewho_callable(header.group("who")), datetime2epoch(when),
                comments, per_branch)

    async def _report(self, num: int) -> None:
        text = await self._p4(*self._connection_args(), "describe", "-s", str(num))
        who, when, comments, per_branch = self._parse_describe(text)
        for branch, files in per_branch.items():
            await self.master.data.updates.addChange(
                author=who, committer=None, files=files, comments=comments,
                revision=str(num), when_timestamp=when, branch=branch, project=self.project,
                revlink=self.revlink_callable(branch, str(num)))
