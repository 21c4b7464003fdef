"""The chat engine shared by the IRC and Telegram bots.

A `StatusBot` has `Channel`s (a chat room, or a private chat) and `Contact`s (a user in a
channel). A channel announces the build events its users asked for (`notify on started
finished failure ...`); a contact runs the commands a user types: `hello`, `version`,
`help`, `commands`, `source`, `list`, `status`, `last`, `notify`, `watch`, `force build`,
`stop build`, `shutdown`. Dangerous commands (force, stop, shutdown, ...) are refused unless
`authz` allows them. State reads and writes go through the data API; the channels' notified
events and missing workers are kept in the object state, as 4.3 does.
"""

from __future__ import annotations

import random
import re
import shlex
from collections.abc import Callable
from typing import Any, ClassVar

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python import usage
from twisted.web import resource, server
from twisted.python.failure import Failure

import buildbot
from buildbot import util
from buildbot.process.properties import Properties
from buildbot.process.results import (
    CANCELLED,
    EXCEPTION,
    FAILURE,
    RETRY,
    SKIPPED,
    SUCCESS,
    WARNINGS,
    statusToString,
)
from buildbot.reporters import utils
from buildbot.util.deferred import maybe_await
from buildbot.util.internal import internal_class
from buildbot.util.resultspec import Filter
from buildbot.util.service import AsyncService

log = Logger()

GREETINGS = ["hello", "hi", "hola", "bonjour", "hallo", "ciao", "salut", "hej", "ahoj",
             "privet", "namaste", "konnichiwa", "aloha", "shalom", "merhaba", "jambo"]


class UsageError(ValueError):
    """A command used the wrong way; its text is sent back to the user."""

    def __init__(self, string: str = "Invalid usage", *more: Any) -> None:
        super().__init__(string, *more)


class ForceOptions(usage.Options):
    """Options of `force build`."""

    optParameters = [  # noqa: RUF012  (twisted.python.usage API)
        ["builder", None, None, "which Builder to start"],
        ["codebase", None, "", "which codebase to build"],
        ["branch", None, "master", "which branch to build"],
        ["revision", None, "HEAD", "which revision to build"],
        ["project", None, "", "which project to build"],
        ["reason", None, None, "the reason for starting the build"],
        ["props", None, None, "properties for the build: prop1=value1,prop2=value2"],
    ]

    def parseArgs(self, *args: str) -> None:
        rest = list(args)
        if rest:
            if self["builder"] is not None:
                raise UsageError("--builder provided in two ways")
            self["builder"] = rest.pop(0)
        if rest:
            if self["reason"] is not None:
                raise UsageError("--reason provided in two ways")
            self["reason"] = " ".join(rest)


dangerous_commands: list[str] = []


def dangerousCommand(method: Callable[..., Any]) -> Callable[..., Any]:
    """Mark `command_X` as dangerous: refused unless authz allows it (key "!" or the name)."""
    command = method.__name__
    if not command.startswith("command_"):
        raise ValueError("@dangerousCommand can be used only for commands")
    dangerous_commands.append(command[len("command_"):])
    return method


# `notify` sub-commands: how they change the channel's events, and whether the channel is
# then told what it is notified of
_NOTIFY_ACTIONS: dict[str, tuple[str | None, bool]] = {
    "on": ("add", True), "on-quiet": ("add", False),
    "off": ("remove", True), "off-quiet": ("remove", False),
    "list": (None, True),
}


def governing_acl(authz: dict[str, Any], command: str) -> Any:
    """The `authz` entry deciding who may run `command` (upper case): its own entry, else
    "*", else the default of its kind: "!" (denied if unset) for dangerous commands, ""
    (allowed if unset) for the others."""
    own = authz.get(command)
    if own is not None:
        return own
    kind_default = authz.get("!", False) if command in dangerous_commands \
        else authz.get("", True)
    return authz.get("*", kind_default)


def acl_allows(acl: Any, user: Any) -> bool:
    """An authz value: True/False (None denies), a list of user ids, or one user id."""
    if isinstance(acl, (list, tuple)):
        return user in acl
    if acl in (True, False, None):
        return bool(acl)
    return bool(user == acl)


_EVENT = re.compile(
    "^(started|finished|success|warnings|failure|exception|cancelled|problem|recovery|worse|"
    "better|worker|(success|warnings|failure|exception)To(Success|Warnings|Failure|Exception))$")


