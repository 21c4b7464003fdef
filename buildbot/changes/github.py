"""GitHubPullrequestPoller: polls a GitHub repository's open pull requests and reports
each new head revision as a change (with the pull request's fields as `github.*`
properties).

Requests (REST API v3, `baseURL` default https://api.github.com):
`GET /repos/<owner>/<repo>/pulls`, then for each new or updated pull request
`/pulls/<n>`, `/pulls/<n>/commits` and `/pulls/<n>/files`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from twisted.logger import Logger

from buildbot import config
from buildbot.changes.base import ReconfigurablePollingChangeSource
from buildbot.changes.pr_state import PullRequestRevisions
from buildbot.reporters.http_session import http_session
from buildbot.util.misc import bytes2unicode, datetime2epoch
from buildbot.util.pullrequest import PullRequestMixin
from buildbot.util.state import StateMixin

log = Logger()

HOSTED_BASE_URL = "https://api.github.com"
# repository_type -> the repository object's field holding that kind of URL
link_urls = {"https": "clone_url", "svn": "svn_url", "git": "git_url", "ssh": "ssh_url"}


class GitHubPullrequestPoller(ReconfigurablePollingChangeSource, StateMixin, PullRequestMixin):
    """`changes.GitHubPullrequestPoller(owner, repo, branches=None, pollInterval=600,
    category=None, project=None, baseURL=None, pullrequest_filter=True, token=None,
    pollAtLaunch=False, magic_link=False, repository_type="https",
    github_property_whitelist=None)`.

    `getState`/`setState` (StateMixin) keep a subclass's own values under the poller's name;
    the revisions reported are kept apart, under `<owner>/<repo>` as in 4.3.
    """

    db_class_name = "GitHubPullrequestPoller"
    property_basename = "github"
    secrets: ClassVar[tuple[str, ...]] = ("token",)

    def __init__(self, owner: str, repo: str, **kwargs: Any) -> None:
        if not kwargs.get("name"):
            kwargs["name"] = f"GitHubPullrequestPoller:{owner}/{repo}"
        super().__init__(owner, repo, **kwargs)

    def checkConfig(self, owner: str, repo: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    branches: list[str] | None = None, category: Any = "pull",
                    project: str | None = None, baseURL: str | None = None,
                    pullrequest_filter: Any = True, token: Any = None,
                    magic_link: bool = False, repository_type: str = "https",
                    github_property_whitelist: list[str] | None = None,
                    **kwargs: Any) -> None:
        if repository_type not in link_urls:
            config.error("repository_type must be one of {https, svn, git, ssh}")
        super().checkConfig(name=self.name, **kwargs)

    async def reconfigService(self, owner: str, repo: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              branches: list[str] | None = None, pollInterval: float = 10 * 60,
                              category: Any = None, project: str | None = None,
                              baseURL: str | None = None, pullrequest_filter: Any = True,
                              token: Any = None, pollAtLaunch: bool = False,
                              magic_link: bool = False, repository_type: str = "https",
                              github_property_whitelist: list[str] | None = None,
                              **kwargs: Any) -> None:
        await super().reconfigService(name=self.name, pollInterval=pollInterval,
                                      pollAtLaunch=pollAtLaunch, **kwargs)
        headers = {"User-Agent": "Buildbot"}
        if token is not None:
            headers["Authorization"] = f"token {token}"
        self._http = await http_session(self, (baseURL or HOSTED_BASE_URL).rstrip("/"),
                                        headers=headers)
        self.token = token
        self.owner, self.repo = owner, repo
        self.branches = branches
        self.repository_type = link_urls[repository_type]
        self.magic_link = magic_link
        self.external_property_whitelist = github_property_whitelist or []
        self.pullrequest_filter: Callable[[Any], bool] = (
            pullrequest_filter if callable(pullrequest_filter)
            else (lambda _pr: bool(pullrequest_filter)))
        self.category = category if callable(category) else bytes2unicode(category)
        self.project = bytes2unicode(project)
        self._revisions = PullRequestRevisions(self.master, f"{owner}/{repo}",
                                               self.db_class_name)

    def describe(self) -> str:
        return f"GitHubPullrequestPoller watching the GitHub repository {self.owner}/{self.repo}"

    async def _get_json(self, *path: str) -> tuple[int, str, Any]:
        res = await self._http.get("/".join(("/repos", self.owner, self.repo, *path)))
        return res.code, res.url, await res.json()

    async def poll(self) -> None:
        log.debug("GitHubPullrequestPoller: polling GitHub repository {owner}/{repo}, "
                  "branches: {branches}", owner=self.owner, repo=self.repo,
                  branches=self.branches)
        code, url, pulls = await self._get_json("pulls")
        if code != 200:
            message = pulls.get("message", "unknown") if isinstance(pulls, dict) else "unknown"
            log.error("GitHubPullrequestPoller error {code} '{message}' while loading {url}",
                      code=code, message=message, url=url)
            return
        for listed in pulls:
            if self.branches is not None and listed["base"]["ref"] not in self.branches:
                continue
            if not self.pullrequest_filter(listed):
                continue
            number, revision = listed["number"], listed["head"]["sha"]
            if await self._revisions.is_new(number, revision):
                await self._report(number, revision)

    async def _report(self, number: int, revision: str) -> None:
        _, _, pr = await self._get_json("pulls", str(number))
        _, _, commits = await self._get_json("pulls", str(number), "commits")
        _, _, files = await self._get_json("pulls", str(number), "files")
        side = "base" if self.magic_link else "head"
        branch = f"refs/pull/{number}/merge" if self.magic_link else pr["head"]["ref"]
        first = commits[0]["commit"]
        n = pr["commits"]
        # "1 commits": the reference pluralises whenever there is at least one commit
        comments = (f"GitHub Pull Request #{number} ({n} commit{'s' if n > 0 else ''})\n"
                    f"{pr['title']}\n{pr['body']}")
        updated = datetime.strptime(pr["updated_at"], "%Y-%m-%dT%H:%M:%SZ")
        await self.master.data.updates.addChange(
            author=f"{first['author']['name']} <{first['author']['email']}>",
            committer=f"{first['committer']['name']} <{first['committer']['email']}>",
            revision=bytes2unicode(revision), revlink=bytes2unicode(pr["html_url"]),
            comments=comments, when_timestamp=datetime2epoch(updated),
            branch=bytes2unicode(branch), category=self.category,
            project=(self.project if self.project is not None
                     else pr["base"]["repo"]["full_name"]),
            repository=bytes2unicode(pr[side]["repo"][self.repository_type]),
            files=[f["filename"] for f in files],
            properties={"pullrequesturl": pr["html_url"], **self.extractProperties(pr)},
            src="git")
        await self._revisions.set(number, revision)
