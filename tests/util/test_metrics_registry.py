"""The metrics registry's text format, read back with prometheus_client's parser."""

from __future__ import annotations

import pytest

from buildbot.util.metrics_registry import Counter, Gauge, Histogram, ReactorLagMonitor, Registry

parser = pytest.importorskip("prometheus_client.parser",
                             reason="prometheus_client (test extra) not installed")


def parse(text: str) -> dict[str, tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]]:
    out = {}
    for family in parser.text_string_to_metric_families(text):
        out[family.name] = (family.type, {(s.name, tuple(sorted(s.labels.items()))): s.value
                                          for s in family.samples})
    return out


def test_counter_gauge_histogram_round_trip_through_the_prometheus_parser() -> None:
    reg = Registry()
    c = reg.register(Counter("t_events", "Events.\nTwo lines.", ("kind",)))
    c.inc(('say "hi"\\now',))
    c.inc(("b",), 2.5)
    g = reg.register(Gauge("t_level", "Level.", ("w",), source=lambda: {("x",): 3.0}))
    h = reg.register(Histogram("t_seconds", "Durations.", ("b",), buckets=(1.0, 2.0)))
    for v in (0.5, 1.0, 1.5, 7.0):
        h.observe(v, ("b1",))
    assert reg.register(Counter("t_events", "again")) is c  # one family per name
    fams = parse(reg.render([Gauge("t_extra", "Extra.")]))
    assert fams["t_events"] == ("counter", {
        ("t_events_total", (("kind", 'say "hi"\\now'),)): 1.0,
        ("t_events_total", (("kind", "b"),)): 2.5})
    assert fams["t_level"] == ("gauge", {("t_level", (("w", "x"),)): 3.0}) and g.values == {}
    kind, samples = fams["t_seconds"]
    assert kind == "histogram"
    assert [samples[("t_seconds_bucket", (("b", "b1"), ("le", le)))]
            for le in ("1.0", "2.0", "+Inf")] == [2, 3, 4]
    assert samples[("t_seconds_count", (("b", "b1"),))] == 4
    assert samples[("t_seconds_sum", (("b", "b1"),))] == 10.0
    assert fams["t_extra"] == ("gauge", {})


def test_reactor_lag_monitor_measures_lateness() -> None:
    from twisted.internet.task import Clock

    clock = Clock()
    mon = ReactorLagMonitor(clock, interval=1.0, timer=clock.seconds)
    mon.start()
    assert mon.running and clock.getDelayedCalls()
    clock.advance(1.0)
    assert mon.lag == 0.0 and mon.seconds_since_tick() == 0.0
    clock.advance(2.5)  # the reactor was busy: the tick due at 2.0 runs at 3.5
    assert mon.lag == 1.5 and mon.max_lag == 1.5
    clock.advance(0.5)
    assert mon.seconds_since_tick() == 0.5
    mon.stop()
    assert not mon.running and not clock.getDelayedCalls()
