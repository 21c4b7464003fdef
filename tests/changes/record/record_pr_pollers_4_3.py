"""Records what Buildbot 4.3's pull request pollers give for the payloads in
tests/changes/fixtures (run with the reference's interpreter:
`/work/refvenv/bin/python tests/changes/record/record_pr_pollers_4_3.py`); writes
fixtures/pr_pollers_4_3.json, which tests/changes/test_pullrequest_pollers.py compares with.

Serves the payloads from a local twisted.web server, gives the pollers a minimal master
(an HTTP client service, in-memory state, addChange recording its arguments) and polls."""

import json
import sys
from pathlib import Path

from twisted.internet import defer, reactor
from twisted.web import resource, server

from buildbot.changes import bitbucket, github
from buildbot.util import httpclientservice

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class Answers(resource.Resource):
    isLeaf = True

    def __init__(self, answers):
        super().__init__()
        self.answers = answers

    def render_GET(self, request):
        body = self.answers[request.path.decode()]
        if isinstance(body, str):
            return body.encode()
        request.setHeader(b"content-type", b"application/json")
        return json.dumps(body).encode()


class State:
    def __init__(self):
        self.objects, self.values = {}, {}

    def getObjectId(self, name, cls):
        return defer.succeed(self.objects.setdefault((name, cls), len(self.objects) + 1))

    def getState(self, oid, key, default=None):
        return defer.succeed(self.values.get((oid, key), default))

    def setState(self, oid, key, value):
        self.values[(oid, key)] = value
        return defer.succeed(None)


class Master:
    def __init__(self):
        self.reactor = reactor
        self.recorded = []
        self.db = type("Db", (), {"state": State()})()
        self.data = type("Data", (), {"updates": self})()
        self.httpservice = httpclientservice.HTTPClientService("")
        self.httpservice.parent = self  # its `master` is its parent's

    @property
    def master(self):
        return self

    def addChange(self, **kwargs):
        self.recorded.append(kwargs)
        return defer.succeed(None)


async def record(port):
    url = f"http://127.0.0.1:{port}"
    out = {}
    gh = json.loads((FIXTURES / "github_pulls.json").read_text().replace("{URL}", url))
    answers.update({"/repos/buildbot/buildbot/pulls": gh["pulls"]})
    for number, pr in gh["pull"].items():
        prefix = f"/repos/buildbot/buildbot/pulls/{number}"
        answers.update({prefix: pr, prefix + "/commits": gh["commits"],
                        prefix + "/files": gh["files"]})
    master = Master()
    await master.httpservice.startService()
    poller = github.GitHubPullrequestPoller(
        "buildbot", "buildbot", baseURL=url + "/", branches=["master"], token="s3cret",
        github_property_whitelist=["github.head.?ef", "github.head.sha", "github.number"])
    poller.parent = master
    await poller.reconfigService("buildbot", "buildbot", baseURL=url + "/",
                                 branches=["master"], token="s3cret",
                                 github_property_whitelist=["github.head.?ef",
                                                            "github.head.sha",
                                                            "github.number"])
    await poller.poll()
    await poller.poll()
    out["github"] = master.recorded

    bb = json.loads((FIXTURES / "bitbucket_pullrequests.json").read_text().replace("{URL}", url))
    answers.update({
        "/2.0/repositories/team/repo/pullrequests": bb["listing"],
        "/2.0/repositories/team/repo/pullrequests/7": bb["pr"],
        "/2.0/repositories/team/repo/commit/1a2b3c4d5e6f": bb["commit"],
        "/2.0/repositories/ann/repo": bb["repo"],
        "/2.0/repositories/ann/repo/diff/1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d": bb["diff"]})
    master = Master()
    await master.httpservice.startService()
    poller = bitbucket.BitbucketPullrequestPoller(
        "team", "repo", branch="feature/widget", auth=("ann", "app-pw"),
        bitbucket_property_whitelist=["bitbucket.id", "bitbucket.source.branch.name"])
    poller.parent = master
    real_session = httpclientservice.HTTPSession

    def session_on_local_server(http, base_url, **kwargs):  # 4.3 hard-codes the API URL
        return real_session(http, url + "/2.0", **kwargs)

    bitbucket.httpclientservice.HTTPSession = session_on_local_server
    await poller.reconfigService(
        "team", "repo", branch="feature/widget", auth=("ann", "app-pw"),
        bitbucket_property_whitelist=["bitbucket.id", "bitbucket.source.branch.name"])
    await poller.poll()
    await poller.poll()
    out["bitbucket"] = master.recorded
    return out


answers = {}


def main():
    port = reactor.listenTCP(0, server.Site(Answers(answers)), interface="127.0.0.1")
    result = {}

    async def run():
        result.update(await record(port.getHost().port))

    def start():
        d = defer.ensureDeferred(run())
        d.addErrback(lambda f: (print(f.getTraceback()), result.setdefault("error", True)))
        d.addBoth(lambda _: reactor.stop())

    reactor.callLater(30, reactor.stop)  # never hang
    reactor.callWhenRunning(start)
    reactor.run()
    if "error" in result:
        sys.exit(1)
    (FIXTURES / "pr_pollers_4_3.json").write_text(
        json.dumps(result, indent=1, sort_keys=True, default=str) + "\n")


main()
