"""GitHubPullrequestPoller and BitbucketPullrequestPoller against local HTTP servers
answering with the services' payloads (tests/changes/fixtures): the requests made, the
changes stored through the data API (equal to what 4.3's pollers give for the same payloads),
the per-pull-request state under 4.3's object names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.changes import bitbucket
from buildbot.changes.bitbucket import BitbucketPullrequestPoller
from buildbot.changes.github import GitHubPullrequestPoller
from tests.changes.remote_sources import configure, stored_changes
from tests.fixtures.stack import Stack
from tests.reporters.remote_services import RecordedRequest, RecordingHttpServer

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str, url: str) -> Any:
    return json.loads((FIXTURES / name).read_text().replace("{URL}", url))


def recorded_4_3(poller: str) -> list[dict[str, Any]]:
    """The changes 4.3's poller gave for the same payloads and calls, as stored
    (recorded by tests/changes/record/record_pr_pollers_4_3.py)."""
    recorded = json.loads((FIXTURES / "pr_pollers_4_3.json").read_text())[poller]
    return [{**{k: v for k, v in c.items() if k != "src"},
             "properties": {k: (v, "Change") for k, v in c["properties"].items()}}
            for c in recorded]


def github_responder(data: dict[str, Any]) -> Any:
    def respond(req: RecordedRequest) -> tuple[int, Any]:
        path = req.path.split("?")[0]
        prefix = "/repos/buildbot/buildbot/pulls"
        if path == prefix:
            return 200, data["pulls"]
        rest = path[len(prefix) + 1:].split("/")
        if len(rest) == 1:
            return 200, data["pull"][rest[0]]
        return 200, data[rest[1]]
    return respond


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_github_reports_new_pull_requests_once(http_stack: Stack,
                                                     server: RecordingHttpServer) -> None:
    stack = http_stack
    data = fixture("github_pulls.json", server.url)
    server.respond = github_responder(data)
    poller = await configure(stack, GitHubPullrequestPoller(
        "buildbot", "buildbot", baseURL=server.url + "/", branches=["master"],
        token="s3cret",
        github_property_whitelist=["github.head.?ef", "github.head.sha", "github.number"]))

    await poller.poll()
    await poller.poll()  # nothing new: only the listing is read again

    paths = [(r.method, r.path) for r in server.requests.items]
    assert sorted(set(paths)) == [
        ("GET", "/repos/buildbot/buildbot/pulls"),
        ("GET", "/repos/buildbot/buildbot/pulls/42"),
        ("GET", "/repos/buildbot/buildbot/pulls/42/commits"),
        ("GET", "/repos/buildbot/buildbot/pulls/42/files")]
    assert paths.count(("GET", "/repos/buildbot/buildbot/pulls")) == 2
    first = server.requests.items[0].headers
    assert (first["authorization"], first["user-agent"]) == ("token s3cret", "Buildbot")
    assert await stored_changes(stack) == recorded_4_3("github")
    oid = await stack.updates.getObjectId("buildbot/buildbot", "GitHubPullrequestPoller")
    assert await stack.updates.getState(oid, "pull_request42") == \
        "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_github_magic_link_and_a_4_3_state_carries_on(
        http_stack: Stack, server: RecordingHttpServer) -> None:
    stack = http_stack
    data = fixture("github_pulls.json", server.url)
    server.respond = github_responder(data)
    oid = await stack.updates.getObjectId("buildbot/buildbot", "GitHubPullrequestPoller")
    # PR 42 already reported by 4.3 at this head
    await stack.updates.setState(oid, "pull_request42",
                                 "0123456789abcdef0123456789abcdef01234567")
    poller = await configure(stack, GitHubPullrequestPoller(
        "buildbot", "buildbot", baseURL=server.url, magic_link=True, repository_type="git",
        category="pull", project="bb"))

    await poller.poll()

    changes = await stored_changes(stack)
    assert [(c["revision"][:6], c["branch"], c["repository"], c["category"], c["project"],
             c["comments"].splitlines()[0]) for c in changes] == [
        ("fedcba", "refs/pull/43/merge", "git://github.com/buildbot/buildbot.git", "pull",
         "bb", "GitHub Pull Request #43 (1 commits)")]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_github_error_answer_is_logged_not_raised(
        http_stack: Stack, server: RecordingHttpServer, logged_errors: Any) -> None:
    stack = http_stack
    server.respond = lambda req: (401, {"message": "Bad credentials"})
    poller = await configure(stack, GitHubPullrequestPoller("o", "r", baseURL=server.url))

    await poller.poll()

    from twisted.logger import formatEvent

    assert [formatEvent(e) for e in logged_errors.flush("Bad credentials")] == [
        (f"GitHubPullrequestPoller error 401 'Bad credentials' while loading "
        f"{server.url}/repos/o/r/pulls")]
    assert await stored_changes(stack) == []


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_bitbucket_reports_pull_request_with_full_hash_and_files(
        http_stack: Stack, server: RecordingHttpServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    stack = http_stack
    data = fixture("bitbucket_pullrequests.json", server.url)
    monkeypatch.setattr(bitbucket, "BITBUCKET_API_URL", server.url + "/2.0")
    answers = {
        "/2.0/repositories/team/repo/pullrequests": data["listing"],
        "/2.0/repositories/team/repo/pullrequests/7": data["pr"],
        "/2.0/repositories/team/repo/commit/1a2b3c4d5e6f": data["commit"],
        "/2.0/repositories/ann/repo": data["repo"],
        "/2.0/repositories/ann/repo/diff/1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d":
            data["diff"].encode()}
    server.respond = lambda req: (200, answers[req.path])
    poller = await configure(stack, BitbucketPullrequestPoller(
        "team", "repo", branch="feature/widget", auth=("ann", "app-pw"),
        bitbucket_property_whitelist=["bitbucket.id", "bitbucket.source.branch.name"]))

    await poller.poll()
    await poller.poll()

    assert [r.path for r in server.requests.items] == [
        "/2.0/repositories/team/repo/pullrequests",
        "/2.0/repositories/team/repo/pullrequests/7",
        "/2.0/repositories/team/repo/commit/1a2b3c4d5e6f",
        "/2.0/repositories/ann/repo/diff/1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d",
        "/2.0/repositories/ann/repo",
        "/2.0/repositories/team/repo/pullrequests"]
    assert server.requests.items[0].headers["authorization"] == "Basic YW5uOmFwcC1wdw=="
    assert await stored_changes(stack) == recorded_4_3("bitbucket")
    oid = await stack.updates.getObjectId("team/repo#feature/widget",
                                          "BitbucketPullrequestPoller")
    assert await stack.updates.getState(oid, "pull_request7") == \
        "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d"


@pytest_twisted.ensureDeferred
async def test_github_poller_state_of_its_own_beside_the_revisions(stack: Stack) -> None:
    poller = await configure(stack, GitHubPullrequestPoller("o", "r", baseURL="http://x"))
    await poller.setState("last_seen", {"n": 3})
    assert await poller.getState("last_seen") == {"n": 3}
    assert await poller.getState("other", None) is None
    # under the poller's name and class, as 4.3's StateMixin keeps it
    oid = await stack.updates.getObjectId("GitHubPullrequestPoller:o/r", "GitHubPullrequestPoller")
    assert await stack.updates.getState(oid, "last_seen") == {"n": 3}


def test_bitbucket_poller_name_comes_from_build_name() -> None:
    assert BitbucketPullrequestPoller("team", "repo").name == "team/repo"

    class Named(BitbucketPullrequestPoller):
        def build_name(self, owner: str, slug: str) -> str:
            return f"bb:{owner}:{slug}"

    assert Named("team", "repo").name == "bb:team:repo"
