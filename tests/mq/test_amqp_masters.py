"""Two real masters on one SQLite file sharing events through RabbitMQ (the amqp mq): a
request forced on one is built at once by the other, which runs the builder (no polling);
a master whose broker connection was cut catches up on reconnect with the request created
meanwhile. Skipped when RabbitMQ is not running on 127.0.0.1:5672."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pika
import pytest
import pytest_twisted
from pika.adapters.twisted_connection import TwistedProtocolConnection
from twisted.internet import protocol, reactor

from buildbot.process.results import SUCCESS
from tests.fixtures.master import running_master, wait_for_message
from tests.mq.test_amqp import URL, hold_reconnection, lost, needs_broker
from tests.multimaster.test_shared_database import config, db_url

pytestmark = [pytest.mark.multimaster, pytest.mark.integration, needs_broker]


async def delete_from_broker(exchange: str, queues: list[str]) -> None:
    conn = await protocol.ClientCreator(reactor, TwistedProtocolConnection,
                                        pika.URLParameters(URL)).connectTCP("127.0.0.1", 5672)
    await conn.ready
    channel = await conn.channel()
    for name in queues:
        await channel.queue_delete(queue=name)
    await channel.exchange_delete(exchange=exchange)
    closed = conn.closed
    conn.close()
    await closed


def amqp_configs(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any], str]:
    tag = uuid.uuid4().hex[:8]
    mq = {"type": "amqp", "url": URL, "exchange": f"bbtest-{tag}",
          "queue_prefix": f"bbtest-{tag}.", "queue_expires": 600}
    url = db_url(tmp_path)
    both = ["on-a", "on-b"]
    return (dict(config(url, ["on-a"], both), mq=mq),
            dict(config(url, ["on-b"], both), mq=mq), mq["exchange"])


@pytest_twisted.ensureDeferred
async def test_masters_share_events_through_rabbitmq(tmp_path: Path) -> None:
    a_cfg, b_cfg, exchange = amqp_configs(tmp_path)
    queues: list[str] = []
    try:
        async with running_master(tmp_path / "a", a_cfg) as a, \
                running_master(tmp_path / "b", b_cfg, reset_db=False) as b:
            queues += [a.mq.impl.queue, b.mq.impl.queue]
            b.botmaster._set_polling(False)  # B must hear of the request through the bus
            seen_on_a = wait_for_message(a, ("builds", None, "finished"))
            _bsid, brids = await a.data.control("force", {"builderNames": ["on-b"],
                                                          "owner": "t"},
                                                ("forceschedulers", "force"))
            _, build = await seen_on_a
            assert build["results"] == SUCCESS and build["masterid"] == b.masterid
            assert type(build["complete_at"]) is int  # through the bus, as epoch seconds
            builds = await a.data.get(("builds",))
            assert [x["buildrequestid"] for x in builds] == list(brids.values())
    finally:
        await delete_from_broker(exchange, queues)


@pytest_twisted.ensureDeferred
async def test_master_catches_up_after_losing_the_broker(tmp_path: Path) -> None:
    a_cfg, b_cfg, exchange = amqp_configs(tmp_path)
    queues: list[str] = []
    try:
        async with running_master(tmp_path / "a", a_cfg) as a, \
                running_master(tmp_path / "b", b_cfg, reset_db=False) as b:
            queues += [a.mq.impl.queue, b.mq.impl.queue]
            b.botmaster._set_polling(False)
            release = hold_reconnection(b.mq.impl)
            await lost(b.mq.impl)
            finished = wait_for_message(b, ("builds", None, "finished"))
            await a.data.control("force", {"builderNames": ["on-b"], "owner": "t"},
                                 ("forceschedulers", "force"))
            await a.mq.impl.flushed()  # the new request waits in B's queue on the broker
            assert await b.data.get(("builds",)) == []
            release()
            _, build = await finished
            assert build["results"] == SUCCESS and build["masterid"] == b.masterid
    finally:
        await delete_from_broker(exchange, queues)
