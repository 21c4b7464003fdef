"""HTTP steps against a local twisted.web server, in real builds: the request sent (method,
parameters, body, auth, headers), the logs, hidden headers, redirects, status codes, and an
unreachable or silent server ending FAILURE quickly with the reason in the log."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import endpoints
from twisted.web import pages, resource, server
from twisted.web import util as webutil

from buildbot.plugins import steps, util
from buildbot.process.results import CANCELLED, FAILURE, SUCCESS
from tests.steps.harness import headers_of, run_build, stdout_of
from tests.steps.tool_family_config import closed_port

pytestmark = pytest.mark.integration


class Echo(resource.Resource):
    """Answers with what it got, as JSON; a secret header for hiding tests."""

    isLeaf = True

    def render(self, request: Any) -> bytes:
        request.setHeader(b"content-type", b"application/json; charset=utf-8")
        request.setHeader(b"x-token", b"s3cret")
        auth = request.getHeader(b"authorization")
        body = request.content.read()
        return json.dumps({
            "method": request.method.decode(),
            "args": {k.decode(): [v.decode() for v in vs] for k, vs in request.args.items()
                     if request.method == b"GET"},
            "auth": base64.b64decode(auth.split()[1]).decode() if auth else None,
            "x-custom": (request.getHeader(b"x-custom") or b"").decode(),
            "body": body.decode() if request.method != b"HEAD" else "",
        }).encode()


class Silent(resource.Resource):
    """Never answers (the client's timeout must end the request)."""

    isLeaf = True

    def render(self, request: Any) -> Any:
        return server.NOT_DONE_YET


class Root(resource.Resource):
    def getChild(self, path: bytes, request: Any) -> Any:
        return pages.notFound()


@pytest_twisted.async_yield_fixture
async def base_url() -> AsyncIterator[str]:
    from twisted.internet import reactor

    root = Root()
    root.putChild(b"echo", Echo())
    root.putChild(b"silent", Silent())
    root.putChild(b"moved", webutil.Redirect(b"/echo"))
    port = await endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        server.Site(root))
    yield f"http://127.0.0.1:{port.getHost().port}"
    await port.stopListening()


def sent(out: Any, name: str) -> Any:
    return json.loads(stdout_of(out.step(name).logs["content"]))


@pytest_twisted.ensureDeferred
async def test_requests_carry_their_arguments_and_are_logged(tmp_path: Path,
                                                             base_url: str) -> None:
    out = await run_build(tmp_path, [
        steps.GET(f"{base_url}/echo", params={"b": "2", "a": util.Property("p")},
                  headers={"X-Custom": "yes"}, auth=("user", "pw"),
                  hide_request_headers=["authorization"], hide_response_headers=["X-Token"]),
        steps.POST(f"{base_url}/echo", data={"k": "v"}, name="post"),
        steps.PUT(f"{base_url}/echo", json={"n": 1}, name="put"),
        steps.DELETE(f"{base_url}/echo", name="delete"),
        steps.OPTIONS(f"{base_url}/echo", name="options"),
        steps.HEAD(f"{base_url}/echo", name="head"),
        steps.HTTPStep(f"{base_url}/echo", method="POST", data="raw body", name="raw"),
    ], properties={"p": "1"})
    assert [s[:2] for s in out.summary] == [(n, SUCCESS) for n in (
        "HTTPStep", "post", "put", "delete", "options", "head", "raw")]
    assert {s[2] for s in out.summary} == {"Status code: 200"}
    assert sent(out, "HTTPStep") == {"method": "GET", "args": {"a": ["1"], "b": ["2"]},
                                     "auth": "user:pw", "x-custom": "yes", "body": ""}
    assert sent(out, "post")["body"] == "k=v"
    assert json.loads(sent(out, "put")["body"]) == {"n": 1}
    assert [sent(out, n)["method"] for n in ("delete", "options", "raw")] == [
        "DELETE", "OPTIONS", "POST"]
    assert sent(out, "raw")["body"] == "raw body"
    assert stdout_of(out.step("head").logs["content"]) == ""

    log = out.step("HTTPStep").logs["log"]
    headers = headers_of(log)
    assert headers.startswith(f"Performing GET request to {base_url}/echo\n"
                              "Parameters:\n\ta: 1\n\tb: 2\nRequest Headers:\n")
    assert "\tAuthorization: <HIDDEN>\n" in headers and "\tX-Custom: yes\n" in headers
    assert "\tX-Token: <HIDDEN>\n" in headers and "s3cret" not in log
    assert stdout_of(log).startswith(f"URL: {base_url}/echo?a=1&b=2\nStatus: 200\n"
                                     " ------ Content ------\n{")
    assert headers_of(out.step("post").logs["log"]).startswith(
        f"Performing POST request to {base_url}/echo\nData:\n\tk: v\n")


