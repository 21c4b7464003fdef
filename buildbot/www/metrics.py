# mypy: disable-error-code="no-untyped-call"
# (twisted.web is unannotated)
"""`GET /metrics`: the master's metrics in the Prometheus text format.

Enabled by `c['www']['metrics']` (True, or a dict; off by default). Kept cheap for the
master: nothing is queried per build or per request. Build and step figures come from the
mq events the data layer already sends; db, mq and log counters are plain increments at
their choke points (`buildbot.util.metrics_registry.REGISTRY`); REST requests are counted
when they finish. At scrape time: one grouped query for the pending build requests, one
for the builder names, and the in-memory state of workers, WebSocket clients and reactor.

Access: with `c['www']['metrics'] = {'token': '...'}` a request carrying
`Authorization: Bearer <token>` is always served (for Prometheus, which cannot log in).
Otherwise, without an auth plugin the endpoint is open, like the REST API; with one, the
user must be logged in and allowed by `c['www']['authz']` to `get` the path `('metrics',)`
(an `AnyEndpointMatcher(role='admins')` rule, for instance, restricts it to admins).
"""

from __future__ import annotations

import copy as copy_module
import hmac
import time
from collections.abc import Callable
from typing import Any

from twisted.logger import Logger
from twisted.web import server

from buildbot.util.metrics_registry import (
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    LabelValues,
    Metric,
)
from buildbot.util.results import Results
from buildbot.www.authz import Forbidden
from buildbot.www.resource import AsyncResource, HttpError, finish

log = Logger()

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"

# Seconds of REST answers (sub-millisecond to slow raw log downloads).
REST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _result_name(results: Any) -> str:
    if isinstance(results, int) and 0 <= results < len(Results):
        return str(Results[results])
    return "unknown"


def _relabeled(metric: Any, names: Callable[[str], str]) -> Any:
    """A copy of `metric` whose first label (a builder id) is replaced by the builder name."""
    copy = copy_module.copy(metric)
    copy.values = {(names(k[0]), *k[1:]): v for k, v in metric.values.items()}
    return copy