class Channel(AsyncService):
    """A chat room or private chat: which events it wants, and their announcements."""

    def __init__(self, bot: StatusBot, channel: Any) -> None:
        super().__init__(name=f"Channel({channel})")
        self.id = channel
        self.bot = bot
        self.notify_events: set[str] = set()
        self.subscribed: list[Any] = []
        self.build_subscriptions: list[tuple[int, Any]] = []
        self.reported_builds: list[tuple[float, str, int]] = []
        self.missing_workers: set[int] = set()
        self.useRevisions = bot.useRevisions

    @property
    def master(self) -> Any:
        return self.bot.master

    def send(self, message: str, **kwargs: Any) -> Any:
        return self.bot.send_message(self.id, message, **kwargs)

    async def stop(self) -> None:
        self.unsubscribe_from_build_events()
        for _, handle in self.build_subscriptions:
            handle.stopConsuming()
        self.build_subscriptions = []
        await super().stop()

    def validate_notification_event(self, event: str) -> None:
        if not _EVENT.match(event):
            raise UsageError(f"Try '{self.bot.commandPrefix}notify on|off _EVENT_'.")

    async def list_notified_events(self) -> None:
        if self.notify_events:
            await maybe_await(self.send("The following events are being notified: "
                                        f"{', '.join(sorted(self.notify_events))}."))
        else:
            await maybe_await(self.send("No events are being notified."))

    def notify_for(self, *events: str) -> bool:
        return any(e in self.notify_events for e in events)

    async def subscribe_to_build_events(self) -> None:
        mq = self.master.mq

        def started(key: Any, msg: Any) -> Any:
            return self.tasks.spawn("build started notice", self.buildStarted(msg))

        def finished(key: Any, msg: Any) -> Any:
            return self.tasks.spawn("build finished notice", self.buildFinished(msg))

        def worker_event(key: Any, msg: Any) -> Any:
            if key[2] == "missing":
                return self.tasks.spawn("worker missing notice", self.workerMissing(msg))
            if key[2] == "connected":
                return self.tasks.spawn("worker connected notice", self.workerConnected(msg))
            return None

        self.subscribed.append(await mq.startConsuming(started, ("builds", None, "new")))
        self.subscribed.append(await mq.startConsuming(finished, ("builds", None, "finished")))
        self.subscribed.append(await mq.startConsuming(worker_event, ("workers", None, None)))

    def unsubscribe_from_build_events(self) -> None:
        old, self.subscribed = self.subscribed, []
        for handle in old:
            handle.stopConsuming()

    async def add_notification_events(self, events: Any) -> None:
        for event in events:
            self.validate_notification_event(event)
            self.notify_events.add(event)
        if not self.subscribed and self.master is not None:
            await self.subscribe_to_build_events()

    async def remove_notification_events(self, events: Any) -> None:
        for event in events:
            self.validate_notification_event(event)
            self.notify_events.discard(event)
        if not self.notify_events:
            self.unsubscribe_from_build_events()

    async def remove_all_notification_events(self) -> None:
        self.notify_events = set()
        self.unsubscribe_from_build_events()

    def shouldReportBuild(self, builder: str, buildnum: int) -> bool:
        """True the first time a build is seen (within a minute), so that a watched build
        is not announced twice."""
        now = self.bot.clock.seconds()
        if any(b == builder and n == buildnum for _, b, n in self.reported_builds):
            return False
        self.reported_builds.append((now, builder, buildnum))
        self.reported_builds = [r for r in self.reported_builds if r[0] >= now - 60]
        return True

    def _tags_allow(self, builder: dict[str, Any]) -> bool:
        return self.bot.tags is None or self.bot.builderMatchesAnyTag(builder.get("tags") or [])

    async def buildStarted(self, build: dict[str, Any]) -> None:
        builder = await self.bot.getBuilder(builderid=build["builderid"])
        if not self._tags_allow(builder) or not self.notify_for("started"):
            return
        if self.useRevisions:
            revisions = await self.bot.getRevisionsForBuild(build)
            text = (f"Build containing revision(s) {','.join(revisions)} on "
                    f"{builder['name']} started")
        else:
            url = utils.getURLForBuild(self.master, builder["builderid"], build["number"])
            text = f"Build [#{build['number']}]({url}) of `{builder['name']}` started"
        await maybe_await(self.send(text + "."))

    async def buildFinished(self, build: dict[str, Any], watched: bool = False) -> None:
        builder = await self.bot.getBuilder(builderid=build["builderid"])
        name, number = builder["name"], build["number"]
        if not self._tags_allow(builder):
            return
        if not (watched or await self.notify_for_finished(build)):
            return
        if not self.shouldReportBuild(name, number):
            return
        status = self.bot.format_build_status(build)
        if self.useRevisions:
            revisions = await self.bot.getRevisionsForBuild(build)
            text = f"Build on `{name}` containing revision(s) {','.join(revisions)} {status}"
        else:
            url = utils.getURLForBuild(self.master, builder["builderid"], number)
            text = f"Build [#{number}]({url}) of `{name}` {status}"
        state = build.get("status_string") or build.get("state_string")
        text += f": {state}" if build["results"] != SUCCESS and state is not None else "."
        await maybe_await(self.send(text))

    async def notify_for_finished(self, build: dict[str, Any]) -> bool:
        if self.notify_for("finished"):
            return True
        result = build["results"]
        result_name = statusToString(result)
        if self.notify_for(result_name):
            return True
        severity = self.bot.results_severity
        if result not in severity or not (
                self.notify_for("better", "worse", "problem", "recovery")
                or any("To" in e for e in self.notify_events)):
            return False
        prev = await self.master.data.get(("builders", build["builderid"], "builds",
                                           build["number"] - 1))
        if not prev or prev["results"] not in severity:
            return False
        prev_result = prev["results"]
        now_rank, prev_rank = severity.index(result), severity.index(prev_result)
        if self.notify_for("better") and now_rank < prev_rank:
            return True
        if self.notify_for("worse") and now_rank > prev_rank:
            return True
        if self.notify_for("problem") and prev_result in (SUCCESS, WARNINGS) and \
                result in (FAILURE, EXCEPTION):
            return True
        if self.notify_for("recovery") and prev_result in (FAILURE, EXCEPTION) and \
                result in (SUCCESS, WARNINGS):
            return True
        # deprecated spelling: "failureToSuccess" and the like
        return self.notify_for(f"{statusToString(prev_result).lower()}To"
                               f"{result_name.capitalize()}")

    async def workerMissing(self, worker: dict[str, Any]) -> None:
        self.missing_workers.add(worker["workerid"])
        if self.notify_for("worker"):
            await maybe_await(self.send(f"Worker `{worker['name']}` is missing. It was seen "
                                        f"last on {worker['last_connection']}."))
        await self.bot.saveMissingWorkers()

    async def workerConnected(self, worker: dict[str, Any]) -> None:
        if worker["workerid"] in self.missing_workers:
            self.missing_workers.discard(worker["workerid"])
            if self.notify_for("worker"):
                await maybe_await(self.send(f"Worker `{worker['name']}` is back online."))
            await self.bot.saveMissingWorkers()


