"""Change hooks over real HTTP: dialects, signatures, malformed bodies, nothing stored on
rejection."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

import pytest
import pytest_twisted
from twisted.web import resource, server

from tests.www.harness import WebMaster, http

PUSH = {
    "ref": "refs/heads/main", "created": False, "deleted": False,
    "head_commit": {"message": "fix it"},
    "repository": {"name": "proj", "full_name": "org/proj",
                   "html_url": "https://github.com/org/proj"},
    "commits": [{
        "id": "abc123", "message": "fix it", "timestamp": "2024-01-02T03:04:05Z",
        "url": "https://github.com/org/proj/commit/abc123", "distinct": True,
        "author": {"name": "A", "email": "a@x"}, "committer": {"name": "C", "email": "c@x"},
        "added": ["new.py"], "modified": ["mod.py"], "removed": []}],
}


async def _post(master: WebMaster, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return await http.post(master.url(path), data=body, headers=headers)


def _sign(secret: bytes, body: bytes, algo: str = "sha1") -> str:
    return f"{algo}=" + hmac.new(secret, body, getattr(hashlib, algo)).hexdigest()


@pytest_twisted.ensureDeferred
async def test_base_dialect_from_form_fields(master: WebMaster) -> None:
    await master.start_www(change_hook_dialects={"base": True})
    form = urlencode({"author": "me", "comments": "c", "revision": "r1", "branch": "b",
                      "files": '["a.c"]', "properties": '{"p": 1}', "when_timestamp": "1700"})
    res = await _post(master, "change_hook", form.encode(),
                      {"Content-Type": "application/x-www-form-urlencoded"})
    assert (res.code, res.body) == (200, b"1 change found")
    assert master.changes == [{
        "src": None, "author": "me", "committer": None, "files": ["a.c"], "comments": "c",
        "revision": "r1", "when_timestamp": 1700.0, "branch": "b", "category": None,
        "revlink": None, "properties": {"p": 1}, "repository": "", "project": "",
        "codebase": None}]


@pytest_twisted.ensureDeferred
async def test_dialect_not_whitelisted(master: WebMaster) -> None:
    await master.start_www(change_hook_dialects={"base": True})
    res = await http.get(master.url("change_hook/github"))
    assert res.code == 400
    assert res.body == b"The dialect specified, 'github', wasn't whitelisted in change_hook"


@pytest_twisted.ensureDeferred
async def test_github_push_signed(master: WebMaster) -> None:
    await master.start_www(change_hook_dialects={"github": {"secret": "s3", "strict": True}})
    body = json.dumps(PUSH).encode()
    res = await _post(master, "change_hook/github", body, {
        "Content-Type": "application/json", "X-GitHub-Event": "push",
        "X-Hub-Signature": _sign(b"s3", body)})
    assert (res.code, res.body) == (200, b"1 change found")
    change = master.changes[0]
    assert (change["src"], change["branch"], change["revision"], change["when_timestamp"]) == (
        "git", "main", "abc123", 1704164645)
    assert change["files"] == ["new.py", "mod.py"]
    assert change["properties"] == {"github_distinct": True, "event": "push"}
    assert change["author"] == "A <a@x>" and change["category"] is None


@pytest_twisted.ensureDeferred
async def test_github_sha256_signature_accepted(master: WebMaster) -> None:
    await master.start_www(change_hook_dialects={"github": {"secret": "s3", "strict": True}})
    body = json.dumps(PUSH).encode()
    res = await _post(master, "change_hook/github", body, {
        "Content-Type": "application/json", "X-GitHub-Event": "push",
        "X-Hub-Signature-256": _sign(b"s3", body, "sha256")})
    assert res.code == 200 and len(master.changes) == 1


@pytest.mark.parametrize("body", [b"{not json", b'{"ref": "refs/heads/x"}', b"[1]"])
@pytest_twisted.ensureDeferred
async def test_github_malformed_body_is_400(master: WebMaster, body: bytes) -> None:
    await master.start_www(change_hook_dialects={"github": True})
    res = await _post(master, "change_hook/github", body, {
        "Content-Type": "application/json", "X-GitHub-Event": "push"})
    assert res.code == 400
    assert master.changes == []


@pytest_twisted.ensureDeferred
async def test_github_ping_skip_and_unknown_event(master: WebMaster) -> None:
    await master.start_www(change_hook_dialects={"github": True})
    hdr = {"Content-Type": "application/json"}
    res = await _post(master, "change_hook/github", b"{}", {**hdr, "X-GitHub-Event": "ping"})
    assert (res.code, res.body) == (200, b"no change found")
    skipped = dict(PUSH, head_commit={"message": "wip [ci skip]"})
    res = await _post(master, "change_hook/github", json.dumps(skipped).encode(),
                      {**hdr, "X-GitHub-Event": "push"})
    assert res.body == b"no change found"
    res = await _post(master, "change_hook/github", b"{}", {**hdr, "X-GitHub-Event": "star"})
    assert (res.code, res.body) == (400, b"Unknown event: star")


@pytest_twisted.ensureDeferred
async def test_github_form_encoded_payload_and_tag(master: WebMaster) -> None:
    await master.start_www(change_hook_dialects={"github": {
        "github_property_whitelist": ["github.repository.full_name"]}})
    tag = dict(PUSH, ref="refs/tags/v1")
    body = urlencode({"payload": json.dumps(tag)}).encode()
    res = await _post(master, "change_hook/github", body, {
        "Content-Type": "application/x-www-form-urlencoded", "X-GitHub-Event": "push"})
    assert res.code == 200
    change = master.changes[0]
    assert (change["branch"], change["category"]) == ("v1", "tag")
    assert change["properties"]["github.repository.full_name"] == "org/proj"


class FakeGitHubApi(resource.Resource):
    """Plays api.github.com for the PR files and commit lookups."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[bytes, bytes | None]] = []

    def render_GET(self, request: server.Request) -> bytes:
        self.requests.append((request.path, request.getHeader(b"authorization")))
        request.setHeader(b"content-type", b"application/json")
        request.setHeader(b"connection", b"close")  # nothing lingers after the test
        if request.path.endswith(b"/files"):
            return json.dumps([{"filename": "a.py"},
                               {"filename": "b.py", "previous_filename": "old_b.py"}]).encode()
        return json.dumps({"commit": {"message": "add feature"}}).encode()


