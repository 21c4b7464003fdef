"""Forge and notification reporters against local stand-ins of their APIs, on real builds:
the exact requests (method, path, headers, JSON or form bodies) each one sends."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_twisted
from twisted.internet import defer

from buildbot.plugins import reporters, secrets, util
from buildbot.process.results import SUCCESS
from buildbot.reporters.pushover import PushoverNotifier
from tests.fixtures.master import running_master
from tests.reporters.builds import BUILDBOT_URL, force, master_config, secrets_dir
from tests.reporters.remote_services import RecordedRequest, RecordingHttpServer

REPO = "https://git.example.org/group/hello.git"
SHA = "0123456789abcdef"


@pytest_twisted.async_yield_fixture
async def server() -> Any:
    srv = RecordingHttpServer()
    srv.start()
    yield srv
    await srv.stop()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def build_urls(master: Any) -> tuple[str, str]:
    (b,) = await master.data.get(("builds",))
    return (f"{BUILDBOT_URL}#/buildrequests/{b['buildrequestid']}",
            f"{BUILDBOT_URL}#/builders/{b['builderid']}/builds/{b['number']}")


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_gitlab_statuses_with_project_id_lookup(tmp_path: Path,
                                                      server: RecordingHttpServer) -> None:
    def respond(req: RecordedRequest) -> tuple[int, Any]:
        if req.method == "GET":
            return 200, {"id": 42, "path_with_namespace": "group/hello"}
        return 201, {}

    server.respond = respond
    push = reporters.GitLabStatusPush(token=util.Secret("gl"), baseURL=server.url)
    cfg = master_config(push, secretsProviders=[
        secrets.SecretInAFile(dirname=secrets_dir(tmp_path, gl="tok3n"))])
    async with running_master(tmp_path, cfg) as master:
        await force(master, repository=REPO, revision=SHA, branch="main", project="")
        reqs = await server.wait_for(4)
        pending_url, build_url = await build_urls(master)
    assert [(r.method, r.path) for r in reqs] == [
        ("GET", "/api/v4/projects/group%2Fhello"),
        ("POST", f"/api/v4/projects/42/statuses/{SHA}"),
        ("POST", f"/api/v4/projects/42/statuses/{SHA}"),
        ("POST", f"/api/v4/projects/42/statuses/{SHA}"),
    ]
    assert {r.headers["private-token"] for r in reqs} == {"tok3n"}
    assert [r.json() for r in reqs[1:]] == [
        {"state": "pending", "ref": "main", "description": "Build pending.",
         "target_url": pending_url, "name": "buildbot/b0"},
        {"state": "running", "ref": "main", "description": "Build started.",
         "target_url": build_url, "name": "buildbot/b0"},
        {"state": "success", "ref": "main", "description": "Build done.",
         "target_url": build_url, "name": "buildbot/b0"},
    ]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_github_comment_push_comments_on_the_pull_request(
        tmp_path: Path, server: RecordingHttpServer) -> None:
    push = reporters.GitHubCommentPush(token="t0k", baseURL=server.url)
    async with running_master(tmp_path, master_config(push)) as master:
        await force(master, repository="git@github.com:octo/hello.git", revision=SHA,
                    branch="refs/pull/7/merge", project="")
        (req,) = await server.wait_for(1)
    assert (req.method, req.path, req.headers["authorization"]) == (
        "POST", "/repos/octo/hello/issues/7/comments", "token t0k")
    assert req.json() == {"body": "Build done."}


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_remote_failures_are_logged_and_do_not_affect_builds(
        tmp_path: Path, server: RecordingHttpServer, logged_errors: Any) -> None:
    server.respond = lambda req: (500, {"message": "boom"})
    push = reporters.GitHubStatusPush(token="t", baseURL=server.url,
                                      generators=[reporters.BuildStartEndStatusGenerator()])
    unreachable = reporters.HttpStatusPush("http://127.0.0.1:9/none")
    async with running_master(tmp_path, master_config(push, unreachable)) as master:
        bs = await force(master, repository="https://github.com/o/r", revision=SHA)
        await server.wait_for(2)
        bs2 = await force(master, repository="https://github.com/o/r", revision=SHA)
        await server.wait_for(4)
    assert (bs["results"], bs2["results"]) == (SUCCESS, SUCCESS)
    failed = logged_errors.flush('Failed to update "')
    assert len(failed) == 4
    refused = logged_errors.flush("sending the report")
    assert len(refused) == 4


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_events_of_one_request_are_reported_in_arrival_order(
        tmp_path: Path, server: RecordingHttpServer) -> None:
    held: defer.Deferred[tuple[int, Any]] = defer.Deferred()

    def respond(req: RecordedRequest) -> Any:
        return held if len(server.requests.items) == 0 else (201, {})

    server.respond = respond
    push = reporters.GitHubStatusPush(token="t", baseURL=server.url)
    async with running_master(tmp_path, master_config(push)) as master:
        await force(master, repository="https://github.com/o/r", revision=SHA)
        # the build is over, but its reports wait behind the held "pending" one
        assert [r.json()["description"] for r in await server.wait_for(1)] == [
            "Build pending."]
        assert len(server.requests.items) == 1
        held.callback((201, {}))
        reqs = await server.wait_for(3)
    assert [r.json()["description"] for r in reqs] == [
        "Build pending.", "Build started.", "Build done."]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_bitbucket_cloud_oauth_then_statuses(tmp_path: Path,
                                                   server: RecordingHttpServer) -> None:
    def respond(req: RecordedRequest) -> tuple[int, Any]:
        if req.path == "/oauth":
            return 200, {"access_token": "bearer-tok"}
        return 201, {}

    server.respond = respond
    push = reporters.BitbucketStatusPush(oauth_key="key", oauth_secret=util.Secret("bbs"),
                                         base_url=server.url + "/2.0/repositories",
                                         oauth_url=server.url + "/oauth")
    cfg = master_config(push, secretsProviders=[
        secrets.SecretInAFile(dirname=secrets_dir(tmp_path, bbs="s3"))])
    async with running_master(tmp_path, cfg) as master:
        await force(master, repository="git@bitbucket.org:team/hello.git", revision=SHA)
        reqs = await server.wait_for(4)
        _, build_url = await build_urls(master)
    assert [(r.method, r.path) for r in reqs] == [
        ("POST", "/oauth"),
        ("POST", f"/2.0/repositories/team/hello/commit/{SHA}/statuses/build"),
    ] * 2
    assert reqs[0].headers["authorization"] == basic("key", "s3")
    assert parse_qs(reqs[0].body.decode()) == {"grant_type": ["client_credentials"]}
    assert reqs[1].headers["authorization"] == "Bearer bearer-tok"
    key = hashlib.sha1(b"b0").hexdigest()
    assert [reqs[1].json(), reqs[3].json()] == [
        {"state": "INPROGRESS", "key": key, "name": "b0", "description": "",
         "url": build_url},
        {"state": "SUCCESSFUL", "key": key, "name": "b0", "description": "",
         "url": build_url},
    ]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_bitbucket_server_status_and_core_api(tmp_path: Path,
                                                     server: RecordingHttpServer) -> None:
    server.respond = lambda req: (204, b"")
    status = reporters.BitbucketServerStatusPush(server.url, "bob", util.Secret("pw"))
    core = reporters.BitbucketServerCoreAPIStatusPush(
        server.url, token=util.Secret("pw"),
        generators=[reporters.BuildStartEndStatusGenerator()])
    cfg = master_config(status, core, secretsProviders=[
        secrets.SecretInAFile(dirname=secrets_dir(tmp_path, pw="hunter2"))])
    async with running_master(tmp_path, cfg) as master:
        await force(master, repository="https://bbs.example.org/scm/PROJ/hello.git",
                    revision=SHA, branch="main")
        reqs = await server.wait_for(4)
        _, build_url = await build_urls(master)
    by_path: dict[str, list[RecordedRequest]] = {}
    for r in reqs:
        by_path.setdefault(r.path, []).append(r)
    legacy = by_path[f"/rest/build-status/1.0/commits/{SHA}"]
    assert {r.headers["authorization"] for r in legacy} == {basic("bob", "hunter2")}
    assert [r.json() for r in legacy] == [
        {"state": "INPROGRESS", "url": build_url, "key": "b0",
         "description": "Build started."},
        {"state": "SUCCESSFUL", "url": build_url, "key": "b0", "description": "Build done."},
    ]
    new = by_path[f"/rest/api/1.0/projects/PROJ/repos/hello/commits/{SHA}/builds"]
    assert {r.headers["authorization"] for r in new} == {"Bearer hunter2"}
    started, done = (r.json() for r in new)
    assert started == {"state": "INPROGRESS", "url": build_url, "key": "b0", "parent": "b0",
                       "ref": "refs/heads/main", "buildNumber": "1",
                       "description": "Build started.", "name": "b0 #1", "duration": None,
                       "testResults": None}
    assert done["state"] == "SUCCESSFUL"
    assert isinstance(done["duration"], int)


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_bitbucket_server_pr_comment(tmp_path: Path,
                                           server: RecordingHttpServer) -> None:
    push = reporters.BitbucketServerPRCommentPush(
        server.url, "bob", "pw", generators=[reporters.BuildStatusGenerator(
            message_formatter=reporters.MessageFormatter(template="done: {{ summary }}"))])
    pr = "https://bbs.example.org/projects/PROJ/repos/hello/pull-requests/5"
    cfg = master_config(push, properties={"pullrequesturl": pr})
    async with running_master(tmp_path, cfg) as master:
        await force(master)
        (req,) = await server.wait_for(1)
    assert req.path == "/rest/api/1.0/projects/PROJ/repos/hello/pull-requests/5/comments"
    assert req.json() == {"text": "done: Build succeeded!"}


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_gerrit_verify_status(tmp_path: Path, server: RecordingHttpServer) -> None:
    push = reporters.GerritVerifyStatusPush(server.url, auth=("u", "p"))
    cfg = master_config(push, properties={
        "gerrit_changes": [{"change_id": 12, "revision_id": 2}]})
    async with running_master(tmp_path, cfg) as master:
        await force(master)
        reqs = await server.wait_for(2)
        _, build_url = await build_urls(master)
    assert {r.path for r in reqs} == {"/a/changes/12/revisions/2/verify-status~verifications"}
    start, end = (r.json() for r in reqs)
    assert start == {"name": "b0", "value": 0, "abstain": False, "comment": "Build started.",
                     "url": build_url, "reporter": "buildbot", "duration": "pending"}
    assert end["value"] == 1
    assert end["duration"].endswith("s") and end["duration"].startswith("0m ")


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_zulip_pushover_and_pushjet(tmp_path: Path, server: RecordingHttpServer) -> None:
    server.respond = lambda req: (200, {"result": "success"})

    class LocalPushover(PushoverNotifier):
        base_url = server.url  # the API's address is fixed in the reporter

    zulip = reporters.ZulipStatusPush(server.url, "zk", stream="builds")
    pushover = LocalPushover("ukey", "atok", priorities={"passing": 1},
                             otherParams={"sound": "bike"})
    pushjet = reporters.PushjetNotifier("sec", levels={"passing": 2}, base_url=server.url)
    async with running_master(tmp_path, master_config(zulip, pushover, pushjet)) as master:
        await force(master, project="proj")
        reqs = await server.wait_for(4)
        (b,) = await master.data.get(("builds",))
    zulips = [r for r in reqs if r.path.startswith("/api/v1/")]
    assert [r.path for r in zulips] == [
        "/api/v1/external/buildbot?api_key=zk&stream=builds"] * 2
    new, finished = (r.json() for r in zulips)
    url = f"{BUILDBOT_URL}#/builders/{b['builderid']}/builds/1"
    assert new == {"event": "new", "buildid": b["buildid"], "buildername": "b0", "url": url,
                   "project": "proj", "timestamp": int(b["started_at"].timestamp())}
    assert finished == {"event": "finished", "buildid": b["buildid"], "buildername": "b0",
                        "url": url, "project": "proj",
                        "timestamp": int(b["complete_at"].timestamp()),
                        "results": SUCCESS}
    (po,) = [r for r in reqs if r.path.startswith("/1/messages.json")]
    query = parse_qs(urlsplit(po.path).query)
    assert query == {
        "message": [(f'Buildbot detected a <a href="{url}">passing build</a> of <i>b0</i> '
                    "while building proj on local.")],
        "title": ["\u263a Buildbot (Reporting): b0 - build successful ((unknown revision))"],
        "html": ["1"], "priority": ["1"], "user": ["ukey"], "token": ["atok"],
        "sound": ["bike"]}
    (pj,) = [r for r in reqs if r.path == "/message"]
    form = parse_qs(pj.body.decode())
    assert (form["secret"], form["level"], form["title"]) == (
        ["sec"], ["2"], query["title"])


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_gerrit_status_push_runs_gerrit_review_over_ssh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    calls = tmp_path / "ssh-calls"
    fake_ssh = bindir / "ssh"
    fake_ssh.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$*" >> {calls}\n'
        'case "$*" in *" gerrit version") echo "gerrit version 3.5.1";; esac\n')
    fake_ssh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    push = reporters.GerritStatusPush("gerrit.example.org", "bot", identity_file="/k")
    cfg = master_config(push, properties={"event.change.id": "I1",
                                          "event.change.project": "hello",
                                          "event.patchSet.revision": SHA})
    async with running_master(tmp_path, cfg) as master:
        reviewed = defer.ensureDeferred(log_event("gerrit status: OK"))
        await force(master)
        await reviewed
        (b,) = await master.data.get(("builds",))
    lines = calls.read_text().splitlines()
    url = f"{BUILDBOT_URL}#/builders/{b['builderid']}/builds/1"
    assert lines == [
        "-o BatchMode=yes -i /k bot@gerrit.example.org -p 29418 gerrit version",
        ("-o BatchMode=yes -i /k bot@gerrit.example.org -p 29418 gerrit review "
        "--project hello --tag autogenerated:buildbot "
        f"--message 'Builder b0 succeeded (build successful) - {url}' "
        f"--label Verified=1 {SHA}"),
    ]


async def log_event(text: str, timeout: float = 20.0) -> None:
    """Wait until a log event whose text contains `text` is emitted."""
    from twisted.internet import reactor
    from twisted.logger import formatEvent, globalLogPublisher

    seen: defer.Deferred[None] = defer.Deferred()

    def observer(event: dict[str, Any]) -> None:
        if not seen.called and text in (formatEvent(event) or ""):
            seen.callback(None)

    globalLogPublisher.addObserver(observer)
    seen.addTimeout(timeout, reactor)
    try:
        await seen
    except defer.TimeoutError:
        raise AssertionError(f"no log event containing {text!r} within {timeout} s") from None
    finally:
        globalLogPublisher.removeObserver(observer)


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_cancelled_request_gets_an_error_status(tmp_path: Path,
                                                       server: RecordingHttpServer) -> None:
    from buildbot.plugins import worker

    push = reporters.GitHubStatusPush(token="t", baseURL=server.url)
    cfg = master_config(push)
    # the only worker of the builder never connects: the request stays pending
    cfg["workers"] = [worker.Worker("away", "pw")]
    cfg["builders"][0].workernames = ["away"]
    async with running_master(tmp_path, cfg) as master:
        await force(master, repository="https://github.com/o/r", revision=SHA, wait=False)
        await server.wait_for(1)
        (br,) = await master.data.get(("buildrequests",))
        # what the botmaster does for `control/buildrequests/<id>/cancel` on an unclaimed
        # request
        assert await master.data.updates.cancelUnclaimedBuildRequest(br["buildrequestid"])
        reqs = await server.wait_for(2)
    url = f"{BUILDBOT_URL}#/buildrequests/{br['buildrequestid']}"
    assert [r.json() for r in reqs] == [
        {"state": "pending", "description": "Build pending.", "context": "buildbot/b0",
         "target_url": url},
        {"state": "error", "description": "Build pending.", "context": "buildbot/b0",
         "target_url": url},
    ]
