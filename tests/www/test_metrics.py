"""`GET /metrics` scraped from a real master running builds on a LocalWorker, read with
the `prometheus_client` text parser."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer

from buildbot.plugins import steps, util, worker
from buildbot.process.buildstep import BuildStep
from buildbot.process.results import SUCCESS
from buildbot.util.metrics_registry import check_metrics_setting
from tests.fixtures.master import running_master
from tests.worker.masterkit import config, force, listen, wait_until
from tests.www.harness import http

parser = pytest.importorskip("prometheus_client.parser",
                             reason="prometheus_client (test extra) not installed")

pytestmark = pytest.mark.integration

RELEASE: list[defer.Deferred[None]] = []


class Block(BuildStep):
    """Waits until the test fires the Deferred it appends to RELEASE."""

    async def run(self) -> int:
        d: defer.Deferred[None] = defer.Deferred()
        RELEASE.append(d)
        await d
        return SUCCESS


def _config(www_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    www: dict[str, Any] = {"port": "tcp:0:interface=127.0.0.1", "metrics": True}
    www.update(www_extra or {})
    cfg = config([worker.LocalWorker("local"), worker.Worker("never", "pw")],
                 {"b": [steps.ShellCommand(command=["echo", "hello metrics"], name="work"),
                        Block(name="block")],
                  "stuck": [steps.ShellCommand(command=["true"], name="t")]},
                 www=www)
    # "stuck" can only run on a worker that never connects: its request stays pending
    for b in cfg["builders"]:
        if b.name == "stuck":
            b.workernames = ["never"]
        else:
            b.workernames = ["local"]
    return cfg


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
DOCS = Path(__file__).resolve().parents[2] / "docs"
LAST_SCRAPE: list[str] = []


async def scrape(master: Any, headers: dict[str, str] | None = None) -> Samples:
    res = await http.get(f"http://127.0.0.1:{master.www.port_number}/metrics",
                         headers=headers or {})
    assert res.code == 200, res.body
    assert res.headers.getRawHeaders("content-type")[0].startswith("text/plain; version=0.0.4")
    LAST_SCRAPE[:] = [res.body.decode()]
    out: Samples = {}
    for family in parser.text_string_to_metric_families(res.body.decode()):
        assert family.type != "unknown", family  # every sample belongs to its declared family
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum over every sample of `name` whose labels include `labels`."""
    return sum(v for (n, ls), v in samples.items()
               if n == name and set(labels.items()) <= set(ls))


@pytest_twisted.ensureDeferred
async def test_metrics_during_and_after_builds(tmp_path: Path) -> None:
    RELEASE.clear()
    async with running_master(tmp_path / "m", _config) as master:
        await wait_until("local worker connected",
                         lambda: master.workers.getWorkerByName("local").isConnected())
        before = await scrape(master)
        base = f"http://127.0.0.1:{master.www.port_number}/"
        assert (await http.get(base + "api/v2/builders")).code == 200
        assert (await http.get(base + "api/v2/builders/999999")).code == 404

        await force(master, "stuck")
        await force(master, "b")
        await wait_until("the build reached its blocking step", lambda: RELEASE)
        during = await scrape(master)
        assert value(during, "buildbot_builds_started_total", builder="b") == 1
        assert total(during, "buildbot_builds_finished_total", builder="b") == 0
        assert value(during, "buildbot_pending_build_requests", builder="stuck") == 1
        assert value(during, "buildbot_pending_build_requests", builder="b") == 0
        assert 0 <= value(during, "buildbot_pending_build_request_oldest_age_seconds",
                          builder="stuck") < 60
        assert value(during, "buildbot_worker_connected", worker="local") == 1
        assert value(during, "buildbot_worker_connected", worker="never") == 0
        assert value(during, "buildbot_worker_paused", worker="local") == 0
        # REST requests are counted when they finish, by endpoint pattern (not raw path)
        assert value(during, "buildbot_rest_requests_total", endpoint="builders",
                     method="GET", status="200") == 1
        assert value(during, "buildbot_rest_requests_total", endpoint="builders/n:builderid",
                     method="GET", status="404") == 1
        assert value(during, "buildbot_rest_request_seconds_count", endpoint="builders") == 1
        assert value(during, "buildbot_websocket_clients") == 0
        assert value(during, "buildbot_reactor_lag_seconds") >= 0
        # the completed ShellCommand's step duration is in, labelled with its builder
        assert value(during, "buildbot_step_duration_seconds_count", builder="b",
                     step="work") == 1

        finished = listen(master, ("builds", None, "finished"))
        RELEASE[0].callback(None)
        _, build = await finished
        assert build["results"] == SUCCESS
        after = await scrape(master)
        assert value(after, "buildbot_builds_finished_total", builder="b", result="success") == 1
        assert value(after, "buildbot_build_duration_seconds_count", builder="b",
                     result="success") == 1
        assert value(after, "buildbot_build_duration_seconds_bucket", builder="b",
                     result="success", le="+Inf") == 1
        assert value(after, "buildbot_step_duration_seconds_count", builder="b",
                     step="block") == 1
        # process-wide counters grew with the builds
        for name, labels in (("buildbot_db_transactions_total", {"outcome": "ok"}),
                             ("buildbot_mq_messages_total", {"kind": "builds"}),
                             ("buildbot_db_transaction_seconds_count", {})):
            assert value(after, name, **labels) > value(before, name, **labels), name
        grew = value(after, "buildbot_log_written_bytes_total") - \
            value(before, "buildbot_log_written_bytes_total")
        assert grew >= len("hello metrics\n")
        check_docs_use_served_names(LAST_SCRAPE[0])