@pytest_twisted.ensureDeferred
async def test_github_pull_request_uses_the_api(master: WebMaster) -> None:
    from twisted.internet import endpoints, reactor

    api = FakeGitHubApi()
    port = await endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        server.Site(api))
    try:
        await master.start_www(change_hook_dialects={"github": {
            "github_api_endpoint": f"http://127.0.0.1:{port.getHost().port}",
            "token": "tok"}})
        pr = {"action": "opened", "number": 42,
              "repository": {"full_name": "org/proj", "html_url": "https://gh/org/proj"},
              "sender": {"login": "dev"},
              "pull_request": {"title": "T", "body": "B", "commits": 2,
                               "created_at": "2024-01-02T03:04:05Z",
                               "head": {"sha": "f00"}, "base": {"ref": "main", "repo": {
                                   "full_name": "org/proj"}},
                               "_links": {"html": {"href": "https://gh/org/proj/pull/42"}}}}
        res = await _post(master, "change_hook/github", json.dumps(pr).encode(), {
            "Content-Type": "application/json", "X-GitHub-Event": "pull_request"})
        assert res.code == 200, res.body
    finally:
        await port.stopListening()
    change = master.changes[0]
    assert change["branch"] == "refs/pull/42/merge"
    assert change["files"] == ["a.py", "b.py", "old_b.py"]
    assert change["category"] == "pull"
    assert change["comments"] == "GitHub Pull Request #42 (2 commits)\nT\nB"
    assert change["properties"] == {"pullrequesturl": "https://gh/org/proj/pull/42",
                                    "event": "pull_request", "basename": "main"}
    assert {auth for _, auth in api.requests} == {b"token tok"}


GITLAB_PUSH = {
    "object_kind": "push", "ref": "refs/heads/dev", "user_name": "u",
    "repository": {"name": "gp", "url": "git@gitlab:g/gp.git"},
    "commits": [{"id": "c1", "message": "m", "timestamp": "2024-01-02T03:04:05+00:00",
                 "url": "https://gl/c1", "author": {"name": "N", "email": "n@x"},
                 "added": ["f"]}],
}


