"""`reporters.TelegramBot`: a Telegram bot announcing builds and answering commands.

Works: long-polling `getUpdates` (after `deleteWebhook`), text commands (`/status`,
`/notify on ...`, `/force build ...`: the shared chat engine of `words.py`, with the bot's
`@username` suffix accepted), notifications to `chat_ids` and to chats that asked for them,
`sendMessage` with Markdown (long messages split at 4096 characters), `setMyCommands`,
`getMe` for the username, inline keyboards for `/notify` and the `/force` dialogue (buttons
whose command is too long for Telegram's 64 bytes are kept in the bot's `query_cache`), and
questions answered by replying (`ask_for_reply`), keyboards for a bare `/list`, `/watch`,
`/stop` and `/shutdown`. With `useWebhook=True` Telegram pushes the updates instead: the bot
serves `<buildbotURL>telegram<token>` on the master's web server and registers that address
with `setWebhook` (with the `certificate` for a self-signed HTTPS front end).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import random
import shlex
from typing import Any, ClassVar

from twisted.internet import defer
from twisted.logger import Logger

from buildbot import config
from buildbot.process.results import CANCELLED, EXCEPTION, FAILURE, RETRY, SUCCESS, WARNINGS
from buildbot.reporters.base import reconfigure_rendering_secrets
from buildbot.reporters.http_session import http_session
from buildbot.reporters.words import (
    Channel,
    Contact,
    StatusBot,
    UsageError,
    WebhookRefused,
    WebhookResource,
)
from buildbot.util.deferred import deferred_sleep, maybe_await
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


def collect_fields(fields: list[dict[str, Any]]) -> Any:
    """The fields of a force form, nested ones included (those with a name)."""
    for field in fields:
        if field["fullName"]:
            yield field
        yield from collect_fields(field.get("fields", []))


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

    @classmethod
    def describe_commands(cls) -> list[str]:
        """`command - description` lines (the list BotFather takes)."""
        return [f"{command} - {doc}" for command, doc in cls.get_commands()]

    def command_START(self, args: str, **kwargs: Any) -> Any:
        """initial greeting"""
        return self.send(f"Hello {self.user_name}! I am the Buildbot bot. Type /help to see "
                         "what I can do.")

    # -- inline keyboards -----------------------------------------------------------------
    def query_button(self, caption: str, payload: Any) -> dict[str, Any]:
        """An inline keyboard button running `payload` (a command line, or a dict with
        `command` and optionally `notify`) when pressed. Telegram carries at most 64 bytes
        of callback data: anything longer is kept in the bot's query_cache under a number."""
        if isinstance(payload, str) and len(payload.encode()) < 64:
            return {"text": caption, "callback_data": payload}
        cache = self.bot.query_cache  # type: ignore[attr-defined]  # a TelegramStatusBot
        key = hash(repr(payload))
        # linear probing: equal payloads share a number, different ones never do
        while key in cache and cache[key] != payload:
            key += 1
        cache[key] = payload
        return {"text": caption, "callback_data": key}

    def ask_for_reply(self, prompt: str, greeting: str | None = "Ok") -> Any:
        """Ask the user to answer with a value (the contact's `template` says what the
        answer becomes). In a group, the question names the user (and asks Telegram to
        make the client reply) so that the answer can be told from other talk."""
        extra: dict[str, Any] = {}
        if self.is_private_chat:
            # (no forced reply in private chats: clients re-open the prompt spuriously)
            text = f"{greeting}, now {prompt}..." if greeting else \
                f"{prompt[:1].upper()}{prompt[1:]}..."
        elif self.user_info.get("username"):
            who = f"@{self.user_info['username']}"
            text = f"{greeting} {who}, now {prompt}..." if greeting else f"{who}, now {prompt}..."
            extra["reply_markup"] = {"force_reply": True, "selective": True}
        else:
            text = f"{greeting}, now reply to this message and {prompt}..." if greeting \
                else f"Reply to this message and {prompt}..."
        return self.send(text, **extra)

    def command_NAY(self, args: str, tmessage: Any = None, **kwargs: Any) -> Any:
        """forget the current command"""
        replied = (tmessage or {}).get("reply_to_message")
        if replied and "reply_markup" in replied:  # the question's buttons go too
            self.bot.edit_keyboard(self.channel.id, replied["message_id"])  # type: ignore[attr-defined]  # a TelegramStatusBot
        if self.is_private_chat:
            return self.send("Never mind...")
        return self.send(f"Never mind, {self.user_name}...")

    command_NAY.usage = "nay - never mind the command we are currently discussing"  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)

    async def command_GETID(self, args: str, **kwargs: Any) -> None:
        """get user and chat ID"""
        if self.is_private_chat:
            await maybe_await(self.send(f"Your ID is `{self.user_id}`."))
            return
        await maybe_await(self.send(f"{self.user_name}, your ID is `{self.user_id}`."))
        kind = self.channel.chat_info.get("type", "group")  # type: ignore[attr-defined]  # a TelegramChannel
        await maybe_await(self.send(f"This {kind} ID is `{self.chat_id}`."))

    command_GETID.usage = (  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)
        "getid - get user and chat ID that can be put in the master configuration file")

    async def get_running_builders(self) -> list[str]:
        """Names of the builders with a build running now."""
        names = []
        for builder in await self.bot.getAllBuilders():
            if await self.bot.getRunningBuilds(builder["builderid"]):
                names.append(builder["name"])
        return names

    # -- /force: a dialogue over the force schedulers' forms -------------------------------
    # `/force [scheduler] [config|ask <field>|build] <builder> [field=value...]`: `config`
    # shows the form with a button per field, `ask` asks for one value (the answer returns
    # to `config`), `build` starts the build once every required field has a value.
    _NOT_IN_FORM = ("username", "owner")  # filled by the bot

    async def command_FORCE(self, args: str, tquery: Any = None, partial: Any = None,
                            **kwargs: Any) -> None:
        """force a build"""
        schedulers = {s["name"]: s for s in await self.master.data.get(("forceschedulers",))
                      or ()}
        if not schedulers:
            raise UsageError("no force schedulers configured for use by /force")
        argv = self.splitArgs(args)
        sched = await self._chosen_scheduler(argv, schedulers)
        if sched is None:
            return  # asked which one
        form = schedulers[sched]
        task = argv.pop(0) if argv else "config"
        if tquery and task != "config":  # the pressed keyboard has served
            await self.bot.edit_keyboard(self.chat_id,  # type: ignore[attr-defined]  # a TelegramStatusBot
                                         tquery["message"]["message_id"])
        if not argv:
            await self._send_keyboard("Which builder do you want to start?", [
                [self.query_button(b, f"/force {sched} {task} {b}")]
                for b in form["builder_names"]])
            return
        what = argv.pop(0) if task == "ask" else None
        if not argv:
            raise UsageError("Try '/force' and follow the instructions")
        builder = argv.pop(0)
        if builder not in form["builder_names"]:
            raise UsageError("Try '/force' and follow the instructions "
                             f"(`{builder}` not configured for _{form['label']}_ scheduler)")
        try:
            params = dict(arg.split("=", 1) for arg in argv)
        except ValueError as e:
            raise UsageError(f"Try '/force' and follow the instructions ({e})") from e
        fields = [f for f in collect_fields(form["all_fields"])
                  if f["fullName"] not in self._NOT_IN_FORM]
        missing = [f["fullName"] for f in fields
                   if f["required"] and f["fullName"] not in params]
        if task == "build" and not missing:
            await self._start_forced_build(sched, builder, params, fields)
        elif task in ("build", "config"):
            await self._show_force_form(sched, builder, params, fields, missing)
        elif task == "ask" and what is not None:
            rest = " ".join(shlex.quote(f"{k}={v}") for k, v in params.items() if k != what)
            self.template = f"/force {sched} config {builder} {rest} {what}={{}}"
            await maybe_await(self.ask_for_reply(
                "enter the new value for the " + what.replace("_", " ").lower(), ""))
        else:
            raise UsageError("Try '/force' and follow the instructions")

    command_FORCE.usage = "force - Force a build"  # type: ignore[attr-defined]  # chat commands carry their usage as a function attribute (4.3's surface)

    async def _send_keyboard(self, text: str, keyboard: list[list[dict[str, Any]]]) -> None:
        await maybe_await(self.send(text, reply_markup={"inline_keyboard": keyboard}))

    async def _chosen_scheduler(self, argv: list[str],
                                schedulers: dict[str, Any]) -> str | None:
        """The scheduler named first in `argv` (taken out of it); the only one when there
        is one; None after asking the user to choose."""
        if argv and argv[0] in schedulers:
            return argv.pop(0)
        if len(schedulers) == 1:
            return next(iter(schedulers))
        if argv:
            raise UsageError(f"Try '/force' and follow the instructions (no force scheduler "
                             f"{argv[0]})")
        await self._send_keyboard("Which force scheduler do you want to activate?", [
            [self.query_button(s["label"], f"/force {s['name']}")]
            for s in schedulers.values()])
        return None

    async def _start_forced_build(self, sched: str, builder: str, params: dict[str, Any],
                                  fields: list[dict[str, Any]]) -> None:
        values = {f["fullName"]: f["default"] for f in fields if f["type"] == "fixed"}
        values.update(params)
        found = await self.bot.getBuilder(buildername=builder)
        try:
            await self.master.data.control(
                "force", {"builderid": found["builderid"], "owner": self.describeUser(),
                          **values}, ("forceschedulers", sched))
        except Exception as e:  # noqa: BLE001 - refused values go back to the user
            raise UsageError(f"Try '/force' and follow the instructions "
                             f"({getattr(e, 'errors', e)})") from e
        await maybe_await(self.send("Force build successfully requested."))

    async def _show_force_form(self, sched: str, builder: str, params: dict[str, Any],
                               fields: list[dict[str, Any]], missing: list[str]) -> None:
        current = " ".join(shlex.quote(f"{k}={v}") for k, v in params.items())
        lines = [f"{self.user_full_name}, you are about to start a new build on `{builder}`!"]
        keyboard = []
        shown = [f for f in fields if f["type"] != "fixed"]
        if shown:
            lines.append("\nThe current build parameters are:")
        for field in shown:
            if field["type"] == "nested":
                lines.append(field["label"])
                continue
            name = field["fullName"]
            value = params.get(name, field["default"])
            value = value.strip() if isinstance(value, str) else value
            flag = name in missing
            lines.append(f"    {field['label']} `{value}`" + (" \u26a0\ufe0f" if flag else ""))
            caption = ("Change " if value else "Set ") + name.replace("_", " ").title()
            keyboard.append([self.query_button(
                ("\u26a0\ufe0f " if flag else "") + caption,
                f"/force {sched} ask {name} {builder} {current}")])
        question = "\nWhat do you want to do?"
        if missing:
            question += " You must set values for all parameters marked with \u26a0\ufe0f"
        else:
            keyboard.append([self.query_button("\U0001f680 Start Build",
                                               f"/force {sched} build {builder} {current}")])
        await self._send_keyboard("\n".join([*lines, question]), keyboard)

    # -- keyboards for the commands given without their arguments ------------------------
    def _buttons(self, rows: Any) -> list[list[dict[str, Any]]]:
        """A keyboard from rows of (caption, command) pairs."""
        return [[self.query_button(caption, command) for caption, command in row]
                for row in rows]

    @Contact.overrideCommand
    async def command_LIST(self, args: str, **kwargs: Any) -> None:
        if self.splitArgs(args):
            await super().command_LIST(args, **kwargs)
            return
        await self._send_keyboard("What do you want to list?", self._buttons([
            [("\U0001f477\ufe0f Builders", "/list builders"),
             ("\U0001f477\ufe0f (including old ones)", "/list all builders")],
            [("\u2699 Workers", "/list workers"),
             ("\u2699 (including old ones)", "/list all workers")],
            [("\U0001f4c4 Changes (last 10)", "/list changes")]]))

    @Contact.overrideCommand
    async def command_WATCH(self, args: str, **kwargs: Any) -> None:
        if args:
            await super().command_WATCH(args, **kwargs)
            return
        running = await self.get_running_builders()
        if not running:
            await maybe_await(self.send("There are no currently running builds."))
            return
        await self._send_keyboard("Which builder do you want to watch?", self._buttons(
            [[("\U0001f50e " + b, f"/watch {b}")] for b in running]))

    @Contact.overrideCommand
    async def command_STOP(self, args: str, **kwargs: Any) -> None:
        argv = self.splitArgs(args)
        # "stop build <builder> <reason>" (and anything unexpected) is the chat engine's
        if len(argv) >= 3 or (argv and argv[0] != "build"):
            await super().command_STOP(args, **kwargs)
            return
        if len(argv) == 2:  # the reason is asked for; the answer completes the command
            self.template = f"/stop {args} {{}}"
            await maybe_await(self.ask_for_reply(
                f"give me the reason to stop build on `{argv[1]}`"))
            return
        running = await self.get_running_builders()
        if running:
            await self._send_keyboard("Select builder to stop...", self._buttons(
                [[("\U0001f6ab " + b, f"/stop build {b}")] for b in running]))

    @Contact.overrideCommand
    async def command_SHUTDOWN(self, args: str, **kwargs: Any) -> None:
        if args:
            await super().command_SHUTDOWN(args, **kwargs)
            return
        shutting_down = bool(getattr(self.master.botmaster, "shuttingDown", False))
        first = ("\U0001f519 Stop Shutdown", "/shutdown stop") if shutting_down else \
            ("\u2198\ufe0f Begin Shutdown", "/shutdown start")
        text = "Buildbot is currently shutting down.\n\n" if shutting_down else ""
        await self._send_keyboard(text + "What do you want to do?", self._buttons(
            [[first, ("\u203c\ufe0f Shutdown Now", "/shutdown now")]]))

    # (event pairs shown on each row of the notification keyboard)
    NOTIFY_ROWS = (("started", "finished"), ("success", "failure"), ("warnings", "exception"),
                   ("problem", "recovery"), ("worse", "better"), ("cancelled", "worker"))

    @Contact.overrideCommand
    async def command_NOTIFY(self, args: str, tquery: Any = None, **kwargs: Any) -> None:
        if args:
            listing = args == "list"
            if listing and tquery:  # "Hide..." pressed: the keyboard message goes
                await self.bot.delete_message(self.chat_id,  # type: ignore[attr-defined]  # a TelegramStatusBot
                                              tquery["message"]["message_id"])
            await super().command_NOTIFY(args, **kwargs)
            if listing or not tquery:
                return
        # no arguments, or a button of the keyboard: show the keyboard (again)
        on = self.channel.notify_events

        def button(event: str) -> dict[str, Any]:
            state = "\U0001f514" if event in on else "\U0001f515"
            switch = "off" if event in on else "on"
            return self.query_button(f"{event.capitalize()} {state}",
                                     f"/notify {switch}-quiet {event}")

        keyboard = [[button(e) for e in row] for row in self.NOTIFY_ROWS]
        keyboard.append([self.query_button("Hide...", "/notify list")])
        if tquery:
            await self.bot.edit_keyboard(self.chat_id,  # type: ignore[attr-defined]  # a TelegramStatusBot
                                         tquery["message"]["message_id"], keyboard)
        else:
            await maybe_await(self.send(
                "Here are available notifications and their current state. "
                "Click to turn them on/off.", reply_markup={"inline_keyboard": keyboard}))


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

    def _button_command(self, query: dict[str, Any]) -> tuple[str | None, str | None,
                                                              dict[str, Any]]:
        """(command text, notice for the user, extra arguments) of a pressed button."""
        data = query.get("data", "")
        try:
            key = int(data)
        except (TypeError, ValueError):
            return str(data), None, {}  # the command itself
        if key not in self.query_cache:
            # (a button of a previous master, or cached before a restart)
            original = query.get("message") or {}
            if "chat" in original and "message_id" in original:
                self.edit_keyboard(original["chat"]["id"], original["message_id"])
            return None, "Sorry, button is no longer valid!", {}
        payload = self.query_cache[key]
        if not isinstance(payload, dict):
            return str(payload), None, {}
        extra = dict(payload)
        return extra.pop("command"), extra.pop("notify", None), extra

    async def process_update(self, update: dict[str, Any]) -> Any:
        """Run the command in one update (a message, or a button press); a short text
        saying why when there is nothing to run."""
        extra: dict[str, Any] = {}
        message = update.get("message")
        query = update.get("callback_query")
        if message is None and query is not None:
            text, notice, extra = self._button_command(query)
            await self.answer_query(query["id"], notice)
            extra["tquery"] = query
            original = query.get("message") or {}
            # a pressed button reads as a message holding the button's command
            message = {"from": query["from"], "chat": original.get("chat"), "text": text}
            if "reply_to_message" in original:
                message["reply_to_message"] = original["reply_to_message"]
        if message is None:
            self.log("No message in Telegram update object")
            return "no message"
        if message.get("from") is None:
            self.log("No user in incoming message")
            return "no user"
        text = message.get("text")
        if not text:
            return "no text in the message"
        extra["tmessage"] = message
        contact = self.getContact(user=message["from"], channel=message["chat"])
        # An answer to ask_for_reply completes the command the question came from.
        template, contact.template = contact.template, None  # type: ignore[attr-defined]  # a TelegramContact
        if template and not text.startswith(self.commandPrefix):
            text = template.format(shlex.quote(text))
        return await contact.handleMessage(text, **extra)

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

    @property
    def query_cache(self) -> dict[int, Any]:
        """Payloads of the buttons whose data is too long for Telegram, by number."""
        cache: dict[int, Any] | None = self.__dict__.get("_query_cache")
        if cache is None:
            cache = self.__dict__["_query_cache"] = {}
        return cache

    def send_message(self, chat: Any, message: str, parse_mode: str | None = "Markdown",
                     reply_to_message_id: Any = None, reply_markup: Any = None,
                     **kwargs: Any) -> Any:
        """Send `message` (split at 4096 characters; only the first part is the reply,
        only the last carries `reply_markup`); a Deferred of the last message sent."""
        return self.tasks.spawn("telegram message", self._send_message(
            chat, message, parse_mode=parse_mode, reply_to_message_id=reply_to_message_id,
            reply_markup=reply_markup, **kwargs))

    # The message calls start at once and return a Deferred of the API's result, so that
    # commands may fire them without waiting (as 4.3's do); tracked, so stopping waits.
    def _api_call(self, path: str, params: dict[str, Any]) -> defer.Deferred[Any]:
        return self.tasks.spawn(f"telegram {path}", self.post(path, json=params))

    def edit_message(self, chat: Any, msg: Any, message: str,
                     parse_mode: str | None = "Markdown", **kwargs: Any) -> defer.Deferred[Any]:
        params = {"chat_id": chat, "message_id": msg, "text": message, **kwargs}
        if parse_mode is not None:
            params.setdefault("parse_mode", parse_mode)
        return self._api_call("/editMessageText", params)

    def edit_keyboard(self, chat: Any, msg: Any, keyboard: Any = None) -> defer.Deferred[Any]:
        """Replace the message's inline keyboard (None: remove it)."""
        params: dict[str, Any] = {"chat_id": chat, "message_id": msg}
        if keyboard is not None:
            params["reply_markup"] = {"inline_keyboard": keyboard}
        return self._api_call("/editMessageReplyMarkup", params)

    def delete_message(self, chat: Any, msg: Any) -> defer.Deferred[Any]:
        return self._api_call("/deleteMessage", {"chat_id": chat, "message_id": msg})

    def send_sticker(self, chat: Any, sticker: str, **kwargs: Any) -> defer.Deferred[Any]:
        return self._api_call("/sendSticker", {"chat_id": chat, "sticker": sticker, **kwargs})

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


