"""The Telegram bot's keyboards and dialogues (4.3's members: query_button and the query
cache, /notify and /force keyboards, ask_for_reply, /nay, /getid, the message edit calls),
on a running master; the Bot API is a recording stand-in, the bot is driven update by
update."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.reporters.telegram import TelegramBot, TelegramContact
from tests.fixtures.master import running_master
from tests.reporters.builds import master_config

pytestmark = pytest.mark.integration

ANN = {"id": 9, "first_name": "Ann", "username": "ann"}
PRIVATE = {"id": 9, "type": "private"}


class FakeApi:
    """Answers every Bot API call with success, recording (method, body)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._ids = itertools.count(100)

    async def post(self, path: str, json: dict[str, Any] | None = None, **kw: Any) -> Any:
        self.calls.append((path.lstrip("/"), json or {}))
        result: Any = {"message_id": next(self._ids)} if path == "/sendMessage" else True

        class Answer:
            code = 200

            async def json(self) -> dict[str, Any]:
                return {"ok": True, "result": result}
        return Answer()

    def take(self) -> list[tuple[str, dict[str, Any]]]:
        calls, self.calls = self.calls, []
        return calls

    def texts(self) -> list[str]:
        return [body["text"] for method, body in self.take() if method == "sendMessage"]


class Harness(TelegramBot):
    in_test_harness = True  # the bot is built, never started: no network


def message(text: str, **extra: Any) -> dict[str, Any]:
    return {"message": {"message_id": 1, "from": ANN, "chat": PRIVATE, "text": text, **extra}}


def press(data: Any, message_id: int = 50) -> dict[str, Any]:
    return {"callback_query": {"id": "q1", "from": ANN, "data": data,
                               "message": {"message_id": message_id, "chat": PRIVATE}}}


@pytest_twisted.async_yield_fixture
async def telegram(tmp_path: Path) -> Any:
    svc = Harness("123:tok", authz={("force", "stop", "shutdown"): True})
    async with running_master(tmp_path, master_config(svc)) as master:
        bot: Any = svc.bot  # a stand-in API client and parent are put on it below
        bot.http_client = api = FakeApi()
        bot.nickname = "bbot"  # (what getMe would tell; the saved state is named after it)
        bot.parent = svc  # reaches the master without starting (no polling)
        yield master, bot, api
        await bot.tasks.wait()


@pytest_twisted.ensureDeferred
async def test_getid_nay_and_message_calls(telegram: Any) -> None:
    _, bot, api = telegram
    await bot.process_update(message("/getid"))
    await bot.tasks.wait()
    assert api.texts() == ["Your ID is `9`."]
    asked = {"message_id": 7, "reply_markup": {"inline_keyboard": []}}
    await bot.process_update(message("/nay", reply_to_message=asked))
    await bot.tasks.wait()
    assert api.take() == [
        ("editMessageReplyMarkup", {"chat_id": 9, "message_id": 7}),
        ("sendMessage", {"chat_id": 9, "parse_mode": "Markdown", "text": "Never mind..."})]
    await bot.edit_message(9, 7, "new text", disable_web_page_preview=True)
    await bot.delete_message(9, 7)
    await bot.send_sticker(9, "CAAC")
    await bot.send_message(9, "hi", parse_mode=None, reply_to_message_id=3,
                           reply_markup={"force_reply": True})
    assert api.take() == [
        ("editMessageText", {"chat_id": 9, "message_id": 7, "text": "new text",
                             "disable_web_page_preview": True, "parse_mode": "Markdown"}),
        ("deleteMessage", {"chat_id": 9, "message_id": 7}),
        ("sendSticker", {"chat_id": 9, "sticker": "CAAC"}),
        ("sendMessage", {"chat_id": 9, "reply_to_message_id": 3, "text": "hi",
                         "reply_markup": {"force_reply": True}})]
    assert "getid - get user and chat ID" in TelegramContact.describe_commands()


@pytest_twisted.ensureDeferred
async def test_long_button_payloads_go_through_the_query_cache(telegram: Any) -> None:
    _, bot, api = telegram
    contact = bot.getContact(ANN, PRIVATE)
    short = contact.query_button("Go", "/version")
    assert short == {"text": "Go", "callback_data": "/version"}
    payload = {"command": "/version", "notify": "checking " + "x" * 80}
    long = contact.query_button("Go", payload)
    assert long["callback_data"] == contact.query_button("Again", dict(payload))["callback_data"]
    await bot.process_update(press(long["callback_data"]))
    await bot.tasks.wait()
    calls = api.take()
    assert calls[0] == ("answerCallbackQuery", {"callback_query_id": "q1",
                                                "text": payload["notify"]})
    assert calls[1][1]["text"].startswith("This is buildbot-")
    await bot.process_update(press(long["callback_data"] + 1))  # not (or no longer) cached
    await bot.tasks.wait()
    assert sorted(api.take()) == sorted([
        ("answerCallbackQuery", {"callback_query_id": "q1",
                                 "text": "Sorry, button is no longer valid!"}),
        ("editMessageReplyMarkup", {"chat_id": 9, "message_id": 50})])


