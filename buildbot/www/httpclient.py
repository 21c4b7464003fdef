# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""Outgoing HTTP of the web layer (forge APIs, OAuth2 providers, avatar lookups).

One treq client per web service, with a connection pool closed when the service stops
(so no idle connection or timer outlives it).
"""

from __future__ import annotations

from typing import Any

import treq
from treq.client import HTTPClient
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool


class _NoVerifyPolicy(BrowserLikePolicyForHTTPS):
    """TLS without certificate verification (`verify=False` / `ssl_verify=False`)."""

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        from twisted.internet import ssl

        return ssl.CertificateOptions(verify=False)


class WebClients:
    """The HTTP clients of one web service (verifying and, on demand, non-verifying)."""

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor
        self.pool = HTTPConnectionPool(reactor, persistent=True)
        self.pool.maxPersistentPerHost = 4
        self._clients: dict[bool, HTTPClient] = {}

    def client(self, verify: bool = True) -> HTTPClient:
        c = self._clients.get(verify)
        if c is None:
            policy = BrowserLikePolicyForHTTPS() if verify else _NoVerifyPolicy()
            agent: Any = Agent(self.reactor, contextFactory=policy, pool=self.pool)
            c = self._clients[verify] = HTTPClient(agent)
        return c

    async def close(self) -> None:
        await self.pool.closeCachedConnections()


def http_client(master: Any, verify: bool = True) -> Any:
    """The web service's client when there is one (through `master.www`), else treq's
    module-level one (used by plugin code running outside a web service)."""
    clients = getattr(getattr(master, "www", None), "http", None)
    if isinstance(clients, WebClients):
        return clients.client(verify)
    return treq
