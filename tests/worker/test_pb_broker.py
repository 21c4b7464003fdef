"""The offset banana reader reads what Twisted's reads, cut anywhere."""

from __future__ import annotations

import random
from typing import Any

import pytest
from twisted.internet.testing import StringTransport
from twisted.spread import banana, pb

from buildbot.worker.protocols.pb_broker import OffsetBroker


class _Recorder:
    """Collects the expressions a banana reader hands on."""

    def __init__(self, cls: type[pb.Broker]) -> None:
        self.got: list[Any] = []
        self.proto = cls(isClient=False)
        self.proto.setPrefixLimit(64)
        self.proto.currentDialect = b"pb"
        self.proto.expressionReceived = self.got.append  # type: ignore[method-assign]  # collects what is decoded


def _encode(obj: Any) -> bytes:
    sender = banana.Banana(isClient=True)
    transport = StringTransport()
    sender.makeConnection(transport)  # a client sends nothing on connecting
    sender.currentDialect = b"pb"
    sender.outgoingSymbols = dict(banana.Banana.outgoingVocabulary)
    sender.sendEncoded(obj)
    return bytes(transport.value())


def _random_value(rnd: random.Random, depth: int = 0) -> Any:
    kind = rnd.choice(["bytes", "big", "int", "neg", "long", "float", "word", "list"]
                      if depth < 4 else ["bytes", "int"])
    if kind == "bytes":
        return bytes(rnd.randrange(256) for _ in range(rnd.choice([0, 1, 5, 130, 300])))
    if kind == "big":
        return b"o compiling\n" * rnd.randint(100, 5000)
    if kind == "int":
        return rnd.randint(0, 2 ** 31 - 1)
    if kind == "neg":
        return -rnd.randint(1, 2 ** 31)
    if kind == "long":
        return rnd.choice([1, -1]) * rnd.randint(2 ** 31, 2 ** 200)
    if kind == "float":
        return rnd.uniform(-1e9, 1e9)
    if kind == "word":
        return rnd.choice([b"message", b"update", b"dictionary", b"None"])
    return [_random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 5))]


def test_the_offset_reader_reads_what_twisted_reads() -> None:
    rnd = random.Random(16)
    for _ in range(300):
        wire = b"".join(_encode(_random_value(rnd)) for _ in range(rnd.randint(1, 4)))
        cuts = sorted(rnd.sample(range(len(wire) + 1), min(len(wire) + 1, rnd.randint(0, 6))))
        theirs, ours = _Recorder(pb.Broker), _Recorder(OffsetBroker)
        for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True):
            theirs.proto.dataReceived(wire[a:b])
            ours.proto.dataReceived(wire[a:b])
            assert ours.got == theirs.got
            assert ours.proto.buffer == theirs.proto.buffer
        assert ours.got and ours.proto.listStack == []


def test_a_worker_update_message_is_one_expression() -> None:
    output = "".join(f"compiling src/module_{i}.c -O2 -Wall -o build/m.o\n" for i in range(900))
    wire = _encode([b"message", 7, 3, b"update", 1, [b"tuple", [b"list", output.encode()]],
                    [b"dictionary"]])
    ours = _Recorder(OffsetBroker)
    for i in range(0, len(wire), 4096):  # as TCP may hand it over
        ours.proto.dataReceived(wire[i:i + 4096])
    assert ours.got == [[b"message", 7, 3, b"update", 1,
                         [b"tuple", [b"list", output.encode()]], [b"dictionary"]]]


@pytest.mark.parametrize("wire", [b"\x01" * 65, b"\x01" * 70 + b"\x82"],
                         ids=["no type byte", "type byte too late"])
def test_a_prefix_over_the_limit_is_refused_like_twisted(wire: bytes) -> None:
    for cls in (pb.Broker, OffsetBroker):
        with pytest.raises(banana.BananaError):
            _Recorder(cls).proto.dataReceived(wire)


@pytest.mark.parametrize("wire", [b"\x01\x00\x00\x0a\x82", b"\x01\x00\x00\x0a\x80"],
                         ids=["string", "list"])
def test_sizes_over_the_limit_are_refused_like_twisted(wire: bytes) -> None:
    for cls in (pb.Broker, OffsetBroker):
        with pytest.raises(banana.BananaError):
            _Recorder(cls).proto.dataReceived(wire)
