"""GitHub reporters: commit statuses (`GitHubStatusPush`) and pull request comments
(`GitHubCommentPush`) through the REST API."""

from __future__ import annotations

import re
from typing import Any

from twisted.logger import Logger

from buildbot.process.properties import Interpolate, Properties
from buildbot.process.results import (
    CANCELLED,
    EXCEPTION,
    FAILURE,
    RETRY,
    SKIPPED,
    SUCCESS,
    WARNINGS,
)
from buildbot.reporters.base import ReporterBase
from buildbot.reporters.generators.build import BuildStartEndStatusGenerator
from buildbot.reporters.generators.buildrequest import BuildRequestGenerator
from buildbot.reporters.giturl import giturlparse
from buildbot.reporters.http_session import http_session
from buildbot.reporters.message import MessageFormatterRenderable
from buildbot.reporters.utils import BuildReport, given_only

log = Logger()

HOSTED_BASE_URL = "https://api.github.com"
_PULL_REQUEST_REF = re.compile(r"refs/pull/([0-9]*)/(head|merge)")

_STATES = {
    SUCCESS: "success",
    WARNINGS: "success",
    FAILURE: "failure",
    SKIPPED: "success",
    EXCEPTION: "error",
    RETRY: "pending",
    CANCELLED: "error",
}


def status_state(build: dict[str, Any]) -> str:
    """The GitHub commit state of a build: `pending` until complete, then by result."""
    if not build["complete"]:
        return "pending"
    return _STATES.get(build["results"], "error")