class Contact:
    """One user in one channel: parses and runs commands."""

    def __init__(self, user: Any, channel: Channel) -> None:
        self.user_id = user
        self.channel = channel

    @property
    def bot(self) -> StatusBot:
        return self.channel.bot

    @property
    def master(self) -> Any:
        return self.channel.bot.master

    @property
    def is_private_chat(self) -> bool:
        return bool(self.user_id == self.channel.id)

    @staticmethod
    def overrideCommand(meth: Callable[..., Any]) -> Callable[..., Any]:
        """Give an overriding command the docstring and usage of the base one."""
        base = getattr(Contact, meth.__name__, None)
        if base is not None:
            meth.__doc__ = base.__doc__
            if hasattr(base, "usage"):
                meth.usage = base.usage  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)
        return meth

    def send(self, message: str, **kwargs: Any) -> Any:
        return self.channel.send(message, **kwargs)

    def access_denied(self, *args: Any, **kwargs: Any) -> Any:
        return self.send(f"Thou shall not pass, {self.user_id}!!!")

    def getCommandMethod(self, command: str) -> Callable[..., Any] | None:
        command = command.upper()
        method = getattr(self, f"command_{command}", None)
        if method is None:
            return None
        if not acl_allows(governing_acl(self.bot.authz, command), self.user_id):
            return self.access_denied
        result: Callable[..., Any] | None = method
        return result

    async def handleMessage(self, message: str, **kwargs: Any) -> Any:
        """Run the command in `message` (replies go to the channel)."""
        message = message.lstrip()
        cmd, _, args = message.partition(" ")
        suffix = self.bot.commandSuffix
        if suffix and cmd.endswith(suffix):
            cmd = cmd[:-len(suffix)]
        self.bot.log(f"Received command `{cmd}` from {self.describeUser()}")
        prefix = self.bot.commandPrefix
        meth = self.getCommandMethod(cmd[len(prefix):]) if cmd.startswith(prefix) else None
        if meth is None:
            if message.endswith("!"):
                await maybe_await(self.send("What you say!"))
                return None
            if cmd.startswith(prefix):
                await maybe_await(self.send(f"I don't get this '{cmd}'..."))
                meth = self.command_COMMANDS
            else:
                if self.is_private_chat:
                    await maybe_await(self.send("Say what?"))
                return None
        try:
            return await maybe_await(meth(args.strip(), **kwargs))
        except UsageError as e:
            await maybe_await(self.send(str(e)))
        except Exception:  # noqa: BLE001  (a chat command must never break the bot)
            log.failure("chat command {cmd} failed", cmd=cmd)
            await maybe_await(self.send("Something bad happened (see logs)"))
        return None

    def splitArgs(self, args: str) -> list[str]:
        try:
            return shlex.split(args)
        except ValueError as e:
            raise UsageError(str(e)) from e

    def describeUser(self) -> str:
        if self.is_private_chat:
            return str(self.user_id)
        return f"{self.user_id} on {self.channel.id}"

    @classmethod
    def build_commands(cls) -> list[str]:
        return sorted(k[len("command_"):].lower() for k in dir(cls) if k.startswith("command_"))

    # -- commands -------------------------------------------------------------------------
    def command_HELLO(self, args: str, **kwargs: Any) -> Any:
        """say hello"""
        return self.send(random.choice(GREETINGS))

    def command_VERSION(self, args: str, **kwargs: Any) -> Any:
        """show buildbot version"""
        return self.send(f"This is buildbot-{buildbot.version} at your service")

    async def command_LIST(self, args: str, **kwargs: Any) -> None:
        """list configured builders or workers"""
        argv = self.splitArgs(args)
        # optional first word: "all" (offline ones too) or a number of changes
        limit: int | None = int(argv.pop(0)) if argv and argv[0].isdigit() else None
        show_all = limit is None and bool(argv) and argv[0] == "all"
        if show_all:
            argv.pop(0)
        if not argv:
            raise UsageError(f"Try '{self.bot.commandPrefix}list [all|N] "
                             "builders|workers|changes'.")
        listers = {"builders": self._builders_text, "workers": self._workers_text}
        if argv[0] in listers:
            await maybe_await(self.send(await listers[argv[0]](show_all)))
        elif argv[0] == "changes":
            if show_all:
                await maybe_await(self.send(
                    "Do you really want me to list all changes? It can be thousands!\n"
                    "If you want to be flooded, specify the maximum number of changes to "
                    "show.\nRight now, I will show up to 100 recent changes."))
                limit = 100
            await maybe_await(self.send(await self._changes_text(10 if limit is None else limit)))

    async def _builders_text(self, show_all: bool) -> str:
        online = set(await self.bot.getOnlineBuilders())
        entries = [b["name"] if b["builderid"] in online else f"{b['name']} [offline]"
                   for b in await self.bot.getAllBuilders()
                   if show_all or b["builderid"] in online]
        return " ".join(["I found the following builders:", *entries])

    async def _workers_text(self, show_all: bool) -> str:
        def entry(worker: dict[str, Any]) -> str:
            if not worker["configured_on"]:
                return f"{worker['name']} [offline]"
            connected = bool(worker["connected_to"])
            return worker["name"] if connected else f"{worker['name']} [disconnected]"

        workers = await self.master.data.get(("workers",))
        entries = [entry(w) for w in workers if show_all or w["configured_on"]]
        return " ".join(["I found the following workers:", *entries])

    async def _changes_text(self, limit: int) -> str:
        newest_first = await self.master.data.get(("changes",), order=["-changeid"],
                                                  limit=limit)
        blocks = ["I found the following recent changes:"]
        for change in reversed(newest_first):
            when = utils.with_datetimes({"created_at": change["when_timestamp"]})["created_at"]
            title = change["comments"].splitlines()[0] if change["comments"] else ""
            blocks.append(f"{title})\nAuthor: {change['author']}\n"
                          f"Date: {when.strftime('%Y-%m-%d %H:%M')}\n"
                          f"Repository: {change['repository']}\nBranch: {change['branch']}\n"
                          f"Revision: {change['revision']}\n")
        return "\n\n".join(blocks)

    command_LIST.usage = ("list [all|N] builders|workers|changes - list configured builders, "  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)
                          "workers, or N recent changes")

    async def command_STATUS(self, args: str, **kwargs: Any) -> None:
        """list status of a builder (or all builders)"""
        argv = self.splitArgs(args)
        if len(argv) > 1:
            raise UsageError(f"Try '{self.bot.commandPrefix}status _builder_'.")
        which = argv[0] if argv else ""
        lines = []
        if which in ("", "all"):
            builders = await self.bot.getAllBuilders()
            online = await self.bot.getOnlineBuilders()
            for b in builders:
                if which == "all" or b["builderid"] in online:
                    lines.append(await self.bot.getBuildStatus(b["name"], short=True))
        else:
            lines.append(await self.bot.getBuildStatus(which))
        if lines:
            await maybe_await(self.send("\n".join(lines)))

    command_STATUS.usage = "status [_which_] - list status of a builder (or all builders)"  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)

    async def command_NOTIFY(self, args: str, **kwargs: Any) -> None:
        """notify me about build events"""
        argv = self.splitArgs(args)
        if not argv or argv[0] not in _NOTIFY_ACTIONS:
            raise UsageError(f"Try '{self.bot.commandPrefix}notify on|off|list [_EVENT_]'.")
        change, echo = _NOTIFY_ACTIONS[argv[0]]
        events = argv[1:]
        if change == "add":
            await self.channel.add_notification_events(events or ("started", "finished"))
        elif change == "remove" and events:
            await self.channel.remove_notification_events(events)
        elif change == "remove":
            await self.channel.remove_all_notification_events()
        if echo:
            await self.channel.list_notified_events()
        if change is not None:
            await self.bot.saveNotifyEvents()

    command_NOTIFY.usage = (  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)
        "notify on|off|list [_EVENT_] ... - notify me about build events;  event should be one "
        "or more of: 'started', 'finished', 'failure', 'success', 'exception', 'problem', "
        "'recovery', 'better', or 'worse'")

    async def command_WATCH(self, args: str, **kwargs: Any) -> None:
        """announce the completion of an active build"""
        argv = self.splitArgs(args)
        if len(argv) != 1:
            raise UsageError(f"Try '{self.bot.commandPrefix}watch _builder_'.")
        which = argv[0]
        builder = await self.bot.getBuilder(buildername=which)
        builds = await self.bot.getRunningBuilds(builder["builderid"])
        if not builds:
            await maybe_await(self.send("There are no currently running builds."))
            return

        def finished(key: Any, msg: Any) -> Any:
            if key[-1] in ("finished", "complete"):
                return self.channel.tasks.spawn(
                    "watched build notice", self.channel.buildFinished(msg, watched=True))
            return None

        for build in builds:
            handle = await self.master.mq.startConsuming(
                finished, ("builds", str(build["buildid"]), None))
            self.channel.build_subscriptions.append((build["buildid"], handle))
            url = utils.getURLForBuild(self.master, builder["builderid"], build["number"])
            await maybe_await(self.send(f"Watching build [#{build['number']}]({url}) of "
                                        f"`{which}` until it finishes..."))

    command_WATCH.usage = "watch _which_ - announce the completion of an active build"  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)

    @dangerousCommand
    async def command_FORCE(self, args: str, **kwargs: Any) -> None:
        """force a build"""
        err = f"Try '{self.bot.commandPrefix}{self.command_FORCE.usage}'"  # type: ignore[attr-defined]  # the IRC/Telegram subclasses of the chat base define it
        argv = self.splitArgs(args)
        if not argv or argv.pop(0) != "build":
            raise UsageError(err)
        opts = ForceOptions()
        try:
            opts.parseOptions(argv)
        except usage.UsageError as e:
            raise UsageError(str(e)) from e
        name = opts["builder"]
        if name is None:
            raise UsageError("you must provide a Builder, " + err)
        builder = await self.bot.getBuilder(buildername=name)
        validation = self.master.config.validation
        branch, revision, props = opts["branch"], opts["revision"], opts["props"]
        if branch and not validation["branch"].match(branch):
            await maybe_await(self.send(f"Sorry, bad branch '{branch}'"))
            return
        if revision and not validation["revision"].match(revision):
            await maybe_await(self.send(f"Sorry, bad revision '{revision}'"))
            return
        properties = Properties()
        properties.master = self.master
        if props:
            for item in props.split(","):
                pname, _, pvalue = item.partition("=")
                if not validation["property_name"].match(pname) or \
                        not validation["property_value"].match(pvalue):
                    await maybe_await(self.send(
                        f"Sorry, bad property name='{pname}', value='{pvalue}'"))
                    return
                properties.setProperty(pname, pvalue, "Force Build Chat")
        properties.setProperty("reason", opts["reason"], "Force Build Chat")
        properties.setProperty("owner", self.describeUser(), "Force Build Chat")
        await self.master.data.updates.addBuildset(
            builderids=[builder["builderid"]], scheduler="status.words",
            sourcestamps=[{"codebase": opts["codebase"], "branch": branch,
                           "revision": revision, "project": opts["project"],
                           "repository": ""}],
            reason=f"forced: by {self.describeUser()}: {opts['reason']}",
            properties=properties.asDict(), waited_for=False)
        await maybe_await(self.send("Force build successfully requested."))

    command_FORCE.usage = ("force build [--codebase=CODEBASE] [--branch=branch] "  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)
                           "[--revision=revision] [--props=prop1=val1,prop2=val2...] "
                           "_which_ _reason_ - Force a build")

    @dangerousCommand
    async def command_STOP(self, args: str, **kwargs: Any) -> None:
        """stop a running build"""
        argv = self.splitArgs(args)
        if len(argv) < 3 or argv[0] != "build":
            raise UsageError(f"Try '{self.bot.commandPrefix}stop build _which_ _reason_'.")
        which, reason = argv[1], " ".join(argv[2:])
        builder = await self.bot.getBuilder(buildername=which)
        builds = await self.bot.getRunningBuilds(builder["builderid"])
        if not builds:
            await maybe_await(self.send("Sorry, no build is currently running."))
            return
        for b in builds:
            await self.master.data.control(
                "stop", {"reason": f"stopped: by {self.describeUser()}: {reason}"},
                ("builders", builder["builderid"], "builds", b["number"]))
            url = utils.getURLForBuild(self.master, builder["builderid"], b["number"])
            await maybe_await(self.send(f"Build [#{b['number']}]({url}) of `{which}` "
                                        "interrupted."))

    command_STOP.usage = "stop build _which_ _reason_ - Stop a running build"  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)

    async def command_LAST(self, args: str, **kwargs: Any) -> None:
        """list last build status for a builder"""
        argv = self.splitArgs(args)
        if not argv:
            online = await self.bot.getOnlineBuilders()
            builders = [b for b in await self.bot.getAllBuilders() if b["builderid"] in online]
        elif len(argv) == 1:
            if argv[0] == "all":
                builders = await self.bot.getAllBuilders()
            else:
                builders = [await self.bot.getBuilder(buildername=argv[0])]
        else:
            raise UsageError(f"Try '{self.bot.commandPrefix}last _builder_'.")
        lines = []
        for b in builders:
            last = await self.bot.getLastCompletedBuild(b["builderid"])
            if not last:
                status = "no builds run since last restart"
            else:
                status = f"last build {self.bot.format_build_status(last)} " \
                         f"({self.bot.ago(last)} ago)"
                if last["results"] != SUCCESS:
                    status += f": {last['state_string']}"
            lines.append(f"`{b['name']}`: {status}")
        if lines:
            await maybe_await(self.send("\n".join(lines)))

    command_LAST.usage = "last [_which_] - list last build status for builder _which_"  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)

    def command_HELP(self, args: str, **kwargs: Any) -> Any:
        """give help for a command or one of it's arguments"""
        argv = self.splitArgs(args)
        if not argv:
            lines = []
            for command in self.build_commands():
                doc = getattr(getattr(self, f"command_{command.upper()}"), "__doc__", None)
                if doc:
                    lines.append(f"{command} - {doc}")
            return self.send("\n".join(lines)) if lines else None
        command = argv[0].removeprefix(self.bot.commandPrefix) if self.bot.commandPrefix \
            else argv[0]
        meth = getattr(self, f"command_{command.upper()}", None)
        if meth is None:
            raise UsageError(f"There is no such command '{argv[0]}'.")
        doc = getattr(meth, "usage", None)
        if isinstance(doc, dict):
            key: Any = None if len(argv) == 1 else argv[1] if len(argv) == 2 else tuple(argv[1:])
            doc = doc.get(key)
        elif callable(doc):
            try:
                doc = doc(*argv[1:])
            except (TypeError, ValueError):
                doc = None
        if doc:
            return self.send(f"Usage: {self.bot.commandPrefix}{doc}")
        return self.send("No usage info for " + " ".join(f"'{a}'" for a in argv))

    command_HELP.usage = ("help [_command_ _arg_ [_subarg_ ...]] - Give help for _command_ or "  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)
                          "one of it's arguments")

    def command_SOURCE(self, args: str, **kwargs: Any) -> Any:
        """the source code for buildbot"""
        return self.send("My source can be found at https://github.com/buildbot/buildbot")

    command_SOURCE.usage = "source - the source code for Buildbot"  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)

    def command_COMMANDS(self, args: str, **kwargs: Any) -> Any:
        """list available commands"""
        prefix = self.bot.commandPrefix
        return self.send("Buildbot commands: " +
                         ", ".join(prefix + c for c in self.build_commands()))

    command_COMMANDS.usage = "commands - List available commands"  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)

    @dangerousCommand
    async def command_SHUTDOWN(self, args: str, **kwargs: Any) -> None:
        """shutdown the buildbot master"""
        if args not in ("check", "start", "stop", "now"):
            raise UsageError(f"Try '{self.bot.commandPrefix}shutdown check|start|stop|now'.")
        botmaster = self.master.botmaster
        shutting_down = bool(getattr(botmaster, "shuttingDown", False))
        if args == "check":
            await maybe_await(self.send("Status: buildbot is shutting down." if shutting_down
                                        else "Status: buildbot is running."))
        elif args == "start":
            if shutting_down:
                await maybe_await(self.send("Shutdown already started."))
            else:
                await maybe_await(self.send("Starting clean shutdown."))
                self.bot.tasks.spawn("clean shutdown", maybe_await(botmaster.cleanShutdown()))
        elif args == "stop":
            if not shutting_down:
                await maybe_await(self.send("There is no ongoing shutdown to stop."))
            else:
                await maybe_await(self.send("Stopping clean shutdown."))
                botmaster.cancelCleanShutdown()
        else:
            await maybe_await(self.send("Stopping buildbot."))
            self.master.reactor.stop()

    command_SHUTDOWN.usage = {  # type: ignore[attr-defined]  # noqa: RUF012
        None: "shutdown check|start|stop|now - shutdown the buildbot master",
        "check": "shutdown check - check if the buildbot master is running or shutting down",
        "start": "shutdown start - start a clean shutdown",
        "stop": "shutdown cancel - stop the clean shutdown",
        "now": "shutdown now - shutdown immediately without waiting for the builders to finish",
    }


