"""The IRC bot's protocol-level members (4.3's IrcStatusBot was the IRCClient itself):
SASL registration, NAMES, kicks and quits, keep-alive, DANCE, driven through the real
connection class over an in-memory transport, on a task.Clock."""

from __future__ import annotations

import base64
from types import SimpleNamespace
from typing import Any

from twisted.internet import defer, task
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from buildbot.reporters.irc import IRC, IrcStatusBot, _IrcProtocol


class Bot(IrcStatusBot):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__("bb", kwargs.pop("password", None), [], [], False, {}, None, {},
                         **kwargs)
        self.logged: list[str] = []
        self.test_clock = task.Clock()

    @property
    def clock(self) -> Any:
        return self.test_clock

    def log(self, msg: str, source: str | None = None) -> None:
        self.logged.append(msg)


def connect(bot: Bot) -> tuple[_IrcProtocol, StringTransport]:
    proto = _IrcProtocol(bot)
    transport = StringTransport()
    proto.makeConnection(transport)
    return proto, transport


def sent(transport: StringTransport) -> list[str]:
    lines = transport.value().decode().split("\r\n")
    transport.clear()
    return [line for line in lines if line]


def test_sasl_registration_then_plain_credentials() -> None:
    bot = Bot(password="pw", useSASL=True)
    proto, transport = connect(bot)
    assert bot.connection is proto
    assert sent(transport) == ["CAP REQ :sasl", "NICK bb", "USER bb foo bar :None",
                               "AUTHENTICATE PLAIN"]
    proto.dataReceived(b"AUTHENTICATE +\r\n")
    token = base64.b64encode(b"bb\0bb\0pw").decode()
    assert sent(transport) == [f"AUTHENTICATE {token}", "CAP END"]


def test_plain_registration_sends_the_server_password() -> None:
    bot = Bot(password="pw")
    _, transport = connect(bot)
    assert sent(transport) == ["PASS pw", "NICK bb", "USER bb foo bar :None"]


def test_a_subclass_may_register_its_own_way() -> None:
    class Quiet(Bot):
        def register(self, nickname: str, hostname: str = "foo",
                     servername: str = "bar") -> None:
            assert self.connection is not None
            self.connection.setNick(nickname + "_")

    _, transport = connect(Quiet())
    assert sent(transport) == ["NICK bb_"]


def test_names_answer_every_waiter_of_the_channel() -> None:
    bot = Bot()
    proto, transport = connect(bot)
    sent(transport)
    first, second = bot.getNames("#CI"), bot.getNames("#ci")
    assert sent(transport) == ["NAMES #ci", "NAMES #ci"]
    proto.dataReceived(b":srv 353 bb = #ci :@ann bob\r\n:srv 353 bb = #other :zed\r\n"
                       b":srv 353 bb = #ci :%cid\r\n:srv 366 bb #ci :End of /NAMES list.\r\n")
    assert first.result == second.result == ["@ann", "bob", "%cid"]
    ops = defer.ensureDeferred(bot.getChannelOps("#ci"))
    proto.dataReceived(b":srv 353 bb = #ci :@ann bob\r\n:srv 366 bb #ci :End\r\n")
    assert ops.result == ["ann"]


def test_kicks_and_quits_forget_the_contacts() -> None:
    bot = Bot()
    proto, _ = connect(bot)
    for user, channel in [("ann", "#ci"), ("ann", "#dev"), ("bob", "#ci")]:
        bot.contacts[(channel, user)] = SimpleNamespace()
    proto.dataReceived(b":boss!u@h KICK #ci bob :bye\r\n")
    assert sorted(bot.contacts) == [("#ci", "ann"), ("#dev", "ann")]
    proto.dataReceived(b":ANN!u@h QUIT :gone\r\n")
    assert bot.contacts == {}
    proto.dataReceived(b":boss!u@h KICK #ci bb :out\r\n:bb!u@h PART #dev\r\n")
    assert bot.logged == ["I have been kicked from #ci by boss: out", "Left #dev"]


def test_keepalive_pings_while_connected_only() -> None:
    bot = Bot()
    proto, transport = connect(bot)
    sent(transport)
    bot.test_clock.advance(60)
    assert sent(transport)[0].startswith("PRIVMSG bb :\x01PING ")  # a CTCP ping, as in 4.3
    proto.connectionLost(Failure(ConnectionError("gone")))
    assert bot.connection is None and not bot._keepalive.running
    bot.test_clock.advance(120)
    assert sent(transport) == []


def test_dance_frames_follow_the_clock() -> None:
    bot = Bot()
    _, transport = connect(bot)
    sent(transport)
    contact = bot.getContact("ann")
    contact.command_DANCE("")
    bot.test_clock.advance(1)
    assert sent(transport) == ["PRIVMSG ann :<(^.^<)"]
    bot.test_clock.pump([1, 1, 0.5, 1.5])
    assert sent(transport) == ["PRIVMSG ann :<(^.^)>", "PRIVMSG ann :(>^.^)>",
                               "PRIVMSG ann :(7^.^)7", "PRIVMSG ann :(>^.^<)"]
    assert "dance" in contact.build_commands()


def test_irc_in_test_harness_does_not_connect() -> None:
    irc = IRC("irc.example.org", "bb", ["#ci"])
    assert irc.f is None and IRC.in_test_harness is False
    irc.in_test_harness = True
    irc.f = object()  # type: ignore[assignment]  # a stand-in factory: never connected
    irc.master = SimpleNamespace(reactor=None)  # would fail if connecting
    irc._connect()
    assert irc._connector is None


def test_log_err_logs_the_failure(logged_errors: Any) -> None:
    bot = Bot()
    try:
        raise ValueError("boom")
    except ValueError:
        bot.log_err(why="while answering")
    bot.log_err(RuntimeError("bad"), "later", source="src")
    from twisted.logger import formatEvent

    events = logged_errors.flush()
    assert [formatEvent(e) for e in events] == ["Bot: while answering", "src: later"]
    assert [e["log_failure"].type for e in events] == [ValueError, RuntimeError]