@pytest_twisted.ensureDeferred
async def test_status_redirects_and_unreachable_servers(tmp_path: Path, base_url: str) -> None:
    out = await run_build(tmp_path, [
        steps.GET(f"{base_url}/missing", name="missing"),
        steps.GET(f"{base_url}/moved", name="moved"),
        steps.GET(f"{base_url}/moved", allow_redirects=False, name="stay"),
        steps.GET(f"http://127.0.0.1:{closed_port()}/", name="refused"),
        steps.GET(f"{base_url}/silent", timeout=0.3, name="silent"),
    ])
    assert out.summary == [
        ("missing", FAILURE, "Status code: 404 (failure)"),
        ("moved", SUCCESS, "Status code: 200"),
        ("stay", SUCCESS, "Status code: 302"),
        ("refused", FAILURE, "Requested (failure)"),
        ("silent", FAILURE, "Requested (failure)"),
    ]
    assert "Status: 404\n" in out.step("missing").logs["log"].replace("\ne", "\n")
    moved = stdout_of(out.step("moved").logs["log"])
    assert moved.startswith(f"\nRedirected 1 times:\n\nURL: {base_url}/moved\n")
    assert f"URL: {base_url}/echo\nStatus: 200\n" in moved
    for name in ("refused", "silent"):
        lines = out.step(name).logs["log"].splitlines()
        assert list(out.step(name).logs) == ["log"]
        assert lines[-1].startswith("eAn exception occurred while performing the request: ")
    assert "refused" in out.step("refused").logs["log"].lower()


@pytest_twisted.ensureDeferred
async def test_stopping_the_build_cancels_a_request_in_flight(tmp_path: Path,
                                                              base_url: str) -> None:
    from tests.fixtures.master import running_master, wait_for_message
    from tests.steps.harness import collect_build, make_config

    cfg = make_config([steps.GET(f"{base_url}/silent", name="silent")])
    async with running_master(tmp_path / "m", cfg) as master:
        logged = wait_for_message(master, ("logs", None, "new"))
        await master.data.control("force", {"builderNames": ["b0"]},
                                  ("forceschedulers", "force"))
        await logged  # the step's log exists: the request is on its way
        buildid = (await master.data.get(("builds",)))[0]["buildid"]
        finished = wait_for_message(master, ("builds", str(buildid), "finished"), timeout=10)
        await master.data.control("stop", {"reason": "enough"}, ("builds", buildid))
        await finished
        out = await collect_build(master, buildid)
    assert out.summary == [("silent", CANCELLED, "Requested (cancelled)")]
    assert out.results == CANCELLED


@pytest_twisted.ensureDeferred
async def test_https_certificate_checks_follow_verify(tmp_path: Path,
                                                     logged_errors: Any) -> None:
    from twisted.internet import reactor, ssl

    cert = ssl.KeyPair.generate().selfSignedCert(1, CN="localhost")
    root = Root()
    root.putChild(b"echo", Echo())
    port = await endpoints.SSL4ServerEndpoint(reactor, 0, cert.options(),
                                              interface="127.0.0.1").listen(server.Site(root))
    url = f"https://127.0.0.1:{port.getHost().port}/echo"
    try:
        out = await run_build(tmp_path, [steps.GET(url, verify=False, name="unchecked"),
                                         steps.GET(url, name="checked")])
    finally:
        await port.stopListening()
    assert out.summary == [("unchecked", SUCCESS, "Status code: 200"),
                           ("checked", FAILURE, "Requested (failure)")]
    assert sent(out, "unchecked")["method"] == "GET"
    assert "An exception occurred while performing the request: " in \
        out.step("checked").logs["log"]
    # Twisted logs the refused certificate itself
    assert logged_errors.flush("while verifying certificate")


class ShortLog(steps.GET):
    """A user's step replacing 4.3's log_response hook with a one-line summary."""

    async def log_response(self, log: Any, response: Any) -> None:
        await log.addStdout(f"{response.status_code} {response.url} "
                            f"{response.headers['Content-Type']} "
                            f"{response.request.headers.get('X-Custom')} "
                            f"{json.loads(response.text)['method']}\n")


@pytest_twisted.ensureDeferred
async def test_log_response_is_a_hook_with_requests_like_responses(tmp_path: Path,
                                                                   base_url: str) -> None:
    out = await run_build(tmp_path, [ShortLog(f"{base_url}/echo", headers={"X-Custom": "y"})])
    assert out.summary == [("HTTPStep", SUCCESS, "Status code: 200")]
    assert stdout_of(out.step("HTTPStep").logs["log"]) == (
        f"{200} {base_url}/echo application/json; charset=utf-8 y GET\n")
    assert "content" not in out.step("HTTPStep").logs
