"""`reporters.IRC`: a bot on an IRC server announcing builds and answering commands.

The service connects (TCP or TLS), registers its nick (optionally SASL PLAIN, or NickServ
IDENTIFY with `password`), joins `channels` and turns on `notify_events` there and in
private chats with `pm_to_nicks`. In a channel it answers messages addressed to it
(`nick: command`); in private, every message. It reconnects after a lost connection
(`lostDelay`, default 1-5 s) or a failed one (`failedDelay`, default 45-60 s).
"""

from __future__ import annotations

import base64
import random
from typing import Any, ClassVar

from twisted.internet import defer, protocol, task
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.words.protocols import irc

from buildbot import config
from buildbot.process.results import (
    CANCELLED,
    EXCEPTION,
    FAILURE,
    RETRY,
    SKIPPED,
    SUCCESS,
    WARNINGS,
)
from buildbot.reporters.base import reconfigure_rendering_secrets
from buildbot.reporters.words import (
    Channel,
    Contact,
    StatusBot,
    UsageError,
    dangerousCommand,
)
from buildbot.util.deferred import maybe_await
from buildbot.util.internal import differs_internally
from buildbot.util.service import BuildbotService

log = Logger()

__all__ = ["IRC", "IRCChannel", "IRCContact", "IrcStatusBot", "UsageError"]

_irc_colors = ("WHITE", "BLACK", "NAVY_BLUE", "GREEN", "RED", "BROWN", "PURPLE", "OLIVE",
               "YELLOW", "LIME_GREEN", "TEAL", "AQUA_LIGHT", "ROYAL_BLUE", "PINK", "DARK_GRAY",
               "LIGHT_GRAY")


class IRCChannel(Channel):
    """A joined channel or a private chat; can be muted."""

    def __init__(self, bot: StatusBot, channel: Any) -> None:
        super().__init__(bot, channel)
        self.muted = False

    def send(self, message: str, **kwargs: Any) -> Any:
        if self.muted:
            return None
        bot: Any = self.bot
        if self.id and self.id[0] in irc.CHANNEL_PREFIXES:
            return bot.groupSend(self.id, message)
        return bot.msg(self.id, message)

    def act(self, action: str) -> None:
        if not self.muted:
            self.bot.groupDescribe(self.id, action)  # type: ignore[attr-defined]  # the IRC/Telegram subclasses of the chat base define it


