"""`reporters.TelegramBot`: a Telegram bot announcing builds and answering commands.

Works: long-polling `getUpdates` (after `deleteWebhook`), text commands (`/status`,
`/notify on ...`, `/force build ...`: the shared chat engine of `words.py`, with the bot's
`@username` suffix accepted), notifications to `chat_ids` and to chats that asked for them,
`sendMessage` with Markdown (long messages split at 4096 characters), `setMyCommands`,
`getMe` for the username. Not implemented: webhook mode (`useWebhook=True` logs an error and
the bot stays offline) and the inline keyboards 4.3 offers for some commands (buttons sent by
a 4.3 bot are answered as plain text commands).
"""

from __future__ import annotations

import io
import random
from typing import Any, ClassVar

from twisted.internet import defer
from twisted.logger import Logger

from buildbot import config
from buildbot.process.results import CANCELLED, EXCEPTION, FAILURE, RETRY, SUCCESS, WARNINGS
from buildbot.reporters.base import reconfigure_rendering_secrets
from buildbot.reporters.http_session import http_session
from buildbot.reporters.words import Channel, Contact, StatusBot
from buildbot.util.deferred import deferred_sleep, maybe_await
from buildbot.util.internal import internal_class, internal_function
from buildbot.util.service import BuildbotService

log = Logger()


class TelegramChannel(Channel):
    """A Telegram chat (`channel` is the chat dict of the API)."""

    def __init__(self, bot: StatusBot, channel: dict[str, Any]) -> None:
        super().__init__(bot, channel["id"])
        self.chat_info = channel

    async def list_notified_events(self) -> None:
        if self.notify_events:
            lines = "\n".join(sorted(f"\U0001f514 **{n}**" for n in self.notify_events))
            await maybe_await(self.send(f"The following events are being notified:\n{lines}"))
        else:
            await maybe_await(self.send("\U0001f515 No events are being notified."))


class TelegramContact(Contact):
    """A Telegram user (`user` is the user dict of the API)."""

    ACCESS_DENIED_MESSAGES: ClassVar[list[str]] = [
        "\u26d4 You cannot do this.",
        "\U0001f6ab You are not allowed to do this.",
    ]

    def __init__(self, user: dict[str, Any], channel: Any = None) -> None:
        self.user_info = user
        super().__init__(user["id"], channel)
        self.template: str | None = None

    @property
    def chat_id(self) -> Any:
        return self.channel.id

    @property
    def user_full_name(self) -> str:
        return " ".join((self.user_info["first_name"], self.user_info.get("last_name", ""))).strip()

    @property
    def user_name(self) -> str:
        return str(self.user_info["first_name"])

    def describeUser(self) -> str:
        user = self.user_full_name
        if "username" in self.user_info:
            user += f" (@{self.user_info['username']})"
        if not self.is_private_chat:
            title = self.channel.chat_info.get("title")  # type: ignore[attr-defined]  # the IRC/Telegram subclasses of the chat base define it
            if title:
                user += f" on '{title}'"
        return user

    def access_denied(self, *args: Any, tmessage: Any = None, **kwargs: Any) -> Any:
        extra = {"reply_to_message_id": tmessage["message_id"]} if tmessage else {}
        return self.send(random.choice(self.ACCESS_DENIED_MESSAGES), **extra)

    @classmethod
    def get_commands(cls) -> list[tuple[str, str]]:
        """(command, description) pairs for `setMyCommands`."""
        out = []
        for name in cls.build_commands():
            doc = getattr(getattr(cls, f"command_{name.upper()}"), "__doc__", None)
            if doc:
                out.append((name, doc.strip()))
        return out

    def command_START(self, args: str, **kwargs: Any) -> Any:
        """initial greeting"""
        return self.send(f"Hello {self.user_name}! I am the Buildbot bot. Type /help to see "
                         "what I can do.")


