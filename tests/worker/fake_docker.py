"""A local twisted.web resource playing the Docker Engine API, for DockerLatentWorker tests.

Containers are real: starting one runs a stock `buildbot-worker` process configured from the
container's environment (BUILDMASTER, BUILDMASTER_PORT, BUILDMASTER_PROTOCOL, WORKERNAME,
WORKERPASS), as the buildbot-worker Docker image does. Every request is recorded as
`(method, path, query, json body or raw bytes)`.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from twisted.internet import defer
from twisted.web import resource, server

from tests.fixtures.worker_process import WorkerProcess, create_worker


class FakeDocker(resource.Resource):
    isLeaf = True

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.images: list[str] = []
        self.pullable: set[str] = set()
        self.containers: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, list[str]], Any]] = []
        self.fail_stop_with_404 = False
        self.raw_paths: list[str] = []
        self._ids = 0

    # -- plumbing -------------------------------------------------------------------------
    def render(self, request: Any) -> Any:
        parts = urlsplit(request.uri.decode())
        self.raw_paths.append(parts.path)
        path = parts.path
        if path.startswith("/v1."):
            path = "/" + path.split("/", 2)[2]
        query = parse_qs(parts.query)
        raw = request.content.read()
        body: Any = raw
        if request.getHeader("content-type") == "application/json" and raw:
            body = json.loads(raw)
        method = request.method.decode()
        self.requests.append((method, path, query, body))
        d = defer.ensureDeferred(self.handle(method, path, query, body))

        def done(result: tuple[int, Any]) -> None:
            code, payload = result
            request.setResponseCode(code)
            if isinstance(payload, (dict, list)):
                request.setHeader("content-type", "application/json")
                payload = json.dumps(payload).encode()
            request.write(payload or b"")
            request.finish()

        def failed(f: Any) -> None:
            request.setResponseCode(500)
            request.write(json.dumps({"message": f.getErrorMessage()}).encode())
            request.finish()

        d.addCallbacks(done, failed)
        return server.NOT_DONE_YET

    def calls(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _, _ in self.requests]

    def container_named(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.containers.values() if c["Names"] == [f"/{name}"]), None)

    # -- the API --------------------------------------------------------------------------
    async def handle(self, method: str, path: str, query: dict[str, list[str]],
                     body: Any) -> tuple[int, Any]:
        if (method, path) == ("GET", "/images/json"):
            return 200, [{"Id": f"sha256:{i}", "RepoTags": [tag]}
                         for i, tag in enumerate(self.images)]
        if (method, path) == ("POST", "/images/create"):
            image = f"{query['fromImage'][0]}:{query['tag'][0]}"
            if image not in self.pullable:
                return 404, {"message": f"pull access denied for {image}"}
            self.images.append(image)
            return 200, b'{"status":"Pulling from library"}\r\n{"status":"Downloaded"}\r\n'
        if (method, path) == ("POST", "/build"):
            tag = query["t"][0]
            self.images.append(tag if ":" in tag.rsplit("/", 1)[-1] else f"{tag}:latest")
            return 200, b'{"stream":"Step 1/1 : FROM scratch\\n"}\r\n{"stream":"done\\n"}\r\n'
        if path.startswith("/images/") and method == "DELETE":
            name = unquote(path[len("/images/"):])
            if name not in self.images:
                return 404, {"message": "no such image"}
            self.images.remove(name)
            return 200, [{"Untagged": name}]
        if (method, path) == ("GET", "/containers/json"):
            wanted = json.loads(query.get("filters", ["{}"])[0]).get("name", [])
            return 200, [self._summary(c) for c in self.containers.values()
                         if all(any(w in n for n in c["Names"]) for w in wanted)]
        if (method, path) == ("POST", "/containers/create"):
            self._ids += 1
            cid = f"{self._ids:064x}"
            self.containers[cid] = {"Id": cid, "Names": [f"/{query['name'][0]}"],
                                    "State": "created", "spec": body, "process": None}
            return 201, {"Id": cid, "Warnings": []}
        if path.startswith("/containers/"):
            _, _, cid, *rest = path.split("/")
            container = self.containers.get(cid)
            if container is None:
                return 404, {"message": f"No such container: {cid}"}
            action = rest[0] if rest else ""
            return await self._container_action(method, action, container)
        return 404, {"message": f"page not found: {method} {path}"}

    def _summary(self, c: dict[str, Any]) -> dict[str, Any]:
        process = c["process"]
        if c["State"] == "running" and process is not None and not process.running:
            c["State"] = "exited"
        return {"Id": c["Id"], "Names": c["Names"], "State": c["State"],
                "Image": c["spec"]["Image"]}

    async def _container_action(self, method: str, action: str, c: dict[str, Any]
                                ) -> tuple[int, Any]:
        if (method, action) == ("POST", "start"):
            c["process"] = await self._run(c)
            c["State"] = "running" if c["process"] is not None else "exited"
            return 204, b""
        if (method, action) == ("POST", "stop"):
            if self.fail_stop_with_404:
                return 404, {"message": "No such container"}
            if c["process"] is not None:
                await c["process"].stop()
            c["State"] = "exited"
            return 204, b""
        if (method, action) == ("POST", "wait"):
            return 200, {"StatusCode": 0}
        if (method, action) == ("GET", "logs"):
            text = c["process"].log_text() if c["process"] is not None else "no output\n"
            data = text.encode()[-2000:]
            return 200, struct.pack(">BxxxI", 1, len(data)) + data
        if (method, action) == ("DELETE", ""):
            if c["process"] is not None:
                await c["process"].stop()
            del self.containers[c["Id"]]
            return 204, b""
        return 404, {"message": f"unknown container action {method} {action}"}

    async def _run(self, c: dict[str, Any]) -> WorkerProcess | None:
        env = dict(e.split("=", 1) for e in c["spec"]["Env"])
        if "broken" in c["spec"]["Image"]:
            return None
        basedir = self.root / c["Id"][:12]
        await create_worker(basedir, int(env["BUILDMASTER_PORT"]), env["WORKERNAME"],
                            env["WORKERPASS"], protocol=env["BUILDMASTER_PROTOCOL"])
        process = WorkerProcess(basedir, env["WORKERNAME"])
        process.start()
        return process

    async def stop_all(self) -> None:
        for c in self.containers.values():
            if c["process"] is not None:
                await c["process"].stop()
