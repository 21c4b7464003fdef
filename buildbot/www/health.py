# mypy: disable-error-code="no-untyped-call"
# (twisted.web is unannotated)
"""`GET /healthz` (liveness) and `GET /readyz` (readiness) for probes and load balancers.

Served without authentication: the answers say only whether this master works, never
anything about builds or users. 200 when healthy, 503 otherwise; the JSON body lists each
check and, on failure, what is wrong.

- liveness: the reactor answers (it runs this handler) and its lag monitor ticked recently;
- readiness: not shutting down (a graceful shutdown is refused first, before builds end),
  the master started and not fenced, and the database answers a small query reading this
  master's row within `PROBE_TIMEOUT` and finds it marked active.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet import defer
from twisted.web import server

from buildbot.www.resource import AsyncResource, finish

PROBE_TIMEOUT = 5.0  # seconds for the database query of /readyz
STALE_TICK = 10.0  # seconds without a lag-monitor tick: the reactor was blocked that long


def _answer(request: server.Request, problems: list[str], checks: dict[str, Any]) -> None:
    request.setResponseCode(503 if problems else 200)
    body = json.dumps({"status": "fail" if problems else "ok", "problems": problems,
                       "checks": checks}).encode()
    request.setHeader(b"content-type", b"application/json")
    request.setHeader(b"cache-control", b"no-store")
    request.setHeader(b"content-length", str(len(body)).encode())
    finish(request, body)


class LivenessResource(AsyncResource):
    """`/healthz`: 200 while the reactor runs callbacks in time."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> int:
        return self.render_async(request, self._render)

    async def _render(self, request: server.Request) -> None:
        monitor = self.www.lag_monitor
        problems: list[str] = []
        since = monitor.seconds_since_tick()
        if monitor.running and since > STALE_TICK:
            problems.append(f"reactor: blocked, no timer ran for {since:.1f}s")
        _answer(request, problems, {"reactor_lag_seconds": round(monitor.lag, 6),
                                    "seconds_since_tick": round(since, 3)})


class ReadinessResource(AsyncResource):
    """`/readyz`: 200 when this master takes work (see the module docstring)."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> int:
        return self.render_async(request, self._render)

    async def _render(self, request: server.Request) -> None:
        master = self.master
        problems: list[str] = []
        checks: dict[str, Any] = {}
        botmaster = getattr(master, "botmaster", None)
        shutting_down = bool(getattr(botmaster, "shuttingDown", False)) or \
            not getattr(master, "running", True) or not self.www.running
        checks["shutting_down"] = shutting_down
        if shutting_down:
            problems.append("master: shutting down")
        masterid = getattr(master, "masterid", None)
        if getattr(master, "_fenced", False):
            problems.append("master: marked inactive by another master")
        if masterid is None:
            problems.append("master: not started")
            checks["database"] = "not checked"
        else:
            checks["database"] = await self._probe_database(masterid, problems)
        _answer(request, problems, checks)

    async def _probe_database(self, masterid: int, problems: list[str]) -> str:
        d = defer.ensureDeferred(self.master.data.get(("masters", masterid)))
        d.addTimeout(PROBE_TIMEOUT, self.www.reactor)
        try:
            row = await d
        except defer.TimeoutError:
            problems.append(f"database: no answer within {PROBE_TIMEOUT:g}s")
            return "timeout"
        except Exception as e:  # noqa: BLE001 - any failure means "not ready", said in the body
            cause = e.__cause__ or e
            problems.append(f"database: {type(cause).__name__}: {str(cause)[:200]}")
            return "unreachable"
        if not row or not row.get("active"):
            problems.append("master: not marked active in the database")
        return "ok"
