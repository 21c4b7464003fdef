"""The IRC and Telegram bots against local stand-ins of an IRC server and the Bot API:
commands answered, build notifications, clean disconnection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer

import buildbot
from buildbot.plugins import reporters, worker
from buildbot.reporters.telegram import TelegramBot
from tests.fixtures.master import running_master
from tests.reporters.builds import BUILDBOT_URL, force, master_config
from tests.reporters.remote_services import (
    RecordedRequest,
    RecordingHttpServer,
    RecordingIrcServer,
)


@pytest_twisted.async_yield_fixture
async def irc_server() -> Any:
    srv = RecordingIrcServer()
    srv.start()
    yield srv
    await srv.stop()


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_irc_bot_joins_answers_and_announces_builds(
        tmp_path: Path, irc_server: RecordingIrcServer) -> None:
    bot = reporters.IRC("127.0.0.1", "bb", ["#ci"], port=irc_server.portnum,
                        notify_events=["started", "finished"], useColors=False)
    async with running_master(tmp_path, master_config(bot)) as master:
        assert await irc_server.wait_line("JOIN") == "JOIN #ci"
        irc_server.say("ann", "#ci", "bb: version")
        irc_server.say("ann", "#ci", "not for the bot")
        irc_server.say("ann", "bb", "list builders")
        said = await irc_server.wait_said(2)
        await force(master)
        said = await irc_server.wait_said(4)
        (b,) = await master.data.get(("builds",))
    url = f"{BUILDBOT_URL}#/builders/{b['builderid']}/builds/1"
    assert said == [
        ("PRIVMSG", "#ci", f"This is buildbot-{buildbot.version} at your service"),
        ("PRIVMSG", "ann", "I found the following builders: b0"),
        ("PRIVMSG", "#ci", f"Build [#1]({url}) of `b0` started."),
        ("PRIVMSG", "#ci", f"Build [#1]({url}) of `b0` completed successfully."),
    ]
    assert "QUIT :buildmaster reconfigured: bot disconnecting" in irc_server.lines.items


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_irc_notify_command_and_authz(tmp_path: Path,
                                            irc_server: RecordingIrcServer) -> None:
    bot = reporters.IRC("127.0.0.1", "bb", [], port=irc_server.portnum, noticeOnChannel=True,
                        authz={("force", "stop"): ["boss"]})
    async with running_master(tmp_path, master_config(bot)) as master:
        await irc_server.wait_line("USER")
        irc_server.say("ann", "bb", "force build b0 please")
        irc_server.say("ann", "bb", "notify on failure")
        said = await irc_server.wait_said(2)
        assert said == [("PRIVMSG", "ann", "Thou shall not pass, ann!!!"),
                        ("PRIVMSG", "ann", ("The following events are being notified: "
                                           "failure."))]
        irc_server.say("boss", "bb", "force build b0 please")
        said = await irc_server.wait_said(3)
        assert said[2] == ("PRIVMSG", "boss", "Force build successfully requested.")
        bs = await master.mq.waitUntilEvent(("buildsets", None, "complete"), lambda: None)
    assert bs is not None


class _TelegramApi:
    """The Bot API: fixed answers, one update delivered, later polls held open."""

    def __init__(self, server: RecordingHttpServer) -> None:
        self.server = server
        self.updates = [{"update_id": 10, "message": {
            "message_id": 5, "from": {"id": 9, "first_name": "Ann"},
            "chat": {"id": 9, "type": "private"}, "text": "/version@bbbot"}}]
        self.held: list[defer.Deferred[Any]] = []

    def __call__(self, req: RecordedRequest) -> Any:
        method = req.path.rsplit("/", 1)[-1]
        if method == "getMe":
            return 200, {"ok": True, "result": {"id": 1, "username": "bbbot"}}
        if method == "getUpdates":
            if self.updates:
                updates, self.updates = self.updates, []
                return 200, {"ok": True, "result": updates}
            d: defer.Deferred[Any] = defer.Deferred()
            self.held.append(d)
            return d
        if method == "sendMessage":
            return 200, {"ok": True, "result": {"message_id": 100}}
        return 200, {"ok": True, "result": True}


def messages_sent(requests: list[RecordedRequest]) -> int:
    return sum(1 for r in requests if r.path.endswith("/sendMessage"))


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_telegram_polling_bot_answers_and_notifies(tmp_path: Path) -> None:
    server = RecordingHttpServer()
    server.respond = _TelegramApi(server)
    server.start()

    class LocalTelegramBot(TelegramBot):
        api_url = server.url  # the API's address is fixed in the reporter

    try:
        bot = LocalTelegramBot("123:tok", chat_ids=[-77], notify_events=["started"])
        async with running_master(tmp_path, master_config(bot)) as master:
            await server.requests.wait_until(lambda items: messages_sent(items) == 1,
                                             "the answer to /version")
            await force(master)
            await server.requests.wait_until(lambda items: messages_sent(items) == 2,
                                             "the build started notice")
            (b,) = await master.data.get(("builds",))
    finally:
        await server.stop()
    paths = [r.path for r in server.requests.items]
    assert paths[:4] == ["/bot123:tok/getMe", "/bot123:tok/setMyCommands",
                         "/bot123:tok/deleteWebhook", "/bot123:tok/getUpdates"]
    messages = [r.json() for r in server.requests.items if r.path.endswith("/sendMessage")]
    url = f"{BUILDBOT_URL}#/builders/{b['builderid']}/builds/1"
    assert messages == [
        {"chat_id": 9, "parse_mode": "Markdown",
         "text": f"This is buildbot-{buildbot.version} at your service"},
        {"chat_id": -77, "parse_mode": "Markdown",
         "text": f"Build [#1]({url}) of `b0` started."},
    ]
    commands = server.requests.items[1].json()["commands"]
    assert {"command": "version", "description": "show buildbot version"} in commands


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_irc_list_and_notify_subcommands(tmp_path: Path,
                                               irc_server: RecordingIrcServer) -> None:
    bot = reporters.IRC("127.0.0.1", "bb", [], port=irc_server.portnum)
    cfg = master_config(bot, builders=("b0", "b1"))
    cfg["workers"].append(worker.Worker("ghost", "pw"))  # never connects
    cfg["builders"][1].workernames = ["ghost"]
    async with running_master(tmp_path, cfg):
        await irc_server.wait_line("USER")
        replies = []
        # one at a time: commands run concurrently, so replies could overtake each other
        for line, expected in (("list builders", 1), ("list all builders", 1),
                               ("list workers", 1), ("notify on-quiet started", 0),
                               ("notify on finished", 1), ("notify off-quiet started", 0),
                               ("notify list", 1), ("notify off", 1),
                               ("notify sideways", 1)):
            irc_server.say("ann", "bb", line)
            said = await irc_server.wait_said(len(replies) + expected)
            replies = [text for _, _, text in said]
    assert replies == [
        "I found the following builders: b0",
        "I found the following builders: b0 b1 [offline]",
        "I found the following workers: local ghost [disconnected]",
        "The following events are being notified: finished, started.",
        "The following events are being notified: finished.",
        "No events are being notified.",
        "Try 'notify on|off|list [_EVENT_]'.",
    ]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_telegram_webhook_bot_registers_and_answers_pushed_updates(
        tmp_path: Path) -> None:
    import json

    import treq
    from twisted.internet import reactor
    from twisted.web.client import HTTPConnectionPool

    pool = HTTPConnectionPool(reactor, persistent=False)  # no idle connection left behind

    server = RecordingHttpServer()
    api = _TelegramApi(server)
    api.updates = []  # nothing is polled in webhook mode
    server.respond = api
    server.start()

    class LocalTelegramBot(TelegramBot):
        api_url = server.url

    update = {"update_id": 11, "message": {
        "message_id": 6, "from": {"id": 9, "first_name": "Ann"},
        "chat": {"id": 9, "type": "private"}, "text": "/version"}}
    try:
        bot = LocalTelegramBot("123:tok", useWebhook=True, certificate="PEM TEXT")
        cfg = master_config(bot, www={"port": "tcp:0:interface=127.0.0.1"})
        async with running_master(tmp_path, cfg) as master:
            items = await server.requests.wait_until(
                lambda items: any(r.path.endswith("/setWebhook") for r in items),
                "the webhook registration")
            (register,) = [r for r in items if r.path.endswith("/setWebhook")]
            body = register.body.decode("latin-1")
            assert "PEM TEXT" in body and f"{BUILDBOT_URL}telegram123:tok" in body
            assert bot.bot is not None
            secret = bot.bot.secret  # type: ignore[attr-defined]  # a TelegramWebhookBot
            assert secret in body  # sent as secret_token with the certificate upload
            hook = f"http://127.0.0.1:{master.www.port_number}/telegram123:tok"

            async def push(payload: bytes, headers: dict[bytes, list[bytes]]) -> tuple[int, str]:
                res = await treq.post(hook, data=payload, headers=headers, pool=pool)
                return res.code, (await treq.content(res)).decode()

            with_secret = {b"X-Telegram-Bot-Api-Secret-Token": [secret.encode()],
                           b"Content-Type": [b"application/json"]}
            assert await push(json.dumps(update).encode(), with_secret) == (200, "")
            await server.requests.wait_until(lambda items: messages_sent(items) == 1,
                                             "the answer to /version")
            code, text = await push(json.dumps(update).encode(), {})
            assert code == 403 and "Secret-Token" in text
            code, text = await push(b"{not json", with_secret)
            assert code == 400 and "not JSON" in text
            assert (await push(b"[1]", with_secret))[0] == 400
            res = await treq.get(hook, pool=pool)  # served too (4.3), refused without secret
            assert res.code == 403
            await treq.content(res)
            # a reconfig of the web server keeps the webhook served
            await master.reconfig()
            assert await push(json.dumps(update).encode(), with_secret) == (200, "")
            await server.requests.wait_until(lambda items: messages_sent(items) == 2,
                                             "the second answer")
    finally:
        await server.stop()
    messages = [r.json() for r in server.requests.items if r.path.endswith("/sendMessage")]
    assert messages[0] == {"chat_id": 9, "parse_mode": "Markdown",
                           "text": f"This is buildbot-{buildbot.version} at your service"}
    assert not [r for r in server.requests.items if r.path.endswith("/getUpdates")]