class IRCContact(Contact):
    """A user on IRC; adds join/leave/mute/unmute and channel-operator checks."""

    def __init__(self, user: Any, channel: Any = None) -> None:
        super().__init__(user, channel if channel is not None else user)

    def act(self, action: str) -> None:
        self.channel.act(action)  # type: ignore[attr-defined]  # the IRC/Telegram subclasses of the chat base define it

    def handleAction(self, action: str) -> None:
        if not action.endswith("s " + self.bot.nickname):
            return
        verb = action.split()[-2]
        if verb == "kicks":
            self.act(f"{verb} back")
        else:
            self.act(f"{verb} {self.user_id} too")

    async def op_required(self, command: str) -> bool:
        if self.is_private_chat or self.user_id in self.bot.authz.get(command.upper(), ()):
            return False
        ops = await self.bot.getChannelOps(self.channel.id)  # type: ignore[attr-defined]  # the IRC/Telegram subclasses of the chat base define it
        return self.user_id not in ops

    @dangerousCommand
    def command_JOIN(self, args: str, **kwargs: Any) -> None:
        """join a channel"""
        for channel in self.splitArgs(args):
            self.bot.join(channel)  # type: ignore[attr-defined]  # the IRC/Telegram subclasses of the chat base define it

    command_JOIN.usage = "join #channel - join a channel #channel"  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)

    @dangerousCommand
    def command_LEAVE(self, args: str, **kwargs: Any) -> None:
        """leave a channel"""
        for channel in self.splitArgs(args):
            self.bot.leave(channel)  # type: ignore[attr-defined]  # the IRC/Telegram subclasses of the chat base define it

    command_LEAVE.usage = "leave #channel - leave a channel #channel"  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)

    async def command_MUTE(self, args: str, **kwargs: Any) -> None:
        """suppress all messages until a corresponding 'unmute' is issued"""
        if await self.op_required("mute"):
            await maybe_await(self.send("Only channel operators or explicitly allowed users "
                                        f"can mute me here, {self.user_id}... Blah, blah, "
                                        "blah..."))
            return
        await maybe_await(self.send("Shutting up for now."))
        self.channel.muted = True  # type: ignore[attr-defined]  # the IRC/Telegram subclasses of the chat base define it

    command_MUTE.usage = "mute - suppress all messages until a corresponding 'unmute' is issued"  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)

    async def command_UNMUTE(self, args: str, **kwargs: Any) -> None:
        """disable a previous 'mute'"""
        channel: Any = self.channel
        if channel.muted:
            if await self.op_required("mute"):
                return
            channel.muted = False
            await maybe_await(self.send("I'm baaaaaaaaaaack!"))
        else:
            await maybe_await(self.send("No one had told me to be quiet, but it's the thought "
                                        "that counts, right?"))

    command_UNMUTE.usage = "unmute - disable a previous 'mute'"  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)

    @Contact.overrideCommand
    async def command_NOTIFY(self, args: str, **kwargs: Any) -> None:
        if not self.is_private_chat:
            argv = self.splitArgs(args)
            if argv and argv[0] in ("on", "off") and await self.op_required("notify"):
                await maybe_await(self.send("Only channel operators can change notified "
                                            "events for this channel. And you, "
                                            f"{self.user_id}, are neither!"))
                return
        await super().command_NOTIFY(args, **kwargs)

    def command_DESTROY(self, args: str, **kwargs: Any) -> None:
        if self.bot.nickname not in args:
            self.act("readies phasers")
        else:
            self.send(f"Better destroy yourself, {self.user_id}!")

    def command_HUSTLE(self, args: str, **kwargs: Any) -> None:
        self.act("does the hustle")

    # (seconds after the command, frame)
    DANCE_FRAMES = ((1.0, "<(^.^<)"), (2.0, "<(^.^)>"), (3.0, "(>^.^)>"), (3.5, "(7^.^)7"),
                    (5.0, "(>^.^<)"))

    def command_DANCE(self, args: str, **kwargs: Any) -> None:
        """dance, dance academy..."""
        self.bot.tasks.spawn("IRC dance", self._dance())

    async def _dance(self) -> None:
        done = 0.0
        for at, frame in self.DANCE_FRAMES:
            await task.deferLater(self.bot.clock, at - done)
            done = at
            self.send(frame)