class TelegramStatusBot(StatusBot):
    """Sends through the Bot API; `process_update` handles one incoming update."""

    contactClass = TelegramContact
    channelClass = TelegramChannel
    commandPrefix = "/"
    offline_string = "offline \u274c"
    idle_string = "idle \U0001f4a4"
    running_string = "running \U0001f300:"

    results_emoji: ClassVar[dict[int, str]] = {
        SUCCESS: " \u2705", WARNINGS: " \u26a0\ufe0f", FAILURE: "\u2757",
        EXCEPTION: " \u203c\ufe0f", RETRY: " \U0001f504", CANCELLED: " \U0001f6ab",
    }

    def __init__(self, token: str, outgoing_http: Any, chat_ids: list[Any], *args: Any,
                 retry_delay: float = 30, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token, self.chat_ids = token, chat_ids
        self.http_client, self.retry_delay = outgoing_http, retry_delay
        # learnt from getMe unless a subclass sets it; commands may end with "@<nickname>"
        self.nickname: str | None = None  # type: ignore[assignment]  # StatusBot has a str
        self.stopping = False

    @property
    def commandSuffix(self) -> str | None:  # type: ignore[override]  # 4.3: a property here
        return f"@{self.nickname}" if self.nickname is not None else None

    async def start(self) -> None:
        await super().start()
        for chat in self.chat_ids:
            await self.getChannel(chat).add_notification_events(self.notify_events)

    async def introduce(self) -> None:
        """Learn the bot's username (unless configured) and publish its commands."""
        if self.nickname is None:
            await self.set_nickname()
            if self.nickname is None:
                raise RuntimeError("No bot username specified and I cannot get it from "
                                   "Telegram")
        await self.loadState()  # saved under the bot's username
        commands = [{"command": c, "description": d}
                    for c, d in TelegramContact.get_commands()]
        await self.post("/setMyCommands", json={"commands": commands})

    def format_build_status(self, build: dict[str, Any], short: bool = False) -> str:
        result = build["results"]
        if short:
            return self.results_emoji[result]
        return self.results_descriptions[result] + self.results_emoji[result]

    def getContact(self, user: Any, channel: Any) -> Contact:
        uid, cid = user["id"], channel["id"]
        contact = self.contacts.get((cid, uid))
        if contact is None:
            valid = self.isValidUser(uid)
            contact = self.contactClass(user=user, channel=self.getChannel(channel, valid))
            if valid:
                self.contacts[(cid, uid)] = contact
        else:
            contact.user_info.update(user)  # type: ignore[attr-defined]  # the IRC/Telegram subclasses of the chat base define it
            contact.channel.chat_info.update(channel)  # type: ignore[attr-defined]  # the IRC/Telegram subclasses of the chat base define it
        return contact

    def getChannel(self, channel: Any, valid: bool = True) -> Channel:
        if not isinstance(channel, dict):
            channel = {"id": channel}
        found = self.channels.get(channel["id"])
        if found is not None:
            return found
        new = self.channelClass(self, channel)
        if valid:
            self.channels[channel["id"]] = new
            new.setServiceParent(self)
        return new

    async def process_update(self, update: dict[str, Any]) -> Any:
        """Run the command in one update (a message, or a button press); a short text
        saying why when there is nothing to run."""
        extra: dict[str, Any] = {}
        message = update.get("message")
        query = update.get("callback_query")
        if message is None and query is not None:
            await self.answer_query(query["id"])
            extra["tquery"] = query
            # a pressed button reads as a message holding the button's data
            message = {"from": query["from"],
                       "chat": query.get("message", {}).get("chat"),
                       "text": str(query.get("data", ""))}
        if message is None:
            self.log("No message in Telegram update object")
            return "no message"
        if message.get("from") is None:
            self.log("No user in incoming message")
            return "no user"
        if not message.get("text"):
            return "no text in the message"
        extra["tmessage"] = message
        contact = self.getContact(user=message["from"], channel=message["chat"])
        return await contact.handleMessage(message["text"], **extra)

    async def post(self, path: str, **kwargs: Any) -> Any:
        """A Bot API call; retried every `retry_delay` seconds while the network fails.
        The result, or None if Telegram refused the call."""
        logme = True
        while True:
            try:
                res = await self.http_client.post(path, **kwargs)
                ans = await res.json()
            except defer.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001  (network trouble: retry later)
                if self.stopping:
                    return None
                if logme:
                    self.log(f"ERROR: problem sending Telegram request {path} (will try "
                             f"again): {err}")
                    logme = False
                await deferred_sleep(self.clock, self.retry_delay)
                continue
            if not ans.get("ok"):
                self.log(f"ERROR: cannot send Telegram request {path}: [{res.code}] "
                         f"{ans.get('description')}")
                return None
            return ans.get("result", True)

    async def set_nickname(self) -> None:
        res = await self.post("/getMe")
        if res:
            self.nickname = res.get("username")

    async def answer_query(self, query_id: Any, notify: str | None = None) -> Any:
        params = {"callback_query_id": query_id}
        if notify is not None:
            params["text"] = notify
        return await self.post("/answerCallbackQuery", json=params)

    def send_message(self, chat: Any, message: str, **kwargs: Any) -> Any:
        return self.tasks.spawn("telegram message", self._send_message(chat, message, **kwargs))

    async def _send_message(self, chat: Any, message: str, parse_mode: str | None = "Markdown",
                            reply_to_message_id: Any = None, reply_markup: Any = None,
                            **kwargs: Any) -> Any:
        result = None
        rest: str | None = message.strip()
        while rest:
            params: dict[str, Any] = {"chat_id": chat}
            if parse_mode is not None:
                params["parse_mode"] = parse_mode
            if reply_to_message_id is not None:
                params["reply_to_message_id"] = reply_to_message_id
                reply_to_message_id = None
            if len(rest) <= 4096:
                params["text"], rest = rest, None
            else:
                n = rest[:4096].rfind("\n")
                n = n + 1 if n != -1 else 4096
                params["text"], rest = rest[:n].rstrip(), rest[n:].lstrip()
            if not rest and reply_markup is not None:
                params["reply_markup"] = reply_markup
            params.update(kwargs)
            result = await self.post("/sendMessage", json=params)
        return result


class TelegramPollingBot(TelegramStatusBot):
    """Receives updates by long polling `getUpdates`."""

    def __init__(self, *args: Any, poll_timeout: float = 120, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.poll_timeout = poll_timeout
        self._polling: defer.Deferred[Any] | None = None

    async def start(self) -> None:
        await super().start()
        self._polling = defer.Deferred.fromCoroutine(self.do_polling())
        self._polling.addErrback(self._polling_failed)

    def _polling_failed(self, failure: Any) -> None:
        if not failure.check(defer.CancelledError):
            log.failure("Telegram bot stopped", failure=failure)

    async def stop(self) -> None:
        self.stopping = True
        polling, self._polling = self._polling, None
        if polling is not None:
            polling.cancel()
            await polling
        await super().stop()

    async def do_polling(self) -> None:
        # 4.3 asks for the username while configuring, so an unreachable Telegram blocks the
        # master's start; here it is asked in the background, before polling.
        await self.introduce()
        await self.post("/deleteWebhook")
        offset = 0
        logme = True
        while not self.stopping:
            body: dict[str, Any] = {"timeout": self.poll_timeout}
            if offset:
                body["offset"] = offset
            try:
                res = await self.http_client.post("/getUpdates", json=body,
                                                  timeout=self.poll_timeout + 2)
                ans = await res.json()
                if not ans.get("ok"):
                    raise ValueError(f"[{res.code}] {ans.get('description')}")
                updates = ans.get("result")
            except defer.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001  (network trouble: retry later)
                if self.stopping:
                    return
                if logme:
                    self.log(f"ERROR: cannot send Telegram request /getUpdates (will try "
                             f"again): {err}")
                    logme = False
                await deferred_sleep(self.clock, self.retry_delay)
                continue
            logme = True
            if updates:
                offset = max(u["update_id"] for u in updates) + 1
                for update in updates:
                    try:
                        await self.process_update(update)
                    except Exception:  # noqa: BLE001  (one bad update must not stop polling)
                        log.failure("Telegram update {id} failed", id=update.get("update_id"))


class TelegramBot(BuildbotService):
    """`reporters.TelegramBot(bot_token, chat_ids=None, authz=None, ...)`."""

    name = "TelegramBot"
    secrets: ClassVar[list[str]] = ["bot_token"]
    api_url = "https://api.telegram.org"

    def checkConfig(self, bot_token: Any, chat_ids: Any = None,
                    authz: Any = None, bot_username: Any = None, tags: Any = None,
                    notify_events: Any = None, showBlameList: bool = True,
                    useRevisions: bool = False, useWebhook: bool = False,
                    certificate: Any = None, pollTimeout: float = 120,
                    retryDelay: float = 30) -> None:
        # one error per value that is neither a bool nor a list of user ids
        problems = ["authz values must be bool or a list of user ids"
                    for acl in (authz or {}).values() if not isinstance(acl, (list, tuple, bool))]
        if isinstance(certificate, io.TextIOBase):
            problems.append("certificate file must be open in binary mode")
        for problem in problems:
            config.error(problem)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bot: TelegramStatusBot | None = None

    async def reconfigServiceWithSibling(self, sibling: BuildbotService) -> None:
        if self.configured and self == sibling:
            return
        await reconfigure_rendering_secrets(self, sibling)

    async def reconfigService(self, bot_token: str, chat_ids: Any = None,
                              authz: Any = None, bot_username: Any = None, tags: Any = None,
                              notify_events: Any = None, showBlameList: bool = True,
                              useRevisions: bool = False, useWebhook: bool = False,
                              certificate: Any = None, pollTimeout: float = 120,
                              retryDelay: float = 30) -> None:
        self.bot_token = bot_token
        self.chat_ids = list(chat_ids or [])
        self.useWebhook = useWebhook
        if self.bot is not None:
            old, self.bot = self.bot, None
            await self.remove_child(old)
        if useWebhook:
            log.error("TelegramBot: webhook mode (useWebhook=True) is not available in this "
                      "master; the bot stays offline (use polling)")
            return
        http = await http_session(self, f"{self.api_url}/bot{bot_token}")
        bot = TelegramPollingBot(bot_token, http, self.chat_ids, authz, tags=tags,
                                 notify_events=set(notify_events or ()),
                                 useRevisions=useRevisions, showBlameList=showBlameList,
                                 poll_timeout=pollTimeout, retry_delay=retryDelay)
        if bot_username is not None:
            bot.nickname = bot_username
        self.bot = bot
        await self.add_child(bot)


_TG_WHY = "TelegramBot runs its own polling bot; webhooks are not supported"
TelegramWebhookBot = internal_class(__name__, "TelegramWebhookBot", _TG_WHY)
collect_fields = internal_function(__name__, "collect_fields", _TG_WHY)