class StatusBot(AsyncService):
    """A chat bot: channels, contacts, authorization and the data API queries commands use.

    Subclasses implement `send_message(chat, message)` and set `nickname`.
    """

    contactClass: type[Contact] = Contact
    channelClass: type[Channel] = Channel
    commandPrefix = ""
    commandSuffix: str | None = None
    offline_string = "offline"
    idle_string = "idle"
    running_string = "running:"
    nickname = "buildbot"

    # "Build ... <text>." for each result, in result-code order (4.3's wording: users match
    # on it)
    results_descriptions: ClassVar[dict[int, str]] = {
        SUCCESS: "completed successfully", WARNINGS: "completed with warnings",
        FAILURE: "failed", SKIPPED: "was skipped", EXCEPTION: "stopped with exception",
        RETRY: "has been retried", CANCELLED: "was cancelled",
    }
    results_severity: ClassVar[tuple[int, ...]] = (SKIPPED, SUCCESS, WARNINGS, FAILURE, CANCELLED, EXCEPTION)

    def __init__(self, authz: Any = None, tags: Any = None, notify_events: Any = None,
                 useRevisions: bool = False, showBlameList: bool = False) -> None:
        super().__init__(name=None)
        self.tags = tags
        self.notify_events = notify_events or {}
        self.useRevisions = useRevisions
        self.showBlameList = showBlameList
        self.authz = self.expand_authz(authz)
        self.contacts: dict[tuple[Any, Any], Contact] = {}
        self.channels: dict[Any, Channel] = {}

    @property
    def master(self) -> Any:
        parent = self.parent
        return getattr(parent, "master", None) if parent is not None else None

    @property
    def clock(self) -> Any:
        master = self.master
        if master is not None and getattr(master, "reactor", None) is not None:
            return master.reactor
        from twisted.internet import reactor

        return reactor

    @staticmethod
    def expand_authz(authz: Any) -> dict[str, Any]:
        expanded: dict[str, Any] = {}
        for cmds, val in (authz or {}).items():
            for cmd in cmds if isinstance(cmds, (tuple, list)) else (cmds,):
                expanded[cmd.upper()] = val
        return expanded

    def isValidUser(self, user: Any) -> bool:
        # a user any entry allows may talk; everyone may when no default ("") is set
        return any(acl_allows(acl, user) for acl in self.authz.values()) or \
            "" not in self.authz

    def getContact(self, user: Any, channel: Any) -> Contact:
        key = (channel, user)
        found = self.contacts.get(key)
        if found is not None:
            return found
        valid = self.isValidUser(user)
        contact = self.contactClass(user=user, channel=self.getChannel(channel, valid))
        if valid:
            self.contacts[key] = contact
        return contact

    def getChannel(self, channel: Any, valid: bool = True) -> Channel:
        found = self.channels.get(channel)
        if found is not None:
            return found
        new = self.channelClass(self, channel)
        if valid:
            self.channels[channel] = new
            new.setServiceParent(self)
        return new

    # -- persisted channel state ------------------------------------------------------------
    async def _object_id(self) -> int:
        return int(await self.master.data.updates.getObjectId(
            self.nickname, f"{type(self).__module__}.{type(self).__name__}"))

    async def _save_channels_state(self, attr: str) -> None:
        data = [(c.id, sorted(getattr(c, attr))) for c in self.channels.values()
                if getattr(c, attr)]
        try:
            await self.master.data.updates.setState(await self._object_id(), attr, data)
        except Exception:  # noqa: BLE001  (state is a convenience; the bot goes on)
            log.failure("saveState '{attr}'", attr=attr)

    async def loadState(self) -> None:
        """Restore the channels' notified events and missing workers."""
        try:
            objectid = await self._object_id()
            events = await self.master.data.updates.getState(objectid, "notify_events", ())
            missing = await self.master.data.updates.getState(objectid, "missing_workers", ())
        except Exception:  # noqa: BLE001  (state is a convenience; the bot goes on)
            log.failure("loadState")
            return
        for chat, names in events or ():
            await self.getChannel(chat).add_notification_events(names)
        for chat, ids in missing or ():
            self.getChannel(chat).missing_workers.update(ids)

    async def saveNotifyEvents(self) -> None:
        await self._save_channels_state("notify_events")

    async def saveMissingWorkers(self) -> None:
        await self._save_channels_state("missing_workers")

    def send_message(self, chat: Any, message: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    def log(self, msg: str, source: str | None = None) -> None:
        log.info("{bot}: {msg}", bot=source or type(self).__name__, msg=msg)

    def log_err(self, error: Any = None, why: str | None = None,
                source: str | None = None) -> None:
        """Log a failure (`error`: a Failure or exception; None: the one being handled)
        as an error of this bot, with `why` as the explanation."""
        failure = error if isinstance(error, Failure) else Failure(error)
        log.failure("{bot}: {why}", failure=failure, bot=source or type(self).__name__,
                    why=why or "error")

    # -- data API queries -------------------------------------------------------------------
    def builderMatchesAnyTag(self, builder_tags: list[str]) -> bool:
        return any(tag in self.tags for tag in builder_tags)

    async def getRunningBuilds(self, builderid: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.master.data.get(
            ("builds",), filters=[Filter("builderid", "eq", [builderid]),
                                  Filter("complete", "eq", [False])])
        return result

    async def getLastCompletedBuild(self, builderid: int) -> dict[str, Any] | None:
        res = await self.master.data.get(
            ("builds",), filters=[Filter("builderid", "eq", [builderid]),
                                  Filter("complete", "eq", [True])],
            order=["-number"], limit=1)
        return res[0] if res else None

    async def getCurrentBuildstep(self, build: dict[str, Any]) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.master.data.get(
            ("builds", build["buildid"], "steps"),
            filters=[Filter("complete", "eq", [False])], order=["number"], limit=1)
        return result

    def ago(self, build: dict[str, Any]) -> str:
        complete_at = build.get("complete_at")
        if not complete_at:
            return "??"
        if not isinstance(complete_at, (int, float)):
            complete_at = complete_at.timestamp()
        return util.fuzzyInterval(int(self.clock.seconds() - complete_at))

    async def getBuildStatus(self, which: str, short: bool = False) -> str:
        response = f"`{which}`: "
        builder = await self.getBuilder(buildername=which)
        builderid = builder["builderid"]
        running = await self.getRunningBuilds(builderid)
        if running:
            infos = []
            for build in running:
                step = await self.getCurrentBuildstep(build)
                s = f"({step[-1]['state_string']})" if step else "(no current step)"
                url = utils.getURLForBuild(self.master, builderid, build["number"])
                infos.append(f"build [#{build['number']}]({url}) {s}")
            return response + self.running_string + " " + ", ".join(infos)
        if builderid not in await self.getOnlineBuilders():
            return response + self.offline_string
        response += self.idle_string
        last = await self.getLastCompletedBuild(builderid)
        if last:
            status = self.format_build_status(last, short=short)
            if not short:
                status = ", " + status
                if last["results"] != SUCCESS and last.get("status_string"):
                    status += ": " + last["status_string"]
            response += f"  last build {self.ago(last)} ago{status}"
        return response

    async def getBuilder(self, buildername: str | None = None,
                         builderid: int | None = None) -> dict[str, Any]:
        if buildername:
            found = await self.master.data.get(("builders",),
                                               filters=[Filter("name", "eq", [buildername])])
            bdict = found[0] if found else None
        elif builderid:
            bdict = await self.master.data.get(("builders", builderid))
        else:
            raise UsageError("no builder specified")
        if bdict is None:
            raise UsageError(f"no such builder '{buildername or f'number {builderid}'}'")
        result: dict[str, Any] = bdict
        return result

    async def getAllBuilders(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.master.data.get(("builders",))
        return result

    async def getOnlineBuilders(self) -> list[int]:
        online: set[int] = set()
        for worker in await self.master.data.get(("workers",)):
            if worker["connected_to"]:
                online.update(b["builderid"] for b in worker["configured_on"])
        return list(online)

    async def getRevisionsForBuild(self, bdict: dict[str, Any]) -> list[str]:
        """Revisions of the build's source stamps (4.3 answers the placeholder "TODO")."""
        br = await self.master.data.get(("buildrequests", bdict["buildrequestid"]))
        bs = await self.master.data.get(("buildsets", br["buildsetid"])) if br else None
        return [str(ss["revision"]) for ss in (bs or {}).get("sourcestamps", [])
                if ss.get("revision")] or ["(unknown)"]

    def format_build_status(self, build: dict[str, Any], short: bool = False) -> str:
        return self.results_descriptions[build["results"]]


class WebhookRefused(Exception):
    """Raised by a bot's `process_webhook`: the request is answered `code` with the text."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class WebhookResource(resource.Resource, AsyncService):
    """`<buildbotURL><path>` on the master's web server, for the service it is a child of
    (a chat bot fed by webhooks): served while that service runs; each GET or POST goes to
    the parent's `process_webhook(request)`, whose result (bytes, text, or an awaitable
    of them) is the response body."""

    isLeaf = True

    def __init__(self, path: str) -> None:
        resource.Resource.__init__(self)
        AsyncService.__init__(self)
        self.path = path
        self._www: Any = None

    async def start(self) -> None:
        await super().start()
        www = getattr(getattr(self, "master", None), "www", None)
        if www is None or not hasattr(www, "add_service_resource"):
            log.error("{svc}: no web server (c['www']) to receive webhooks at {path}",
                      svc=getattr(self.parent, "name", None), path=self.path)
            return
        www.add_service_resource(self.path, self)
        self._www = www

    async def stop(self) -> None:
        www, self._www = self._www, None
        if www is not None:
            www.remove_service_resource(self.path)
        await super().stop()

    def render_POST(self, request: server.Request) -> Any:
        try:
            result = getattr(self.parent, "process_webhook")(request)  # noqa: B009  # a bot
        except WebhookRefused as refused:
            return self._refuse(request, refused)
        if not (isinstance(result, defer.Deferred) or hasattr(result, "__await__")):
            return self._body(result)

        def done(value: Any) -> None:
            if not request.finished:
                request.write(self._body(value))
                request.finish()

        def failed(failure: Failure) -> None:
            if request.finished:
                return
            if failure.check(WebhookRefused):
                request.write(self._refuse(request, failure.value))
            else:
                log.failure("webhook {path} failed", failure=failure, path=self.path)
                request.setResponseCode(500)
            request.finish()

        d = result if isinstance(result, defer.Deferred) else defer.ensureDeferred(result)
        d.addCallbacks(done, failed)
        return server.NOT_DONE_YET

    render_GET = render_POST

    @staticmethod
    def _body(value: Any) -> bytes:
        if value is None:
            return b""
        return value if isinstance(value, bytes) else str(value).encode("utf-8")

    @staticmethod
    def _refuse(request: server.Request, refused: Any) -> bytes:
        request.setResponseCode(refused.code)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return f"{refused}\n".encode()


_WORDS_WHY = "the chat bots connect through their own clients"
ThrottledClientFactory = internal_class(__name__, "ThrottledClientFactory", _WORDS_WHY)
