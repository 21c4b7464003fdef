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
from buildbot.reporters.utils import BuildReport

log = Logger()

HOSTED_BASE_URL = "https://api.github.com"

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

    def checkConfig(self, token: Any, context: Any = None,  # type: ignore[override]
                    baseURL: str | None = None, verbose: bool = False, debug: Any = None,
                    verify: Any = None, generators: Any = None, **kwargs: Any) -> None:
        super().checkConfig(generators=generators, **kwargs)

    async def reconfigService(self, token: Any, context: Any = None,  # type: ignore[override]
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
        payload: dict[str, Any] = {"state": state}
        if description is not None:
            payload["description"] = description
        if target_url is not None:
            payload["target_url"] = target_url
        if context is not None:
            payload["context"] = context
        headers = await self._get_auth_header(props)
        return await self._http.post(f"/repos/{repo_user}/{repo_name}/statuses/{sha}",
                                     json=payload, headers=headers)

    def is_status_2xx(self, code: int) -> bool:
        return code // 100 == 2

    def _extract_issue(self, props: Properties) -> str | None:
        branch = props.getProperty("branch")
        if branch:
            m = re.search(r"refs/pull/([0-9]*)/(head|merge)", branch)
            if m:
                return m.group(1)
        return None

    def _extract_github_info(self, sourcestamp: dict[str, Any]) -> tuple[Any, Any]:
        project = sourcestamp.get("project")
        repository = sourcestamp.get("repository")
        if project and "/" in project:
            owner, _, name = project.partition("/")
            return owner, name
        if repository:
            url = giturlparse(repository)
            if url is not None:
                return url.owner, url.repo
        return None, None

    async def sendMessage(self, reports: list[dict[str, Any]]) -> None:
        report = BuildReport.first_of(self.master, reports)
        build, props, description = report.build, report.props, report.body
        state = status_state(build)
        context = await props.render(self.context)
        sourcestamps = build["buildset"].get("sourcestamps")
        if not sourcestamps:
            return
        issue = self._extract_issue(props)
        for sourcestamp in sourcestamps:
            repo_owner, repo_name = self._extract_github_info(sourcestamp)
            if not repo_owner or not repo_name:
                log.info("Skipped status update because required repo information is missing.")
                continue
            sha = sourcestamp["revision"]
            if not sha:
                # several codebases: only those with a revision get a status
                log.info("Skipped status update for codebase {codebase}, context "
                         "'{context}', issue {issue}.", codebase=sourcestamp.get("codebase"),
                         context=context, issue=issue)
                continue
            response = None
            try:
                if self.verbose:
                    log.info("Updating github status: repo_owner={owner}, "
                             "repo_name={name}", owner=repo_owner, name=repo_name)
                response = await self.createStatus(
                    repo_user=repo_owner, repo_name=repo_name, sha=sha, state=state,
                    target_url=build["url"], context=context, issue=issue,
                    description=description, props=props)
                if not response:
                    continue
                if not self.is_status_2xx(response.code):
                    raise RuntimeError(f"HTTP {response.code}")
                if self.verbose:
                    log.info('Updated status with "{state}" for {owner}/{name} at {sha}, '
                             'context "{context}", issue {issue}.', state=state,
                             owner=repo_owner, name=repo_name, sha=sha, context=context,
                             issue=issue)
            except Exception:  # noqa: BLE001  (one failed status must not stop the others)
                code: Any = "n/a"
                content: Any = "n/a"
                if response is not None:
                    code = response.code
                    content = await response.content()
                log.failure('Failed to update "{state}" for {owner}/{name} at {sha}, context '
                            '"{context}", issue {issue}. http {code}, {content}', state=state,
                            owner=repo_owner, name=repo_name, sha=sha, context=context,
                            issue=issue, code=code, content=content)


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
