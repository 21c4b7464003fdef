"""HttpStatusPush and GitHub reporters against a local HTTP server, on real builds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import reporters, secrets, util
from buildbot.process.results import SUCCESS
from tests.fixtures.master import running_master
from tests.reporters.builds import BUILDBOT_URL, force, master_config, secrets_dir
from tests.reporters.remote_services import RecordingHttpServer


@pytest_twisted.async_yield_fixture
async def http_server() -> Any:
    srv = RecordingHttpServer()
    srv.start()
    yield srv
    await srv.stop()


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_http_status_push_posts_build_dict_at_start_and_end(
        tmp_path: Path, http_server: RecordingHttpServer) -> None:
    push = reporters.HttpStatusPush(http_server.url + "/hook", headers={
        "X-Test": "yes", "X-Token": util.Interpolate("t-%(secret:hook)s")}, auth=("u", "p"))
    cfg = master_config(push, secretsProviders=[
        secrets.SecretInAFile(dirname=secrets_dir(tmp_path, hook="s3"))])
    async with running_master(tmp_path, cfg) as master:
        bs = await force(master)
        reqs = await http_server.wait_for(2)
    assert bs["results"] == SUCCESS
    assert [(r.method, r.path) for r in reqs] == [("POST", "/hook"), ("POST", "/hook")]
    assert reqs[0].headers["content-type"] == "application/json"
    assert (reqs[0].headers["x-test"], reqs[0].headers["x-token"]) == ("yes", "t-s3")
    assert reqs[0].headers["authorization"] == "Basic dTpw"
    started, finished = reqs[0].json(), reqs[1].json()
    assert (started["complete"], started["results"]) == (False, None)
    assert (finished["complete"], finished["results"]) == (True, SUCCESS)
    assert finished["url"] == f"{BUILDBOT_URL}#/builders/{finished['builderid']}/builds/1"
    assert finished["builder"]["name"] == "b0"
    assert isinstance(finished["started_at"], int)
    assert isinstance(finished["complete_at"], int)
    assert finished["buildset"]["bsid"] == bs["bsid"]
    assert finished["properties"]["buildername"] == ["b0", "Builder"]
    assert finished["state_string"] == "build successful"


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_github_status_push_sends_pending_started_done(
        tmp_path: Path, http_server: RecordingHttpServer, logged_errors: Any) -> None:
    push = reporters.GitHubStatusPush(token=util.Secret("gh"), baseURL=http_server.url + "/")
    cfg = master_config(push, secretsProviders=[
        secrets.SecretInAFile(dirname=secrets_dir(tmp_path, gh="s3cret"))])
    async with running_master(tmp_path, cfg) as master:
        await force(master, repository="https://github.com/buildbot/hello.git",
                    revision="abc123", branch="main", project="")
        reqs = await http_server.wait_for(3)
        builds = await master.data.get(("builds",))
    url = f"{BUILDBOT_URL}#/builders/{builds[0]['builderid']}/builds/1"
    assert [(r.method, r.path) for r in reqs] == [
        ("POST", "/repos/buildbot/hello/statuses/abc123")] * 3
    assert {r.headers["authorization"] for r in reqs} == {"token s3cret"}
    assert {r.headers["user-agent"] for r in reqs} == {"Buildbot"}
    assert [r.json() for r in reqs] == [
        {"state": "pending", "description": "Build pending.", "context": "buildbot/b0",
         "target_url": f"{BUILDBOT_URL}#/buildrequests/{builds[0]['buildrequestid']}"},
        {"state": "pending", "description": "Build started.", "context": "buildbot/b0",
         "target_url": url},
        {"state": "success", "description": "Build done.", "context": "buildbot/b0",
         "target_url": url},
    ]
