"""BitbucketPullrequestPoller: polls a Bitbucket Cloud repository's open pull requests
and reports each new head revision as a change (`bitbucket.*` properties).

Requests: `GET <api>/repositories/<owner>/<slug>/pullrequests`, then, for a new or updated
pull request, the links its payload gives: the pull request itself (for the filter), its
head commit, that commit's diff (for the added and modified files) and the source
repository.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot.changes.base import ReconfigurablePollingChangeSource
from buildbot.changes.pr_state import PullRequestRevisions
from buildbot.reporters.http_session import http_session
from buildbot.util.misc import bytes2unicode, datetime2epoch, epoch2datetime
from buildbot.util.pullrequest import PullRequestMixin

log = Logger()

# Not configurable in 4.3 either (Bitbucket Cloud only); tests point it elsewhere.
BITBUCKET_API_URL = "https://api.bitbucket.org/2.0"


_HUNK_HEADER = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


def files_added_or_modified(diff: str) -> list[str]:
    """Paths of the files a (git-style or plain) unified diff adds or modifies; removed
    files are left out. Hunk bodies are skipped by their line counts, so content lines
    that look like headers do not count."""
    found: list[str] = []
    path: str | None = None
    removed = False
    in_git_header = False
    old_left = new_left = 0
    for line in diff.splitlines():
        if old_left > 0 or new_left > 0:
            tag = line[:1]
            if tag in (" ", ""):
                old_left, new_left = old_left - 1, new_left - 1
            elif tag == "-":
                old_left -= 1
            elif tag == "+":
                new_left -= 1
            continue
        if line.startswith("diff --git "):
            if path is not None and not removed:
                found.append(path)
            path, removed, in_git_header = line.rsplit(" b/", 1)[-1], False, True
        elif line.startswith("--- ") and not in_git_header:
            if path is not None and not removed:
                found.append(path)
            path, removed = None, False
        elif line.startswith("+++ "):
            target = line[4:].split("\t", 1)[0]
            if target == "/dev/null":
                removed = True
            else:
                path = target.removeprefix("b/")
        elif line.startswith("deleted file mode"):
            removed = True
        elif (hunk := _HUNK_HEADER.match(line)) is not None:
            old_left, new_left = int(hunk.group(1) or 1), int(hunk.group(2) or 1)
            in_git_header = False
    if path is not None and not removed:
        found.append(path)
    return found


class BitbucketPullrequestPoller(ReconfigurablePollingChangeSource, PullRequestMixin):
    """`changes.BitbucketPullrequestPoller(owner, slug, branch=None, pollInterval=600,
    useTimestamps=True, category=None, project='', pullrequest_filter=True,
    pollAtLaunch=False, auth=None, bitbucket_property_whitelist=None)`."""

    db_class_name = "BitbucketPullrequestPoller"
    property_basename = "bitbucket"

    def __init__(self, owner: str, slug: str, **kwargs: Any) -> None:
        kwargs["name"] = self.build_name(owner, slug)
        self.initLock = defer.DeferredLock()
        super().__init__(owner, slug, **kwargs)

    def checkConfig(self, owner: str, slug: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    branch: str | list[str] | None = None, pollInterval: float = 10 * 60,
                    useTimestamps: bool = True, category: Any = None, project: str = "",
                    pullrequest_filter: Any = True, pollAtLaunch: bool = False,
                    auth: Any = None,
                    bitbucket_property_whitelist: list[str] | None = None) -> None:
        super().checkConfig(name=self.build_name(owner, slug), pollInterval=pollInterval,
                            pollAtLaunch=pollAtLaunch)

    async def reconfigService(self, owner: str, slug: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              branch: str | list[str] | None = None,
                              pollInterval: float = 10 * 60, useTimestamps: bool = True,
                              category: Any = None, project: str = "",
                              pullrequest_filter: Any = True, pollAtLaunch: bool = False,
                              auth: Any = None,
                              bitbucket_property_whitelist: list[str] | None = None) -> None:
        self.owner, self.slug, self.branch = owner, slug, branch
        self.pullrequest_filter: Callable[[Any], bool] = (
            pullrequest_filter if callable(pullrequest_filter)
            else (lambda _pr: bool(pullrequest_filter)))
        self.useTimestamps = useTimestamps
        self.category = category if callable(category) else bytes2unicode(category)
        self.project = bytes2unicode(project)
        self.external_property_whitelist = bitbucket_property_whitelist or []
        self._http = await http_session(self, BITBUCKET_API_URL, auth=auth)
        # the branch filter is part of the state object's name in 4.3 (None when unset)
        self._revisions = PullRequestRevisions(self.master, f"{owner}/{slug}#{branch}",
                                               self.db_class_name)
        await super().reconfigService(self.build_name(owner, slug), pollInterval=pollInterval,
                                      pollAtLaunch=pollAtLaunch)

    def build_name(self, owner: str, slug: str) -> str:
        """The service name of the poller of `owner/slug` (a subclass may name it its way)."""
        return f"{owner}/{slug}"

    def describe(self) -> str:
        return ("BitbucketPullrequestPoller watching the Bitbucket repository "
                f"{self.owner}/{self.slug}, branch: {self.branch}")

    def poll(self) -> defer.Deferred[None]:
        return self.initLock.run(lambda: defer.ensureDeferred(self._poll_locked()))

    async def _poll_locked(self) -> None:
        log.info("BitbucketPullrequestPoller: polling Bitbucket repository {owner}/{slug}, "
                 "branch: {branch}", owner=self.owner, slug=self.slug, branch=self.branch)
        res = await self._http.get(f"/repositories/{self.owner}/{self.slug}/pullrequests",
                                   timeout=self.pollInterval)
        if res.code != 200:
            log.error("{cls}: error {code} while loading {url}", cls=type(self).__name__,
                      code=res.code, url=res.url)
            return
        listing = await res.json()
        for pr in listing["values"]:
            # a plain `in`: with a string `branch` this is a substring test, as in 4.3
            if self.branch and pr["source"]["branch"]["name"] not in self.branch:
                continue
            number = int(pr["id"])
            # the listing gives a short hash; the full one is stored once reported
            if await self._revisions.is_new(number, pr["source"]["commit"]["hash"]):
                await self._report(number, pr)

    async def _get(self, url: Any) -> Any:
        res = await self._http.get(str(url))
        return await res.json()

    async def _report(self, number: int, pr: dict[str, Any]) -> None:
        if not self.pullrequest_filter(await self._get(pr["links"]["self"]["href"])):
            log.info("pull request does not match filter")
            return
        if self.useTimestamps:  # the timezone offset is ignored, as in 4.3
            updated = datetime.strptime(pr["updated_on"].split(".")[0], "%Y-%m-%dT%H:%M:%S")
        else:
            # (never None for a number)
            updated = epoch2datetime(self.master.reactor.seconds())  # type: ignore[assignment]  # the state keeps a datetime where an int was read
        commit = await self._get(pr["source"]["commit"]["links"]["self"]["href"])
        diff = await self._http.get(str(commit["links"]["diff"]["href"]))
        files = files_added_or_modified((await diff.content()).decode("utf-8", "replace"))
        repo = await self._get(pr["source"]["repository"]["links"]["self"]["href"])
        prlink = pr["links"]["html"]["href"]
        await self.master.data.updates.addChange(
            author=bytes2unicode(pr["author"]["display_name"]), committer=None,
            revision=bytes2unicode(commit["hash"]),
            revlink=bytes2unicode(commit["links"]["html"]["href"]),
            comments=f"pull-request #{number}: {pr['title']}\n{prlink}",
            when_timestamp=datetime2epoch(updated),
            branch=bytes2unicode(pr["source"]["branch"]["name"]), category=self.category,
            project=self.project, repository=bytes2unicode(repo["links"]["html"]["href"]),
            properties={"pullrequesturl": prlink, **self.extractProperties(pr)},
            src="bitbucket", files=files)
        await self._revisions.set(number, commit["hash"])