class GitHubStatusPush(ReporterBase):
    """`reporters.GitHubStatusPush(token, context=None, baseURL=None, ...)`: one status per
    source stamp with a revision, on `/repos/<owner>/<repo>/statuses/<sha>`."""

    name: str | None = "GitHubStatusPush"

    def checkConfig(self, token: Any, context: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    baseURL: str | None = None, verbose: bool = False, debug: Any = None,
                    verify: Any = None, generators: Any = None, **kwargs: Any) -> None:
        super().checkConfig(generators=generators, **kwargs)

    async def reconfigService(self, token: Any, context: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              baseURL: str | None = None, verbose: bool = False,
                              debug: Any = None, verify: Any = None, generators: Any = None,
                              **kwargs: Any) -> None:
        self.token = token
        self.verbose = verbose
        self.context = self.setup_context(context)
        await super().reconfigService(generators=generators, **kwargs)
        self._http = await http_session(self, baseURL or HOSTED_BASE_URL,
                                        headers={"User-Agent": "Buildbot"}, debug=debug,
                                        verify=verify)

    def setup_context(self, context: Any) -> Any:
        return context or Interpolate("buildbot/%(prop:buildername)s")

    def _create_default_generators(self) -> list[Any]:
        return [
            BuildRequestGenerator(formatter=MessageFormatterRenderable("Build pending.")),
            BuildStartEndStatusGenerator(
                start_formatter=MessageFormatterRenderable("Build started."),
                end_formatter=MessageFormatterRenderable("Build done.")),
        ]

    async def _get_auth_header(self, props: Properties) -> dict[str, str]:
        token = await props.render(self.token)
        return {"Authorization": f"token {token}"}

    async def createStatus(self, repo_user: str, repo_name: str, sha: str, state: str,
                           props: Properties, target_url: str | None = None,
                           context: str | None = None, issue: str | None = None,
                           description: str | None = None) -> Any:
        """POST one commit status; the response (or None when nothing was sent)."""
        payload = {"state": state, **given_only(description=description, target_url=target_url,
                                                context=context)}
        headers = await self._get_auth_header(props)
        return await self._http.post(f"/repos/{repo_user}/{repo_name}/statuses/{sha}",
                                     json=payload, headers=headers)

    def is_status_2xx(self, code: int) -> bool:
        return code // 100 == 2

    def _extract_issue(self, props: Properties) -> str | None:
        """The pull request number of a `refs/pull/<n>/head|merge` branch."""
        found = _PULL_REQUEST_REF.search(props.getProperty("branch") or "")
        return found.group(1) if found else None

    def _extract_github_info(self, sourcestamp: dict[str, Any]) -> tuple[Any, Any]:
        """(owner, repository name): from an "owner/name" project, else from the URL."""
        project = sourcestamp.get("project") or ""
        if "/" in project:
            owner, _, name = project.partition("/")
            return owner, name
        repository = sourcestamp.get("repository")
        url = giturlparse(repository) if repository else None
        return (url.owner, url.repo) if url is not None else (None, None)

    async def sendMessage(self, reports: list[dict[str, Any]]) -> None:
        report = BuildReport.first_of(self.master, reports)
        if not report.build["buildset"].get("sourcestamps"):
            return
        status = {"state": status_state(report.build),
                  "context": await report.render(self.context),
                  "issue": self._extract_issue(report.props)}
        for sourcestamp in report.build["buildset"]["sourcestamps"]:
            owner, name = self._extract_github_info(sourcestamp)
            if not owner or not name:
                log.info("Skipped status update because required repo information is missing.")
            elif not sourcestamp["revision"]:
                # several codebases: only those with a revision get a status
                log.info("Skipped status update for codebase {codebase}, context "
                         "'{context}', issue {issue}.", codebase=sourcestamp.get("codebase"),
                         **status)
            else:
                await self._push_status(report, owner, name, sourcestamp["revision"], status)

    async def _push_status(self, report: BuildReport, owner: str, name: str, sha: str,
                           status: dict[str, Any]) -> None:
        where = {"owner": owner, "name": name, "sha": sha, **status}
        if self.verbose:
            log.info("Updating github status: repo_owner={owner}, repo_name={name}", **where)
        response = None
        try:
            response = await self.createStatus(
                repo_user=owner, repo_name=name, sha=sha, target_url=report.build["url"],
                description=report.body, props=report.props, **status)
            if response and not self.is_status_2xx(response.code):
                raise RuntimeError(f"HTTP {response.code}")
        except Exception:  # noqa: BLE001  (one failed status must not stop the others)
            answer: dict[str, Any] = {"code": "n/a", "content": "n/a"}
            if response is not None:
                answer = {"code": response.code, "content": await response.content()}
            log.failure('Failed to update "{state}" for {owner}/{name} at {sha}, context '
                        '"{context}", issue {issue}. http {code}, {content}', **where, **answer)
            return
        if response and self.verbose:
            log.info('Updated status with "{state}" for {owner}/{name} at {sha}, context '
                     '"{context}", issue {issue}.', **where)


class GitHubCommentPush(GitHubStatusPush):
    """Posts the end-of-build message as a comment on the pull request the build's branch
    (`refs/pull/<n>/head|merge`) belongs to."""

    name = "GitHubCommentPush"

    def setup_context(self, context: Any) -> Any:
        return ""

    def _create_default_generators(self) -> list[Any]:
        return [BuildStartEndStatusGenerator(
            start_formatter=MessageFormatterRenderable(None),
            end_formatter=MessageFormatterRenderable("Build done."))]

    async def sendMessage(self, reports: list[dict[str, Any]]) -> None:
        if reports[0].get("body") is None:
            return
        await super().sendMessage(reports)

    async def createStatus(self, repo_user: str, repo_name: str, sha: str, state: str,
                           props: Properties, target_url: str | None = None,
                           context: str | None = None, issue: str | None = None,
                           description: str | None = None) -> Any:
        if issue is None:
            log.info("Skipped status update for repo {name} sha {sha} as issue is not "
                     "specified", name=repo_name, sha=sha)
            return None
        headers = await self._get_auth_header(props)
        return await self._http.post(f"/repos/{repo_user}/{repo_name}/issues/{issue}/comments",
                                     json={"body": description}, headers=headers)