@pytest_twisted.ensureDeferred
async def test_gitlab_push_with_token(master: WebMaster) -> None:
    await master.start_www(change_hook_dialects={"gitlab": {"secret": "tok"}})
    body = json.dumps(GITLAB_PUSH).encode()
    bad = await _post(master, "change_hook/gitlab", body, {"X-Gitlab-Token": "nope"})
    assert (bad.code, bad.body) == (400, b"Invalid secret")
    assert master.changes == []
    ok = await _post(master, "change_hook/gitlab?codebase=cb", body, {"X-Gitlab-Token": "tok"})
    assert (ok.code, ok.body) == (200, b"1 change found")
    change = master.changes[0]
    assert (change["branch"], change["category"], change["codebase"], change["project"]) == (
        "dev", "push", "cb", "gp")


@pytest_twisted.ensureDeferred
async def test_gitlab_merge_request_and_bad_json(master: WebMaster) -> None:
    await master.start_www(change_hook_dialects={"gitlab": True})
    side = {"git_http_url": "https://gl/x.git", "git_ssh_url": "git@gl:x.git", "name": "x"}
    mr = {"object_kind": "merge_request", "object_attributes": {
        "iid": 3, "title": "T", "description": "D", "state": "opened", "action": "open",
        "url": "https://gl/mr/3", "source_branch": "feat", "target_branch": "main",
        "source_project_id": 1, "target_project_id": 2, "source": side, "target": side,
        "last_commit": {"id": "c9", "timestamp": "2024-01-02T03:04:05Z",
                        "author": {"name": "N", "email": "n@x"}}}}
    res = await _post(master, "change_hook/gitlab", json.dumps(mr).encode(), {})
    assert res.code == 200
    assert master.changes[0]["branch"] == "main"
    assert master.changes[0]["properties"]["source_branch"] == "feat"
    bad = await _post(master, "change_hook/gitlab", b"{oops", {})
    assert bad.code == 400 and bad.body.startswith(b"Error loading JSON")


@pytest_twisted.ensureDeferred
async def test_bitbucketcloud_push_and_missing_event(master: WebMaster) -> None:
    await master.start_www(change_hook_dialects={"bitbucketcloud": True})
    payload = {"repository": {"scm": "git", "project": {"name": "P"},
                              "links": {"self": {"href": "https://api.bb/r"},
                                        "html": {"href": "https://bb/r"}}},
               "actor": {"display_name": "D", "nickname": "d"},
               "push": {"changes": [{"new": {"type": "branch", "name": "main",
                                             "target": {"hash": "h1"}}, "old": None}]}}
    hdr = {"Content-Type": "application/json"}
    res = await _post(master, "change_hook/bitbucketcloud", json.dumps(payload).encode(),
                      {**hdr, "X-Event-Key": "repo:push"})
    assert res.code == 200
    assert master.changes[0]["branch"] == "refs/heads/main"
    assert master.changes[0]["revlink"] == "https://bb/r/commits/h1"
    res = await _post(master, "change_hook/bitbucketcloud", b"{}", hdr)
    assert (res.code, res.body) == (400, b"Header X-Event-Key was not present")


@pytest_twisted.ensureDeferred
async def test_bitbucketserver_refs_changed(master: WebMaster) -> None:
    await master.start_www(change_hook_dialects={"bitbucketserver": True})
    payload = {"repository": {"scmId": "git", "project": {"name": "P"},
                              "links": {"self": [{"href": "https://bbs/p/r/browse"}]}},
               "actor": {"displayName": "D", "username": "d"},
               "push": {"changes": [{"new": {"type": "tag", "name": "v2",
                                             "target": {"hash": "h2"}}, "old": None}]}}
    res = await _post(master, "change_hook/bitbucketserver", json.dumps(payload).encode(),
                      {"Content-Type": "application/json", "X-Event-Key": "repo:refs_changed"})
    assert res.code == 200
    assert (master.changes[0]["branch"], master.changes[0]["revlink"]) == (
        "refs/tags/v2", "https://bbs/p/r/commits/h2")


