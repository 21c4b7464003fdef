"""Fixtures of the change source tests: a local HTTP server and a stack whose master has
an HTTP client on the real reactor."""

from __future__ import annotations

from typing import Any

import pytest_twisted

from buildbot.util.deferred import maybe_await
from buildbot.util.httpclientservice import HTTPClientService
from tests.fixtures.stack import Stack
from tests.reporters.remote_services import RecordingHttpServer


@pytest_twisted.async_yield_fixture
async def server() -> Any:
    srv = RecordingHttpServer()
    srv.start()
    yield srv
    await srv.stop()


@pytest_twisted.async_yield_fixture
async def http_stack(stack: Stack, server: RecordingHttpServer) -> Any:
    """The stack's master with an HTTP client on the real reactor (its clock is fake),
    closed before the server stops."""
    from twisted.internet import reactor

    svc = HTTPClientService("", reactor=reactor)
    await maybe_await(svc.startService())
    stack.master.httpservice = svc
    yield stack
    await maybe_await(svc.stopService())
    for lost in list(server.site.open.values()):  # the server sees the client go first
        await lost
