"""Local HTTP stand-ins for the cloud APIs the latent workers call (Kubernetes, Marathon,
UpCloud), whose instances are real stock buildbot-worker processes.

`JsonApi` is a twisted.web resource recording every request as
`(method, path, query, json body)` and answering from an `async handle()`; answers are
built from the payloads under tests/worker/payloads/ (the services' documented response
shapes). `Instances` starts a worker process from the environment the latent worker gave
its instance (BUILDMASTER_PORT, WORKERNAME, WORKERPASS, ...), as the buildbot-worker
image's entry point does.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from twisted.internet import defer
from twisted.web import resource, server

from tests.fixtures.reactor import global_reactor
from tests.fixtures.worker_process import WorkerProcess, create_worker

PAYLOADS = Path(__file__).parent / "payloads"


def payload(service: str, file: str, /, **replace: Any) -> Any:
    """A recorded payload, with `${key}` placeholders of its text replaced."""
    text = (PAYLOADS / service / f"{file}.json").read_text()
    for key, value in replace.items():
        text = text.replace("${" + key + "}", str(value))
    return json.loads(text)


class Instances:
    """Worker processes standing for the instances a backend started, by key."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.processes: dict[str, WorkerProcess] = {}
        self.started: list[str] = []

    async def start(self, key: str, env: dict[str, str]) -> WorkerProcess:
        basedir = self.root / f"{key}-{len(self.started)}"
        await create_worker(basedir, int(env["BUILDMASTER_PORT"]), env["WORKERNAME"],
                            env["WORKERPASS"],
                            protocol=env.get("BUILDMASTER_PROTOCOL", "pb"))
        process = WorkerProcess(basedir, env["WORKERNAME"])
        process.start()
        self.processes[key] = process
        self.started.append(key)
        return process

    async def stop(self, key: str) -> None:
        process = self.processes.pop(key, None)
        if process is not None:
            await process.stop()

    async def stop_all(self) -> None:
        for key in list(self.processes):
            await self.stop(key)


class JsonApi(resource.Resource):
    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str, dict[str, list[str]], Any]] = []
        self.headers: list[dict[str, str]] = []
        self._pending: set[defer.Deferred[None]] = set()

    def calls(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _, _ in self.requests]

    def render(self, request: Any) -> Any:
        parts = urlsplit(request.uri.decode())
        raw = request.content.read()
        body: Any = json.loads(raw) if raw else None
        method = request.method.decode()
        query = parse_qs(parts.query)
        self.requests.append((method, parts.path, query, body))
        self.headers.append({k.decode().lower(): v[0].decode()
                             for k, v in request.requestHeaders.getAllRawHeaders()})
        d = defer.ensureDeferred(self.handle(method, parts.path, query, body))

        def done(result: tuple[Any, ...]) -> None:
            code, answer, *headers = result  # optional third: extra headers
            request.setResponseCode(code)
            for name, value in (headers[0] if headers else {}).items():
                request.setHeader(name, value)
            request.setHeader("content-type", "application/json")
            request.write(json.dumps(answer).encode() if answer is not None else b"")
            request.finish()

        def failed(f: Any) -> None:
            request.setResponseCode(500)
            request.write(f.getErrorMessage().encode())
            request.finish()

        d.addCallbacks(done, failed)
        self._pending.add(d)
        d.addBoth(lambda _: self._pending.discard(d))
        return server.NOT_DONE_YET

    async def handle(self, method: str, path: str, query: dict[str, list[str]],
                     body: Any) -> tuple[Any, ...]:
        """(status, JSON answer or None[, extra headers])."""
        raise NotImplementedError


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@asynccontextmanager
async def serving(api: JsonApi) -> AsyncIterator[str]:
    """`api` on 127.0.0.1 (a free port); yields its base URL."""
    reactor = global_reactor()

    site = server.Site(api, timeout=None)  # no idle timer outlives the test
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    try:
        yield f"http://127.0.0.1:{port.getHost().port}"
    finally:
        await port.stopListening()


@contextmanager
def master_log() -> Iterator[list[str]]:
    """The master's log lines (formatted) while the block runs."""
    from twisted.logger import formatEvent, globalLogPublisher

    lines: list[str] = []

    def observe(event: dict[str, Any]) -> None:
        lines.append(formatEvent(event) or "")

    globalLogPublisher.addObserver(observe)
    try:
        yield lines
    finally:
        globalLogPublisher.removeObserver(observe)


async def failing_build(basedir: Path, latent_worker: Any) -> tuple[dict[str, Any], list[str]]:
    """Run a master with `latent_worker`, force one build, and return it once finished
    (the worker paused afterwards so that no retry follows) with the master's log lines
    about the failed substantiation."""
    from tests.fixtures.master import running_master
    from tests.worker.masterkit import config, force, free_port, listen

    with master_log() as lines:
        cfg = config([latent_worker], port=free_port())
        async with running_master(basedir, cfg) as master:
            finished = listen(master, ("builds", None, "finished"))
            await force(master)
            try:
                _, build = await finished
            except AssertionError:
                raise AssertionError("\n".join(lines)) from None
            await latent_worker.pause("stop retrying")
    return dict(build), [line for line in lines if "failed to substantiate" in line]