@pytest_twisted.ensureDeferred
async def test_bitbucket_legacy_and_gitorious(master: WebMaster) -> None:
    await master.start_www(change_hook_dialects={"bitbucket": True, "gitorious": True})
    bb = {"canon_url": "https://bitbucket.org", "repository": {"absolute_url": "/o/r/",
                                                                "scm": "hg"},
          "commits": [{"raw_author": "A <a@x>", "files": [{"file": "x"}], "message": "m",
                       "raw_node": "n1", "node": "n1", "utctimestamp": "2024-01-02 03:04:05+00:00",
                       "branch": "default"}]}
    res = await _post(master, "change_hook/bitbucket?project=P",
                      urlencode({"payload": json.dumps(bb)}).encode(),
                      {"Content-Type": "application/x-www-form-urlencoded"})
    assert res.code == 200, res.body
    assert master.changes[0]["src"] == "hg"
    assert master.changes[0]["project"] == "P"
    go = {"after": "0000", "ref": "main", "commits": [],
          "repository": {"url": "u", "owner": {"name": "o"}, "name": "r"},
          "project": {"name": "p"}}
    res = await _post(master, "change_hook/gitorious",
                      urlencode({"payload": json.dumps(go)}).encode(),
                      {"Content-Type": "application/x-www-form-urlencoded"})
    assert res.body == b"no change found"
    go.update(after="abc1", commits=[{
        "author": {"name": "A", "email": "a@x"}, "message": "m", "id": "abc1",
        "timestamp": "2024-01-02T03:04:05+00:00", "url": "https://g/c/abc1"}])
    res = await _post(master, "change_hook/gitorious",
                      urlencode({"payload": json.dumps(go)}).encode(),
                      {"Content-Type": "application/x-www-form-urlencoded"})
    assert res.code == 200
    change = master.changes[-1]
    assert (change["revision"], change["author"], change["branch"], change["repository"],
            change["project"], change["when_timestamp"]) == (
        "abc1", "A <a@x>", "main", "u", "p", 1704164645)


def test_4_3_handler_entry_points() -> None:
    """process (Bitbucket) and process_change (Gitorious), callable as in 4.3."""
    from io import BytesIO

    from twisted.web.test.requesthelper import DummyRequest

    from buildbot.www.hooks.bitbucketserver import BitbucketServerEventHandler
    from buildbot.www.hooks.gitorious import GitoriousHandler

    request = DummyRequest([b""])
    request.requestHeaders.setRawHeaders(b"Content-Type", [b"application/json"])
    request.requestHeaders.setRawHeaders(b"X-Event-Key", [b"repo:refs_changed"])
    request.content = BytesIO(json.dumps({
        "repository": {"scmId": "git", "project": {"name": "P"},
                       "links": {"self": [{"href": "https://bbs/p/r/browse"}]}},
        "actor": {"displayName": "D", "username": "d"},
        "push": {"changes": [{"new": {"type": "branch", "name": "dev",
                                      "target": {"hash": "h3"}}, "old": None}]}}).encode())
    changes, vcs = BitbucketServerEventHandler(None, {}).process(request)
    assert (vcs, [c["branch"] for c in changes]) == ("git", ["refs/heads/dev"])
    handler = GitoriousHandler(None, True)
    assert handler.process_change({"after": "000", "ref": "r"}, "o", "n", "u", "p") == []


class FakePoller:
    def __init__(self, name: str) -> None:
        self.name = name
        self.forced = 0

    async def force(self) -> None:
        self.forced += 1


@pytest_twisted.ensureDeferred
async def test_poller_dialect(master: WebMaster) -> None:
    a, b = FakePoller("a"), FakePoller("b")
    master.change_svc = [a, b]
    await master.start_www(change_hook_dialects={"poller": {"allowed": ["a"]}})
    res = await http.get(master.url("change_hook/poller?poller=a"))
    assert (res.code, res.body, a.forced) == (200, b"no change found", 1)
    res = await http.get(master.url("change_hook/poller?poller=b"))
    assert (res.code, res.body) == (400, b"Could not find pollers: b")
    assert b.forced == 0


@pytest_twisted.ensureDeferred
async def test_change_hook_auth(master: WebMaster) -> None:
    from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse

    checker = InMemoryUsernamePasswordDatabaseDontUse(hook=b"pw")
    await master.start_www(change_hook_dialects={"base": True}, change_hook_auth=[checker])
    res = await http.post(master.url("change_hook"), data=b"")
    assert res.code == 401
    auth = {"Authorization": "Basic " + base64.b64encode(b"hook:pw").decode(),
            "Content-Type": "application/x-www-form-urlencoded"}
    res = await http.post(master.url("change_hook"), data=b"comments=x", headers=auth)
    assert res.code == 200
