"""`master.mq`: picks the configured implementation and forwards to it."""

from __future__ import annotations

from typing import Any

from buildbot.mq.base import ConsumerCallback, RoutingKey, TopicFilter
from buildbot.mq.simple import SimpleMQ
from buildbot.util.metrics_registry import MQ_MESSAGES
from buildbot.util.service import AsyncService


class MQConfigError(ValueError):
    """c['mq'] names an unknown type or changes type on reconfig."""


class MQConnector(AsyncService):
    """The message bus of one master: `produce`, `startConsuming`, `waitUntilEvent`.

    The implementation (`simple`, or `wamp` / `amqp` between masters) is chosen once by `setup`; it
    cannot change while the master runs.
    """

    def __init__(self) -> None:
        super().__init__(name="mq")
        self.impl: Any = None
        self.impl_type: str | None = None

    def setup(self, mq_config: dict[str, Any] | None = None) -> None:
        """Create the implementation named by c['mq'] (default simple)."""
        cfg = dict(mq_config or {"type": "simple"})
        typ = cfg.get("type", "simple")
        if typ == "simple":
            self.impl = SimpleMQ(debug=bool(cfg.get("debug", False)))
        elif typ == "wamp":
            from buildbot.mq.wamp import WampMQ

            self.impl = WampMQ(cfg)
        elif typ == "amqp":
            from buildbot.mq.amqp import AmqpMQ

            # The master's own queue is named after it; delivery of what accumulated there
            # waits until the master has started (its consumers exist by then).
            self.impl = AmqpMQ(cfg, master_name=getattr(self.parent, "name", None),
                               wait_for_master=True)
        else:
            raise MQConfigError(f"mq type '{typ}' is not known")
        self.impl_type = typ
        self.impl.setServiceParent(self)
        # Bind the hot paths directly: producing is the most frequent call of the master.
        self.produce = self._counting_produce()  # type: ignore[method-assign]  # counting wrapper bound once at construction

    def reconfigure(self, mq_config: dict[str, Any] | None) -> None:
        """Apply a new c['mq']: only `debug` may change."""
        typ = (mq_config or {}).get("type", "simple")
        if typ != self.impl_type:
            raise MQConfigError("Cannot change c['mq']['type'] after the master has started")
        if hasattr(self.impl, "setDebug"):
            self.impl.setDebug(bool((mq_config or {}).get("debug", False)))

    def produce(self, routingKey: RoutingKey, data: Any) -> None:
        MQ_MESSAGES.inc((routingKey[0],) if routingKey else ("",))
        self.impl.produce(routingKey, data)

    def _counting_produce(self) -> Any:
        """The implementation's `produce` with the message counted (GET /metrics), as one
        closure: producing is the most frequent call of the master."""
        impl_produce = self.impl.produce
        counts = MQ_MESSAGES.values
        get = counts.get

        def produce(routingKey: RoutingKey, data: Any) -> None:
            kind = (routingKey[0],) if routingKey else ("",)
            counts[kind] = get(kind, 0.0) + 1.0
            impl_produce(routingKey, data)

        return produce

    async def startConsuming(self, callback: ConsumerCallback, filter: TopicFilter,
                             persistent_name: str | None = None) -> Any:
        return await self.impl.startConsuming(callback, filter, persistent_name=persistent_name)

    async def waitUntilEvent(self, filter: TopicFilter, check_callback: Any) -> Any:
        return await self.impl.waitUntilEvent(filter, check_callback)