class _IrcProtocol(irc.IRCClient):
    """One connection to the IRC server. Everything the bot may want to change (4.3's
    IrcStatusBot was the protocol itself) is forwarded to the bot's methods of the same
    name; this class only keeps the wire."""

    def __init__(self, bot: IrcStatusBot) -> None:
        self.bot = bot
        self.nickname = bot.nickname
        # the server password (PASS) is the bot's password unless SASL carries it
        self.password = None if bot.useSASL else bot.password
        self.lost: defer.Deferred[None] = defer.Deferred()

    def connectionMade(self) -> None:
        self.bot.connection = self  # first: registering (below) writes through the bot
        super().connectionMade()
        self.bot.connectionMade()

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        if self.bot.connection is self:
            self.bot.connectionLost(reason)
        super().connectionLost(reason)
        self.lost.callback(None)

    def plain_register(self, nickname: str, hostname: str, servername: str) -> None:
        super().register(nickname, hostname, servername)

    def register(self, nickname: str, hostname: str = "foo", servername: str = "bar") -> None:
        self.bot.register(nickname, hostname, servername)

    def irc_AUTHENTICATE(self, prefix: str, params: list[str]) -> None:
        self.bot.irc_AUTHENTICATE(prefix, params)

    def irc_RPL_NAMREPLY(self, prefix: str, params: list[str]) -> None:
        self.bot.irc_RPL_NAMREPLY(prefix, params)

    def irc_RPL_ENDOFNAMES(self, prefix: str, params: list[str]) -> None:
        self.bot.irc_RPL_ENDOFNAMES(prefix, params)

    def signedOn(self) -> None:
        self.bot.tasks.spawn("IRC sign-on", self.bot.signedOn())

    def privmsg(self, user: str, channel: str, message: str) -> None:
        self.bot.privmsg(user, channel, message)

    def action(self, user: str, channel: str, data: str) -> None:
        self.bot.action(user, channel, data)

    def joined(self, channel: str) -> None:
        self.bot.joined(channel)

    def left(self, channel: str) -> None:
        self.bot.left(channel)

    def kickedFrom(self, channel: str, kicker: str, message: str) -> None:
        self.bot.kickedFrom(channel, kicker, message)

    def userLeft(self, user: str, channel: str) -> None:
        self.bot.userLeft(user, channel)

    def userKicked(self, kickee: str, channel: str, kicker: str, message: str) -> None:
        self.bot.userKicked(kickee, channel, kicker, message)

    def userQuit(self, user: str, quitMessage: str | None = None) -> None:
        self.bot.userQuit(user, quitMessage)


