"""GitLabStatusPush: commit statuses through GitLab's REST API (v4)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

from twisted.logger import Logger

from buildbot.process.properties import Interpolate
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

HOSTED_BASE_URL = "https://gitlab.com"

_STATES = {
    SUCCESS: "success",
    WARNINGS: "success",
    FAILURE: "failed",
    SKIPPED: "success",
    EXCEPTION: "failed",
    RETRY: "pending",
    CANCELLED: "canceled",
}


def status_state(build: dict[str, Any]) -> str:
    """GitLab's state for a build: pending (a request), running (started), then by result."""
    if build["complete"]:
        return _STATES.get(build["results"], "failed")
    if build.get("started_at"):
        return "running"
    return "pending"


class GitLabStatusPush(ReporterBase):
    """`reporters.GitLabStatusPush(token, context=None, baseURL=None, ...)`: a status per
    source stamp on `/api/v4/projects/<id>/statuses/<sha>` (the project id is looked up once
    from the repository URL, or taken from the `source_project_id` property)."""

    name: str | None = "GitLabStatusPush"

    def checkConfig(self, token: Any, context: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    baseURL: str | None = None, verbose: bool = False, debug: Any = None,
                    verify: Any = None, generators: Any = None, **kwargs: Any) -> None:
        super().checkConfig(generators=generators, **kwargs)

    async def reconfigService(self, token: Any, context: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              baseURL: str | None = None, verbose: bool = False,
                              debug: Any = None, verify: Any = None, generators: Any = None,
                              **kwargs: Any) -> None:
        token = await self.renderSecrets(token)
        self.verbose = verbose
        self.context = context or Interpolate("buildbot/%(prop:buildername)s")
        await super().reconfigService(generators=generators, **kwargs)
        self.baseURL = (baseURL or HOSTED_BASE_URL).rstrip("/")
        self._http = await http_session(self, self.baseURL, headers={"PRIVATE-TOKEN": token},
                                        debug=debug, verify=verify)
        self.project_ids: dict[str, Any] = {}

    def _create_default_generators(self) -> list[Any]:
        return [
            BuildRequestGenerator(formatter=MessageFormatterRenderable("Build pending.")),
            BuildStartEndStatusGenerator(
                start_formatter=MessageFormatterRenderable("Build started."),
                end_formatter=MessageFormatterRenderable("Build done.")),
        ]

    def createStatus(self, project_id: Any, branch: Any, sha: str, state: str,
                     target_url: str | None = None, description: str | None = None,
                     context: str | None = None) -> Any:
        """POST one commit status (Deferred of the response)."""
        payload = {"state": state, "ref": branch,
                   **given_only(description=description, target_url=target_url, name=context)}
        return self._http.post(f"/api/v4/projects/{project_id}/statuses/{sha}", json=payload)

    async def getProjectId(self, sourcestamp: dict[str, Any]) -> Any:
        """GitLab's id of the source stamp's project (cached), or None if unknown."""
        url = giturlparse(sourcestamp.get("repository") or "")
        if url is None:
            return None
        full_name = quote_plus(f"{url.owner}/{url.repo}")
        if full_name not in self.project_ids:
            response = await self._http.get(f"/api/v4/projects/{full_name}")
            try:
                proj = await response.json()
            except ValueError:
                proj = {}
            if response.code != 200:
                log.info("Unknown (or hidden) gitlab project{name}: {message}", name=full_name,
                         message=proj.get("message") if isinstance(proj, dict) else None)
                return None
            self.project_ids[full_name] = proj["id"]
        return self.project_ids[full_name]

    async def sendMessage(self, reports: list[dict[str, Any]]) -> None:
        report = BuildReport.first_of(self.master, reports)
        build, props, description = report.build, report.props, report.body
        state = status_state(build)
        context = await props.render(self.context)
        for sourcestamp in build["buildset"]["sourcestamps"]:
            sha = sourcestamp["revision"]
            repository = sourcestamp.get("repository")
            try:
                # a merge request build reports on its source project and branch
                proj_id = props.getProperty("source_project_id")
                if "source_project_id" not in props:
                    proj_id = await self.getProjectId(sourcestamp)
                if proj_id is None:
                    continue
                branch = props.getProperty("source_branch", sourcestamp["branch"])
                res = await self.createStatus(project_id=proj_id, branch=branch, sha=sha,
                                              state=state, target_url=build["url"],
                                              context=context, description=description)
                if res.code not in (200, 201, 204):
                    try:
                        message = (await res.json()).get("message", "unspecified error")
                    except (ValueError, AttributeError):
                        message = "unspecified error"
                    log.info('Could not send status "{state}" for {repo} at {sha}: {message}',
                             state=state, repo=repository, sha=sha, message=message)
                elif self.verbose:
                    log.info('Status "{state}" sent for {repo} at {sha}.', state=state,
                             repo=repository, sha=sha)
            except Exception:  # noqa: BLE001  (one failed status must not stop the others)
                log.failure('Failed to send status "{state}" for {repo} at {sha}', state=state,
                            repo=repository, sha=sha)