class MetricsCollector:
    """The web service's metrics: event subscriptions while enabled, and the rendering."""

    def __init__(self, www: Any) -> None:
        self.www = www
        self.token: str | None = None
        self._consumers: list[Any] = []
        self._build_builder: dict[int, str] = {}  # running buildid -> builderid label
        self.builds_started = Counter(
            "buildbot_builds_started", "Builds started, by builder.", ("builder",))
        self.builds_finished = Counter(
            "buildbot_builds_finished", "Builds finished, by builder and result.",
            ("builder", "result"))
        self.build_duration = Histogram(
            "buildbot_build_duration_seconds", "Duration of finished builds.",
            ("builder", "result"))
        self.step_duration = Histogram(
            "buildbot_step_duration_seconds", "Duration of finished steps.",
            ("builder", "step"))
        self.rest_requests = Counter(
            "buildbot_rest_requests", "REST API requests, by endpoint pattern, method and "
            "status.", ("endpoint", "method", "status"))
        self.rest_latency = Histogram(
            "buildbot_rest_request_seconds", "Time to answer REST API requests.",
            ("endpoint",), buckets=REST_BUCKETS)

    @property
    def running(self) -> bool:
        return bool(self._consumers)

    # -- lifecycle (driven by the web service's configuration) ------------------------------
    async def start(self) -> None:
        if self._consumers:
            return
        mq = self.www.master.data.mq
        for topic, handler in ((("builds", None, "new"), self._build_new),
                               (("builds", None, "finished"), self._build_finished),
                               (("steps", None, "finished"), self._step_finished)):
            self._consumers.append(await mq.startConsuming(handler, topic))

    def stop(self) -> None:
        consumers, self._consumers = self._consumers, []
        for consumer in consumers:
            consumer.stopConsuming()
        self._build_builder.clear()

    # -- event handlers (called for every build and step: keep them tiny) --------------------
    def _build_new(self, key: Any, build: dict[str, Any]) -> None:
        builder = str(build.get("builderid"))
        self._build_builder[build.get("buildid")] = builder  # type: ignore[index]  # build ids of build/step messages are ints
        self.builds_started.inc((builder,))

    def _build_finished(self, key: Any, build: dict[str, Any]) -> None:
        self._build_builder.pop(build.get("buildid"), None)  # type: ignore[arg-type]  # build ids of build/step messages are ints
        labels = (str(build.get("builderid")), _result_name(build.get("results")))
        self.builds_finished.inc(labels)
        started, done = build.get("started_at"), build.get("complete_at")
        if started is not None and done is not None:
            self.build_duration.observe(_seconds(done) - _seconds(started), labels)

    def _step_finished(self, key: Any, step: dict[str, Any]) -> None:
        started, done = step.get("started_at"), step.get("complete_at")
        if started is None or done is None:
            return  # skipped before it started
        builder = self._build_builder.get(step.get("buildid"), "unknown")  # type: ignore[arg-type]  # build ids of build/step messages are ints
        self.step_duration.observe(_seconds(done) - _seconds(started),
                                   (builder, str(step.get("name"))))

    # -- REST requests ------------------------------------------------------------------------
    def track_rest(self, request: server.Request, path: tuple[str, ...]) -> None:
        """Count `request` (to `path` under /api/v2) when it finishes or its client leaves."""
        started = time.monotonic()
        data = self.www.master.data

        def done(_: Any) -> None:
            endpoint = data.endpoint_pattern(path) or "unknown"
            self.rest_requests.inc((endpoint, request.method.decode("ascii", "replace"),
                                    str(request.code)))
            self.rest_latency.observe(time.monotonic() - started, (endpoint,))

        request.notifyFinish().addBoth(done)

    # -- scrape -----------------------------------------------------------------------------
    async def render(self) -> str:
        master = self.www.master
        builders = await master.data.get(("builders",))
        names = {str(b["builderid"]): b["name"] for b in builders or []}

        def name(builderid: str) -> str:
            return str(names.get(builderid, builderid))

        pending_count = Gauge("buildbot_pending_build_requests",
                              "Build requests no master claimed yet, by builder.", ("builder",))
        pending_age = Gauge("buildbot_pending_build_request_oldest_age_seconds",
                            "Age of the oldest unclaimed build request, by builder.",
                            ("builder",))
        now = self.www.now()
        for builderid, count, oldest in await master.db.buildrequests.pending_summary():
            pending_count.set(count, (name(str(builderid)),))
            pending_age.set(max(0.0, now - oldest) if oldest else 0.0, (name(str(builderid)),))
        families: list[Metric] = [
            _relabeled(self.builds_started, name), _relabeled(self.builds_finished, name),
            _relabeled(self.build_duration, name), _relabeled(self.step_duration, name),
            pending_count, pending_age, *self._worker_metrics(),
            self.rest_requests, self.rest_latency, *self._web_and_reactor_metrics()]
        return REGISTRY.render(families)

    def _worker_metrics(self) -> list[Metric]:
        connected = Gauge("buildbot_worker_connected",
                          "1 if the worker is connected to this master.", ("worker",))
        paused = Gauge("buildbot_worker_paused", "1 if the worker is paused.", ("worker",))
        failures = Counter("buildbot_worker_substantiation_failures",
                           "Failed substantiations of latent workers.", ("worker",))
        manager = getattr(self.www.master, "workers", None)
        for wname, worker in (getattr(manager, "workers", None) or {}).items():
            labels: LabelValues = (str(wname),)
            connected.set(1.0 if worker.isConnected() else 0.0, labels)
            paused.set(1.0 if worker.isPaused() else 0.0, labels)
            total = getattr(worker, "total_substantiation_failures", None)
            if total is not None:
                failures.inc(labels, float(total))
        return [connected, paused, failures]

    def _web_and_reactor_metrics(self) -> list[Metric]:
        ws = Gauge("buildbot_websocket_clients", "Open WebSocket connections.")
        # `_ws`, not `ws`: a scrape must not create the /ws resource (made on first use)
        ws.set(float(len(getattr(getattr(self.www, "_ws", None), "connections", ()) or ())))
        monitor = self.www.lag_monitor
        lag = Gauge("buildbot_reactor_lag_seconds",
                    "How late the reactor ran the last timer (measured every second).")
        lag.set(monitor.lag)
        max_lag = Gauge("buildbot_reactor_lag_max_seconds",
                        "The largest reactor lag measured since the web service started.")
        max_lag.set(monitor.max_lag)
        return [ws, lag, max_lag]


def _seconds(value: Any) -> float:
    """Epoch seconds of an event timestamp (a datetime or a number)."""
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value)


class MetricsResource(AsyncResource):
    """`/metrics` (see the module docstring for who may read it)."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> int:
        return self.render_async(request, self._render)

    async def _render(self, request: server.Request) -> None:
        collector = self.www.metrics
        if collector is None:
            raise HttpError(404, "metrics are not enabled (c['www']['metrics'])")
        if not self._has_token(request, collector.token):
            www = self.www
            if www.auth_configured:
                await www.maybe_auto_login(request)
                user_info = www.user_info(request)
                if user_info.get("anonymous"):
                    raise HttpError(401, "log in, or use the metrics bearer token")
                try:
                    await www.assert_allowed(("metrics",), "get", {}, user_info)
                except Forbidden as e:
                    raise HttpError(403, "not allowed to read the metrics") from e
        body = (await collector.render()).encode("utf-8")
        request.setHeader(b"content-type", CONTENT_TYPE)
        request.setHeader(b"cache-control", b"no-store")
        request.setHeader(b"content-length", str(len(body)).encode())
        finish(request, body)

    @staticmethod
    def _has_token(request: server.Request, token: str | None) -> bool:
        if token is None:
            return False
        header = (request.getHeader(b"authorization") or b"").decode("latin-1")
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                                  token.encode())