@pytest_twisted.ensureDeferred
async def test_notify_keyboard_switches_events(telegram: Any) -> None:
    _, bot, api = telegram
    await bot.process_update(message("/notify"))
    await bot.tasks.wait()
    (sent,) = [body for method, body in api.take() if method == "sendMessage"]
    rows = sent["reply_markup"]["inline_keyboard"]
    assert rows[0][0] == {"text": "Started \U0001f515", "callback_data": "/notify on-quiet started"}
    assert rows[-1] == [{"text": "Hide...", "callback_data": "/notify list"}]
    await bot.process_update(press(rows[0][0]["callback_data"]))
    await bot.tasks.wait()
    edits = [body for method, body in api.take() if method == "editMessageReplyMarkup"]
    assert edits[-1]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Started \U0001f514"
    assert "started" in bot.getChannel(9).notify_events
    await bot.process_update(press("/notify list"))
    await bot.tasks.wait()
    calls = api.take()
    assert ("deleteMessage", {"chat_id": 9, "message_id": 50}) in calls
    assert any("started" in body.get("text", "") for m, body in calls if m == "sendMessage")


@pytest_twisted.ensureDeferred
async def test_force_dialogue_asks_fills_and_builds(telegram: Any) -> None:
    master, bot, api = telegram
    contact = bot.getContact(ANN, PRIVATE)
    assert await contact.get_running_builders() == []
    await bot.process_update(message("/force"))
    await bot.tasks.wait()
    (sent,) = [body for method, body in api.take() if method == "sendMessage"]
    assert sent["text"] == "Which builder do you want to start?"
    assert sent["reply_markup"]["inline_keyboard"] == [
        [{"text": "b0", "callback_data": "/force force config b0"}]]

    await bot.process_update(message("/force force ask reason b0"))
    await bot.tasks.wait()
    assert api.texts() == ["Enter the new value for the reason..."]
    await bot.process_update(message("because"))  # the answer completes the form
    await bot.tasks.wait()
    (form,) = [body for method, body in api.take() if method == "sendMessage"]
    assert form["text"].startswith("Ann, you are about to start a new build on `b0`!\n\n"
                                   "The current build parameters are:")
    assert "    reason `because`" in form["text"].split("\n")
    start = form["reply_markup"]["inline_keyboard"][-1][0]
    assert start["text"] == "\U0001f680 Start Build"
    await bot.process_update(press(start["callback_data"]))
    await bot.tasks.wait()
    assert api.texts() == ["Force build successfully requested."]
    (bs,) = await master.data.get(("buildsets",))
    assert "because" in bs["reason"]
    with pytest.raises(Exception, match="not configured"):
        await contact.command_FORCE("force build nosuch")


@pytest_twisted.ensureDeferred
async def test_bare_commands_offer_keyboards(telegram: Any) -> None:
    _, bot, api = telegram

    async def ask(text: str) -> dict[str, Any]:
        await bot.process_update(message(text))
        await bot.tasks.wait()
        (sent,) = [body for method, body in api.take() if method == "sendMessage"]
        return sent

    listing = await ask("/list")
    assert listing["text"] == "What do you want to list?"
    assert [[b["callback_data"] for b in row]
            for row in listing["reply_markup"]["inline_keyboard"]] == [
        ["/list builders", "/list all builders"], ["/list workers", "/list all workers"],
        ["/list changes"]]
    assert (await ask("/watch"))["text"] == "There are no currently running builds."
    shutdown = await ask("/shutdown")
    assert shutdown["text"] == "What do you want to do?"
    assert [b["callback_data"] for b in shutdown["reply_markup"]["inline_keyboard"][0]] == [
        "/shutdown start", "/shutdown now"]
    # the reason is asked for, and the answer completes the command
    assert (await ask("/stop build b0"))["text"] == \
        "Ok, now give me the reason to stop build on `b0`..."
    assert (await ask("enough")) == {"chat_id": 9, "parse_mode": "Markdown",
                                     "text": "Sorry, no build is currently running."}