class IrcStatusBot(StatusBot):
    """The IRC bot: commands and notices over the current `_IrcProtocol` connection."""

    contactClass = IRCContact
    channelClass = IRCChannel

    results_colors: ClassVar[dict[int, str]] = {
        SUCCESS: "GREEN", WARNINGS: "YELLOW", FAILURE: "RED", SKIPPED: "ROYAL_BLUE",
        EXCEPTION: "PURPLE", RETRY: "AQUA_LIGHT", CANCELLED: "PINK",
    }
    short_results_descriptions: ClassVar[dict[int, str]] = {
        SUCCESS: ", Success", WARNINGS: ", Warnings", FAILURE: ", Failure",
        SKIPPED: ", Skipped", EXCEPTION: ", Exception", RETRY: ", Retry",
        CANCELLED: ", Cancelled",
    }

    def __init__(self, nickname: str, password: Any, join_channels: list[Any],
                 pm_to_nicks: list[str], noticeOnChannel: bool, *args: Any,
                 useColors: bool = False, useSASL: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.nickname, self.password, self.useSASL = nickname, password, useSASL
        self.join_channels, self.pm_to_nicks = join_channels, pm_to_nicks
        self.noticeOnChannel, self.useColors = noticeOnChannel, useColors
        self.connection: _IrcProtocol | None = None
        # NAMES requests in flight: channel -> (waiters, names received so far)
        self._channel_names: dict[str, tuple[list[defer.Deferred[list[str]]], list[str]]] = {}
        self._keepalive = task.LoopingCall(self._ping)

    # -- the connection ---------------------------------------------------------------------
    def _ping(self) -> None:
        if self.connection is not None:
            self.connection.ping(self.nickname)

    def connectionMade(self) -> None:
        """A connection is up (and registering): ping the server every minute, so that a
        dead link is noticed."""
        self._keepalive.clock = self.clock
        self._keepalive.start(60, now=False)

    def connectionLost(self, reason: Failure) -> None:
        if self._keepalive.running:
            self._keepalive.stop()
        self.connection = None

    def register(self, nickname: str, hostname: str = "foo", servername: str = "bar") -> None:
        """Introduce ourselves; under SASL, authenticate with PLAIN before registering."""
        conn = self.connection
        assert conn is not None
        if not self.useSASL:
            conn.plain_register(nickname, hostname, servername)
            return
        sasl = self.password is not None
        if sasl:  # before NICK, so that the server holds registration until CAP END
            conn.sendLine("CAP REQ :sasl")
        conn.setNick(nickname)
        conn.sendLine(f"USER {conn.username or nickname} {hostname} {servername} "
                      f":{conn.realname}")
        if sasl:
            conn.sendLine("AUTHENTICATE PLAIN")

    def irc_AUTHENTICATE(self, prefix: str, params: list[str]) -> None:
        """The server is ready for the PLAIN credentials: nick, nick, password."""
        assert self.connection is not None
        nick = self.nickname.encode()
        token = b"\0".join((nick, nick, str(self.password).encode()))
        self.connection.sendLine("AUTHENTICATE " + base64.b64encode(token).decode())
        self.connection.sendLine("CAP END")

    def getNames(self, channel: str) -> defer.Deferred[list[str]]:
        """The nicks in `channel` (with their mode prefix, e.g. `@ann`), from NAMES."""
        channel = channel.lower()
        d: defer.Deferred[list[str]] = defer.Deferred()
        waiters, _ = self._channel_names.setdefault(channel, ([], []))
        waiters.append(d)
        if self.connection is not None:
            self.connection.sendLine(f"NAMES {channel}")
        return d

    def irc_RPL_NAMREPLY(self, prefix: str, params: list[str]) -> None:
        pending = self._channel_names.get(params[2].lower())
        if pending is not None:  # names nobody asked for are ignored
            pending[1].extend(params[3].split(" "))

    def irc_RPL_ENDOFNAMES(self, prefix: str, params: list[str]) -> None:
        waiters, names = self._channel_names.pop(params[1].lower(), ([], []))
        for d in waiters:
            d.callback(names)

    # -- sending ------------------------------------------------------------------------
    def msg(self, target: str, message: str) -> None:
        if self.connection is not None:
            for line in message.split("\n"):
                self.connection.msg(target, line)

    def groupSend(self, channel: str, message: str) -> None:
        if self.connection is None:
            return
        for line in message.split("\n"):
            if self.noticeOnChannel:
                self.connection.notice(channel, line)
            else:
                self.connection.msg(channel, line)

    def groupDescribe(self, channel: str, action: str) -> None:
        if self.connection is not None:
            self.connection.describe(channel, action)

    def send_message(self, chat: Any, message: str, **kwargs: Any) -> Any:
        return self.getChannel(chat).send(message)

    def join(self, channel: str, key: str | None = None) -> None:
        if self.connection is not None:
            self.connection.join(channel, key)

    def leave(self, channel: str) -> None:
        if self.connection is not None:
            self.connection.leave(channel)

    async def getChannelOps(self, channel: str) -> list[str]:
        if self.connection is None:
            return []
        names = await self.getNames(channel)
        return [n[1:] for n in names if n and n[0] in "@&~%"]

    # -- events -------------------------------------------------------------------------
    def getContact(self, user: Any, channel: Any = None) -> Contact:
        user = user.lower()
        channel = (channel or user).lower()
        return super().getContact(user, channel)

    def privmsg(self, user: str, channel: str, message: str) -> None:
        user = user.split("!", 1)[0]
        if channel == self.nickname:
            contact = self.getContact(user=user)
        else:
            contact = self.getContact(user=user, channel=channel)
            for lead in (f"{self.nickname}:", f"{self.nickname},"):
                if message.startswith(lead):
                    message = message[len(lead):]
                    break
            else:
                return
        self.tasks.spawn("IRC command", contact.handleMessage(message))

    def action(self, user: str, channel: str, data: str) -> None:
        user = user.split("!", 1)[0]
        if self.nickname in data:
            contact = self.getContact(user=user, channel=channel)
            contact.handleAction(data)  # type: ignore[attr-defined]  # the IRC/Telegram subclasses of the chat base define it

    async def signedOn(self) -> None:
        assert self.connection is not None
        if self.password and not self.useSASL:
            self.connection.msg("Nickserv", f"IDENTIFY {self.password}")
        for c in self.join_channels:
            if isinstance(c, dict):
                self.join(c.get("channel"), c.get("password"))  # type: ignore[arg-type]  # channel entries are validated at config time
            else:
                self.join(c)
        for nick in self.pm_to_nicks:
            await self.getContact(nick).channel.add_notification_events(self.notify_events)
        await self.loadState()

    def joined(self, channel: str) -> None:
        self.log(f"Joined {channel}")
        self.tasks.spawn("channel notifications",
                         self.getChannel(channel).add_notification_events(self.notify_events))

    def left(self, channel: str) -> None:
        self.log(f"Left {channel}")

    def kickedFrom(self, channel: str, kicker: str, message: str) -> None:
        self.log(f"I have been kicked from {channel} by {kicker}: {message}")

    def userLeft(self, user: str, channel: str) -> None:
        self.contacts.pop(((channel or "").lower(), (user or "").lower()), None)

    def userKicked(self, kickee: str, channel: str, kicker: str, message: str) -> None:
        self.userLeft(kickee, channel)  # the contact goes, as when leaving

    def userQuit(self, user: str, quitMessage: str | None = None) -> None:
        user = (user or "").lower()
        for key in [k for k in self.contacts if k[1] == user]:
            del self.contacts[key]

    def format_build_status(self, build: dict[str, Any], short: bool = False) -> str:
        result = build["results"]
        text = (self.short_results_descriptions if short else self.results_descriptions)[result]
        if self.useColors:
            return f"\x03{_irc_colors.index(self.results_colors[result])}{text}\x0f"
        return text


class IrcStatusFactory(protocol.ClientFactory):
    """Builds `_IrcProtocol`s for the bot and reconnects after a lost/failed connection."""

    def __init__(self, bot: IrcStatusBot, lostDelay: float | None = None,
                 failedDelay: float | None = None) -> None:
        self.bot = bot
        self.lostDelay = lostDelay if lostDelay is not None else random.randint(1, 5)
        self.failedDelay = failedDelay if failedDelay is not None else random.randint(45, 60)
        self.shuttingDown = False
        self._retry: Any = None

    def buildProtocol(self, addr: Any) -> Any:
        p = _IrcProtocol(self.bot)
        p.factory = self
        return p

    def _reconnect_later(self, connector: Any, delay: float) -> None:
        if self.shuttingDown:
            log.info("not scheduling reconnection attempt")
            return
        self._retry = self.bot.clock.callLater(delay, connector.connect)

    def clientConnectionLost(self, connector: Any, reason: Any) -> None:
        self._reconnect_later(connector, self.lostDelay)

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        log.info("IRC connection to {host} failed: {reason}", host=connector.getDestination(),
                 reason=reason.getErrorMessage())
        self._reconnect_later(connector, self.failedDelay)

    def shutdown(self) -> None:
        self.shuttingDown = True
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None


class IRC(BuildbotService):
    """`reporters.IRC(host, nick, channels, pm_to_nicks=None, port=6667, ...)`."""

    name = "IRC"
    secrets: ClassVar[list[str]] = ["password"]
    # True: configure the bot but never connect (tests that drive the bot directly)
    in_test_harness = False
    f: IrcStatusFactory | None = None  # the connection factory of the current bot

    def checkConfig(self, host: str, nick: str, channels: Any,
                    pm_to_nicks: Any = None, port: int = 6667, allowForce: Any = None,
                    tags: Any = None, password: Any = None, notify_events: Any = None,
                    showBlameList: bool = True, useRevisions: bool = False,
                    useSSL: bool = False, useSASL: bool = False, lostDelay: Any = None,
                    failedDelay: Any = None, useColors: bool = True, allowShutdown: Any = None,
                    noticeOnChannel: bool = False, authz: Any = None, **kwargs: Any) -> None:
        if kwargs:
            config.error(f'{",".join(kwargs)} are deprecated')
        # the pre-authz switches: still accepted (with a note), but not together with authz
        for switch, value in (("allowForce", allowForce), ("allowShutdown", allowShutdown)):
            if value is None:
                continue
            if authz is not None:
                config.error(f"If you specify authz, you must not use {switch} anymore")
            if value not in (True, False):
                config.error(f"{switch} must be boolean, not {value!r}")
            log.info("IRC: {switch} is deprecated: use authz instead", switch=switch)
        if noticeOnChannel not in (True, False):
            config.error(f"noticeOnChannel must be boolean, not {noticeOnChannel!r}")
        for acl in (authz or {}).values():
            if not isinstance(acl, (list, tuple, bool)):
                config.error("authz values must be bool or a list of nicks")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bot: IrcStatusBot | None = None
        self._connector: Any = None

    async def reconfigServiceWithSibling(self, sibling: BuildbotService) -> None:
        if self.configured and self == sibling:
            return
        await reconfigure_rendering_secrets(self, sibling)

    async def reconfigService(self, host: str, nick: str,
                              channels: Any, pm_to_nicks: Any = None, port: int = 6667,
                              allowForce: Any = None, tags: Any = None, password: Any = None,
                              notify_events: Any = None, showBlameList: bool = True,
                              useRevisions: bool = False, useSSL: bool = False,
                              useSASL: bool = False, lostDelay: Any = None,
                              failedDelay: Any = None, useColors: bool = True,
                              allowShutdown: Any = None, noticeOnChannel: bool = False,
                              authz: Any = None, **kwargs: Any) -> None:
        self.host, self.port, self.nick = host, port, nick
        self.join_channels = channels
        self.pm_to_nicks = pm_to_nicks or []
        self.password = password
        self.authz = dict(authz or {})
        self.useRevisions = useRevisions
        self.tags = tags
        self.notify_events = notify_events or {}
        self.noticeOnChannel = noticeOnChannel
        if allowForce is not None:
            self.authz[("force", "stop")] = allowForce
        if allowShutdown is not None:
            self.authz["shutdown"] = allowShutdown
        self.useSSL = useSSL
        await self._disconnect()
        self.bot = IrcStatusBot(nick, password, channels, self.pm_to_nicks, noticeOnChannel,
                                self.authz, tags, self.notify_events, useColors=useColors,
                                useSASL=useSASL, useRevisions=useRevisions,
                                showBlameList=showBlameList)
        self.f = IrcStatusFactory(self.bot, lostDelay=lostDelay, failedDelay=failedDelay)
        await self.add_child(self.bot)
        if self.running:
            self._connect()

    async def start(self) -> None:
        await super().start()
        if self._connector is None and self.f is not None:
            self._connect()

    def _connect(self) -> None:
        if not self.in_test_harness:
            self._open_connection()

    def _open_connection(self) -> None:
        assert self.f is not None
        reactor = self.master.reactor
        if self.useSSL:
            from twisted.internet import ssl

            self._connector = reactor.connectSSL(self.host, self.port, self.f,
                                                 ssl.ClientContextFactory())
        else:
            self._connector = reactor.connectTCP(self.host, self.port, self.f)

    async def _disconnect(self) -> None:
        f, bot, connector = self.f, self.bot, self._connector
        self.f = self.bot = self._connector = None
        if f is not None:
            f.shutdown()
        if bot is not None and bot.connection is not None:
            conn = bot.connection
            conn.quit("buildmaster reconfigured: bot disconnecting")
            transport: Any = conn.transport
            transport.loseConnection()
            await conn.lost
        if connector is not None:
            connector.disconnect()
        if bot is not None:
            await self.remove_child(bot)

    async def stop(self) -> None:
        await self._disconnect()
        await super().stop()


differs_internally("created by the IRC service with the bot it serves")(IrcStatusFactory)