def referenced_names(text: str) -> set[str]:
    return set(re.findall(r"\bbuildbot_[a-z_]+", text))


def check_docs_use_served_names(scraped: str) -> None:
    """The Grafana dashboard's queries and the alert rules of docs/monitoring.md name only
    metrics a master serves (histograms through their _bucket/_count/_sum series)."""
    families = set(re.findall(r"^# TYPE (\S+) ", scraped, re.MULTILINE))
    served = families | {f + suffix for f in families for suffix in ("_bucket", "_count", "_sum")}
    dashboard = json.loads((DOCS / "grafana" / "buildbot-master.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(exprs) >= 15
    used = referenced_names(" ".join(exprs))
    assert used - served == set(), "dashboard"
    # every family is on the dashboard
    assert [f for f in families if f.startswith("buildbot_") and not any(
        f + suffix in used for suffix in ("", "_bucket", "_count", "_sum"))] == []
    assert referenced_names((DOCS / "monitoring.md").read_text()) - served == set(), "docs"


@pytest_twisted.ensureDeferred
async def test_metrics_off_by_default_and_token_with_auth(tmp_path: Path) -> None:
    auth = util.UserPasswordAuth({"admin": "pw", "dev": "pw"})
    authz = util.Authz(allowRules=[util.AnyEndpointMatcher(role="admins")],
                       roleMatchers=[util.RolesFromUsername(roles=["admins"],
                                                            usernames=["admin"])])

    def cfg() -> dict[str, Any]:
        return _config({"auth": auth, "authz": authz, "metrics": {"token": "s3cret"}})

    async def session(base: str, user: str) -> dict[str, str]:
        basic = base64.b64encode(f"{user}:pw".encode()).decode()
        res = await http.get(base + "auth/login", headers={"Authorization": f"Basic {basic}"})
        assert res.code == 302
        return {"Cookie": f"TWISTED_SESSION={res.cookie()}"}

    async with running_master(tmp_path / "m", cfg) as master:
        base = f"http://127.0.0.1:{master.www.port_number}/"
        url = base + "metrics"
        assert (await http.get(url)).code == 401
        assert (await http.get(url, headers={"Authorization": "Bearer wrong"})).code == 401
        samples = await scrape(master, {"Authorization": "Bearer s3cret"})
        assert ("buildbot_worker_connected", (("worker", "never"),)) in samples
        # logged-in users: authz decides (the rule restricts every endpoint to admins)
        assert (await http.get(url, headers=await session(base, "dev"))).code == 403
        assert (await http.get(url, headers=await session(base, "admin"))).code == 200

    def default() -> dict[str, Any]:
        cfg = _config()
        del cfg["www"]["metrics"]
        return cfg

    async with running_master(tmp_path / "m2", default) as master:
        res = await http.get(f"http://127.0.0.1:{master.www.port_number}/metrics")
        assert res.code == 404


def test_metrics_setting_is_checked() -> None:
    assert check_metrics_setting(True) is None
    assert check_metrics_setting({"token": "t"}) is None
    assert check_metrics_setting("yes") == "c['www']['metrics'] must be True, False or a dict"
    assert check_metrics_setting({"tokn": "t"}) == "unknown c['www']['metrics'] key(s): tokn"
    assert check_metrics_setting({"token": ""}) == \
        "c['www']['metrics']['token'] must be a non-empty string"


def test_bad_metrics_setting_is_a_config_error() -> None:
    from buildbot.config.errors import ConfigErrors
    from buildbot.config.master import MasterConfig

    cfg = _config({"metrics": {"tokn": "x"}})
    with pytest.raises(ConfigErrors) as e:
        MasterConfig.loadFromDict(cfg, "master.cfg")
    assert "unknown c['www']['metrics'] key(s): tokn" in e.value.errors