class TelegramWebhookBot(TelegramStatusBot):
    """Receives updates from Telegram at `<buildbotURL>telegram<token>` (`setWebhook`).

    The path holds the bot's token, as in 4.3. Telegram is also given a secret derived from
    the token (`secret_token`, sent back in a header with every update) and updates without
    it are refused: the path alone may leak through proxy or access logs."""

    name = "TelegramWebhookBot"  # type: ignore[assignment]  # Service.name is typed None

    def __init__(self, token: str, *args: Any, certificate: Any = None, **kwargs: Any) -> None:
        super().__init__(token, *args, **kwargs)
        self._certificate = certificate
        self.path = f"telegram{token}"
        self.secret = hashlib.sha256(f"buildbot-telegram-webhook:{token}".encode()).hexdigest()
        self.webhook = WebhookResource(self.path)
        self.webhook.setServiceParent(self)  # served while the bot runs
        self._registering: defer.Deferred[Any] | None = None

    async def start(self) -> None:
        await super().start()
        # in the background, as the polling bot does: Telegram being unreachable must not
        # hold the master's start
        self._registering = defer.Deferred.fromCoroutine(self._register())
        self._registering.addErrback(self._registration_failed)

    def _registration_failed(self, failure: Any) -> None:
        if not failure.check(defer.CancelledError):
            log.failure("Telegram webhook registration failed", failure=failure)

    async def _register(self) -> None:
        await self.introduce()
        url = str(self.master.config.buildbotURL)
        if not url.endswith("/"):
            url += "/"
        await self.set_webhook(url + self.path, self._certificate)

    async def stop(self) -> None:
        self.stopping = True
        registering, self._registering = self._registering, None
        if registering is not None:
            registering.cancel()
            await registering
        await super().stop()

    async def set_webhook(self, url: str, certificate: Any = None) -> Any:
        """Ask Telegram to POST this bot's updates to `url`."""
        if certificate is None:
            self.log(f"Setting up webhook to: {url}")
            return await self.post("/setWebhook", json={"url": url,
                                                        "secret_token": self.secret})
        self.log(f"Setting up webhook to: {url} (custom certificate)")
        if hasattr(certificate, "read"):
            certificate = certificate.read()
        if isinstance(certificate, str):
            certificate = certificate.encode()
        return await self.post("/setWebhook", data={"url": url, "secret_token": self.secret},
                               files={"certificate": ("certificate.pem",
                                                      io.BytesIO(certificate))})

    def get_update(self, request: Any) -> dict[str, Any]:
        """The update a webhook request carries (refused: a 4xx with the reason)."""
        given = request.getHeader(b"x-telegram-bot-api-secret-token") or b""
        if not hmac.compare_digest(given, self.secret.encode()):
            raise WebhookRefused(403, "missing or wrong X-Telegram-Bot-Api-Secret-Token")
        try:
            update = json.loads(request.content.read().decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise WebhookRefused(400, f"the body is not JSON: {e}") from e
        if not isinstance(update, dict):
            raise WebhookRefused(400, "the body is not a Telegram Update object")
        return update

    def process_webhook(self, request: Any) -> bytes:
        """Take one update: answer Telegram at once (it resends what is not acknowledged
        quickly) and run the command in the background."""
        update = self.get_update(request)
        d = defer.Deferred.fromCoroutine(self.process_update(update))
        d.addErrback(lambda f: log.failure("Telegram update {id} failed", failure=f,
                                           id=update.get("update_id")))
        return b""


class TelegramBot(BuildbotService):
    """`reporters.TelegramBot(bot_token, chat_ids=None, authz=None, ...)`."""

    name = "TelegramBot"
    secrets: ClassVar[list[str]] = ["bot_token"]
    # True: configure the bot but never start it (tests that drive the bot directly)
    in_test_harness = False
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
            if old.parent is self:  # (never added in the test harness)
                await self.remove_child(old)
        http = await http_session(self, f"{self.api_url}/bot{bot_token}")
        common = {"tags": tags, "notify_events": set(notify_events or ()),
                  "useRevisions": useRevisions, "showBlameList": showBlameList,
                  "retry_delay": retryDelay}
        bot: TelegramStatusBot
        if useWebhook:
            bot = TelegramWebhookBot(bot_token, http, self.chat_ids, authz,
                                     certificate=certificate, **common)
        else:
            bot = TelegramPollingBot(bot_token, http, self.chat_ids, authz,
                                     poll_timeout=pollTimeout, **common)
        if bot_username is not None:
            bot.nickname = bot_username
        self.bot = bot
        if not self.in_test_harness:
            await self.add_child(bot)

