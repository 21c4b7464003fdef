"""A tiny in-process metrics registry: counters, gauges and histograms with labels, and
their rendering in the Prometheus text exposition format (version 0.0.4).

Why not `prometheus_client` at runtime: the choke points (every db transaction, every mq
message, every REST request) only need `dict` arithmetic on the reactor thread, and the
master must run without an extra dependency. The format is small and stable; the tests parse
our output with `prometheus_client`'s own parser.

Everything here is updated on the reactor thread only (no locks). The db and mq layers
increment `REGISTRY`'s metrics; the web layer renders them (`GET /metrics`).
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from typing import Any

LabelValues = tuple[str, ...]
_INF = 'le="+Inf"'

# Seconds; covers a 1 ms db transaction up to an hour-long build.
DEFAULT_BUCKETS: tuple[float, ...] = (
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 1800.0,
    3600.0, 7200.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class Metric:
    """One metric family: a name, help text and label names."""

    kind = "untyped"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)

    #: the name in the HELP and TYPE lines (counters: with their `_total` suffix)
    @property
    def family_name(self) -> str:
        return self.name

    def header(self) -> list[str]:
        doc = self.documentation.replace("\\", "\\\\").replace("\n", "\\n")
        return [f"# HELP {self.family_name} {doc}", f"# TYPE {self.family_name} {self.kind}"]

    def samples(self) -> Iterable[str]:
        return ()

    def reset(self) -> None:
        """Forget every value (tests; a new master in the same process)."""

    def render(self) -> list[str]:
        return [*self.header(), *self.samples()]


class Counter(Metric):
    """A monotonically increasing count, per label values."""

    kind = "counter"

    @property
    def family_name(self) -> str:
        # the 0.0.4 text format names a counter's family like its sample
        return f"{self.name}_total"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, documentation, labelnames)
        self.values: dict[LabelValues, float] = {}

    def inc(self, labels: LabelValues = (), amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def get(self, labels: LabelValues = ()) -> float:
        return self.values.get(labels, 0.0)

    def reset(self) -> None:
        self.values.clear()

    def samples(self) -> Iterable[str]:
        for labels, value in sorted(self.values.items()):
            yield f"{self.name}_total{_labels(self.labelnames, labels)} {_number(value)}"


class Gauge(Metric):
    """A value that goes up and down, set directly or computed at scrape time by `source`
    (a function returning {label values: value})."""

    kind = "gauge"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = (),
                 source: Callable[[], dict[LabelValues, float]] | None = None) -> None:
        super().__init__(name, documentation, labelnames)
        self.values: dict[LabelValues, float] = {}
        self.source = source

    def set(self, value: float, labels: LabelValues = ()) -> None:
        self.values[labels] = value

    def inc(self, labels: LabelValues = (), amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def dec(self, labels: LabelValues = (), amount: float = 1.0) -> None:
        self.inc(labels, -amount)

    def reset(self) -> None:
        self.values.clear()

    def samples(self) -> Iterable[str]:
        values = self.source() if self.source is not None else self.values
        for labels, value in sorted(values.items()):
            yield f"{self.name}{_labels(self.labelnames, labels)} {_number(value)}"


class Histogram(Metric):
    """Observations counted into cumulative buckets, with their count and sum."""

    kind = "histogram"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = (),
                 buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:
        super().__init__(name, documentation, labelnames)
        self.buckets = tuple(sorted(buckets))
        # per label values: [count in each bucket (non-cumulative) ..., count above, sum]
        self.values: dict[LabelValues, list[float]] = {}

    def observe(self, value: float, labels: LabelValues = ()) -> None:
        row = self.values.get(labels)
        if row is None:
            row = self.values[labels] = [0.0] * (len(self.buckets) + 2)
        row[bisect_left(self.buckets, value)] += 1  # past the last bound: the +Inf slot
        row[-1] += value

    def count(self, labels: LabelValues = ()) -> float:
        row = self.values.get(labels)
        return sum(row[:-1]) if row else 0.0

    def reset(self) -> None:
        self.values.clear()

    def samples(self) -> Iterable[str]:
        for labels, row in sorted(self.values.items()):
            running = 0.0
            for bound, n in zip(self.buckets, row, strict=False):
                running += n
                le = f'le="{_number(bound) if bound != int(bound) else str(float(bound))}"'
                yield f"{self.name}_bucket{_labels(self.labelnames, labels, le)} {_number(running)}"
            running += row[len(self.buckets)]
            yield f"{self.name}_bucket{_labels(self.labelnames, labels, _INF)} {_number(running)}"
            yield f"{self.name}_count{_labels(self.labelnames, labels)} {_number(running)}"
            yield f"{self.name}_sum{_labels(self.labelnames, labels)} {_number(row[-1])}"


class Registry:
    """Metric families by name, rendered in registration order."""

    def __init__(self) -> None:
        self.metrics: dict[str, Metric] = {}

    def register(self, metric: Metric) -> Any:
        """Add `metric` (or return the one already registered under its name)."""
        return self.metrics.setdefault(metric.name, metric)

    def unregister(self, name: str) -> None:
        self.metrics.pop(name, None)

    def render(self, extra: Iterable[Metric] = ()) -> str:
        lines: list[str] = []
        for metric in [*self.metrics.values(), *extra]:
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"


#: The process-wide registry the db, mq and web layers count into.
REGISTRY = Registry()

DB_TRANSACTIONS = REGISTRY.register(Counter(
    "buildbot_db_transactions", "Database operations run on the db thread pool, by outcome.",
    ("outcome",)))
DB_LATENCY = REGISTRY.register(Histogram(
    "buildbot_db_transaction_seconds",
    "Time from submitting a database operation to its result (queueing included)."))
MQ_MESSAGES = REGISTRY.register(Counter(
    "buildbot_mq_messages", "Messages produced on the message queue, by the first routing "
    "key element.", ("kind",)))
LOG_BYTES = REGISTRY.register(Counter(
    "buildbot_log_written_bytes", "Bytes of build log content received for storage."))


METRICS_KEYS = frozenset({"token"})


def check_metrics_setting(value: Any) -> str | None:
    """The problem with a `c['www']['metrics']` value, or None if it is valid."""
    if isinstance(value, bool) or value is None:
        return None
    if not isinstance(value, dict):
        return "c['www']['metrics'] must be True, False or a dict"
    unknown = sorted(str(k) for k in value if k not in METRICS_KEYS)
    if unknown:
        return f"unknown c['www']['metrics'] key(s): {', '.join(unknown)}"
    token = value.get("token")
    if token is not None and (not isinstance(token, str) or not token):
        return "c['www']['metrics']['token'] must be a non-empty string"
    return None


class ReactorLagMonitor:
    """Measures how late the reactor runs a call scheduled every `interval` seconds: the
    liveness probe and `buildbot_reactor_lag_seconds` read `lag` and `last_tick`."""

    def __init__(self, clock: Any, interval: float = 1.0,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.timer = timer  # real elapsed time, whatever the clock's notion of it
        self.interval = interval
        self.lag = 0.0
        self.max_lag = 0.0
        self.last_tick: float | None = None
        self._expected = 0.0
        self._call: Any = None

    @property
    def running(self) -> bool:
        return self._call is not None

    def start(self) -> None:
        if self._call is None:
            self.last_tick = self.timer()
            self._schedule()

    def stop(self) -> None:
        call, self._call = self._call, None
        if call is not None and call.active():
            call.cancel()

    def _schedule(self) -> None:
        self._expected = self.timer() + self.interval
        self._call = self.clock.callLater(self.interval, self._tick)

    def _tick(self) -> None:
        now = self.timer()
        self.lag = max(0.0, now - self._expected)
        self.max_lag = max(self.max_lag, self.lag)
        self.last_tick = now
        self._schedule()

    def seconds_since_tick(self) -> float:
        """Seconds since the monitor last ran (large when the reactor was blocked)."""
        return 0.0 if self.last_tick is None else self.timer() - self.last_tick
