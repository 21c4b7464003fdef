"""Bitbucket Server (Stash) reporters: build statuses through the build-status API
(`BitbucketServerStatusPush`) or the core API (`BitbucketServerCoreAPIStatusPush`), and
pull request comments (`BitbucketServerPRCommentPush`)."""

from __future__ import annotations

import datetime
import re
from typing import Any, ClassVar
from urllib.parse import urlparse

from twisted.logger import Logger

from buildbot import config
from buildbot.process.properties import Interpolate, Properties, renderer
from buildbot.process.results import SUCCESS
from buildbot.reporters.base import ReporterBase
from buildbot.reporters.generators.build import (
    BuildStartEndStatusGenerator,
    BuildStatusGenerator,
)
from buildbot.reporters.generators.buildrequest import BuildRequestGenerator
from buildbot.reporters.http_session import http_session
from buildbot.reporters.message import MessageFormatterRenderable
from buildbot.reporters.utils import BuildReport, merge_reports_prop

log = Logger()

INPROGRESS = "INPROGRESS"
SUCCESSFUL = "SUCCESSFUL"
FAILED = "FAILED"
STATUS_API_URL = "/rest/build-status/1.0/commits/{sha}"
STATUS_CORE_API_URL = "/rest/api/1.0/projects/{proj_key}/repos/{repo_slug}/commits/{sha}/builds"
COMMENT_API_URL = "/rest/api/1.0{path}/comments"
HTTP_PROCESSED = 204
HTTP_CREATED = 201
# project key and repository slug: the last two path parts of the clone URL
_REPO_PATH = re.compile(r"^.*?/([^/]+)/([^/]+?)(?:\.git)?$")


def commit_state(build: dict[str, Any]) -> str:
    """Bitbucket's build state: in progress until complete, then successful or failed."""
    if not build["complete"]:
        return INPROGRESS
    return SUCCESSFUL if build["results"] == SUCCESS else FAILED


async def _post_and_log(request: Any, expected_code: int, verbose: bool, failure_text: str,
                        success_text: str, **fields: Any) -> None:
    # Each reporter here logs a refused request with the server's answer, and an
    # accepted one only when verbose.
    response = await request
    if response.code != expected_code:
        log.info(failure_text, code=response.code, content=await response.content(), **fields)
    elif verbose:
        log.info(success_text, **fields)

def _start_end_generators(pending: bool) -> list[Any]:
    generators: list[Any] = []
    if pending:
        generators.append(BuildRequestGenerator(
            formatter=MessageFormatterRenderable("Build pending.")))
    generators.append(BuildStartEndStatusGenerator(
        start_formatter=MessageFormatterRenderable("Build started."),
        end_formatter=MessageFormatterRenderable("Build done.")))
    return generators


def _epoch(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return value


class BitbucketServerStatusPush(ReporterBase):
    """`reporters.BitbucketServerStatusPush(base_url, user, password, key=None,
    statusName=None, ...)`."""

    name: str | None = "BitbucketServerStatusPush"

    def checkConfig(self, base_url: str, user: Any, password: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    key: Any = None, statusName: Any = None, verbose: bool = False,
                    debug: Any = None, verify: Any = None, generators: Any = None,
                    **kwargs: Any) -> None:
        super().checkConfig(generators=generators, **kwargs)

    async def reconfigService(self, base_url: str, user: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              password: Any, key: Any = None, statusName: Any = None,
                              verbose: bool = False, debug: Any = None, verify: Any = None,
                              generators: Any = None, **kwargs: Any) -> None:
        user, password = await self.renderSecrets(user, password)
        self.verbose = verbose
        await super().reconfigService(generators=generators, **kwargs)
        self.key = key or Interpolate("%(prop:buildername)s")
        self.context = statusName
        self._http = await http_session(self, base_url, auth=(user, password), debug=debug,
                                        verify=verify)

    def _create_default_generators(self) -> list[Any]:
        return _start_end_generators(pending=False)

    def createStatus(self, sha: str, state: str, url: str, key: str,
                     description: str | None = None, context: str | None = None) -> Any:
        payload: dict[str, Any] = {"state": state, "url": url, "key": key}
        if description:
            payload["description"] = description
        if context:
            payload["name"] = context
        return self._http.post(STATUS_API_URL.format(sha=sha), json=payload)

    async def sendMessage(self, reports: list[dict[str, Any]]) -> None:
        report = BuildReport.first_of(self.master, reports)
        state = commit_state(report.build)
        key = await report.render(self.key)
        name = await report.render(self.context) if self.context else None
        for sourcestamp in report.build["buildset"]["sourcestamps"]:
            sha = sourcestamp["revision"]
            if sha is None:
                log.info("Unable to get the commit hash")
                continue
            try:
                await _post_and_log(
                    self.createStatus(sha=sha, state=state, url=report.build["url"], key=key,
                                      description=report.body, context=name),
                    HTTP_PROCESSED, self.verbose,
                    "{code}: Unable to send Bitbucket Server status: {content}",
                    'Status "{state}" sent for {sha}.', state=state, sha=sha)
            except Exception:  # noqa: BLE001  (one failed status must not stop the others)
                log.failure("Failed to send status '{state}' for {repo} at {sha}", state=state,
                            repo=sourcestamp.get("repository"), sha=sha)


_TEST_COUNT_PROPERTIES = {"failed": "tests_failed", "skipped": "tests_skipped",
                          "successful": "tests_successful"}


@renderer
def _default_test_results(props: Any) -> Any:
    # the test counts a step published as properties; nothing when none is set or non-zero
    counts = {key: props.getProperty(prop, 0) for key, prop in _TEST_COUNT_PROPERTIES.items()}
    return counts if any(counts.values()) else None


class BitbucketServerCoreAPIStatusPush(ReporterBase):
    """`reporters.BitbucketServerCoreAPIStatusPush(base_url, token=None, auth=None, ...)`:
    build statuses on `/rest/api/1.0/projects/<key>/repos/<slug>/commits/<sha>/builds`."""

    name: str | None = "BitbucketServerCoreAPIStatusPush"
    secrets: ClassVar[list[str]] = ["token", "auth"]

    def checkConfig(self, base_url: str, token: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    auth: Any = None, statusName: Any = None, statusSuffix: Any = None,
                    key: Any = None, parentName: Any = None, buildNumber: Any = None,
                    ref: Any = None, duration: Any = None, testResults: Any = None,
                    verbose: bool = False, debug: Any = None, verify: Any = None,
                    generators: Any = None, **kwargs: Any) -> None:
        super().checkConfig(generators=generators, **kwargs)
        if not base_url:
            config.error("Parameter base_url has to be given")
        if token is not None and auth is not None:
            config.error("Only one authentication method can be given (token or auth)")

    async def reconfigService(self, base_url: str, token: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              auth: Any = None, statusName: Any = None,
                              statusSuffix: Any = None, key: Any = None,
                              parentName: Any = None, buildNumber: Any = None, ref: Any = None,
                              duration: Any = None, testResults: Any = None,
                              verbose: bool = False, debug: Any = None, verify: Any = None,
                              generators: Any = None, **kwargs: Any) -> None:
        await super().reconfigService(generators=generators, **kwargs)
        self.verbose = verbose
        # renderables of the payload; None: the default described in 4.3's documentation
        self.key = key or Interpolate("%(prop:buildername)s")
        self.build_number = buildNumber or Interpolate("%(prop:buildnumber)s")
        self.test_results = testResults or _default_test_results
        self.status_name, self.status_suffix = statusName, statusSuffix
        self.parent_name, self.ref, self.duration = parentName, ref, duration
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = await http_session(self, base_url, auth=auth, headers=headers, debug=debug,
                                        verify=verify)

    def _create_default_generators(self) -> list[Any]:
        return _start_end_generators(pending=True)

    def createStatus(self, proj_key: str, repo_slug: str, sha: str, state: str, url: str,
                     key: str, parent: str, build_number: Any, ref: Any, description: Any,
                     name: str, duration: Any, test_results: Any) -> Any:
        payload = {
            "state": state,
            "url": url,
            "key": key,
            "parent": parent,
            "ref": ref,
            "buildNumber": build_number,
            "description": description,
            "name": name,
            "duration": duration,
            "testResults": test_results,
        }
        if self.verbose:
            log.info("Sending payload: '{payload}' for {proj}/{repo} {sha}.", payload=payload,
                     proj=proj_key, repo=repo_slug, sha=sha)
        return self._http.post(STATUS_CORE_API_URL.format(proj_key=proj_key,
                                                          repo_slug=repo_slug, sha=sha),
                               json=payload)

    async def _parent_of(self, report: BuildReport) -> str:
        if self.parent_name:
            return str(await report.render(self.parent_name))
        # the triggering build's builder, else the build's own
        parent_builder_name = (report.build.get("parentbuilder") or {}).get("name")
        return str(parent_builder_name or report.build["builder"]["name"])

    async def _status_name_of(self, report: BuildReport) -> str:
        if self.status_name:
            name = await report.render(self.status_name)
        else:
            number = report.props.getProperty("buildnumber") or "(build request)"
            name = f'{report.props.getProperty("buildername")} #{number}'
            parent_builder = report.build.get("parentbuilder")
            if parent_builder and parent_builder.get("name"):
                parent_number = report.build["parentbuild"]["number"]
                name = f"{parent_builder['name']} #{parent_number} \u00bb {name}"
        if self.status_suffix:
            name += await report.render(self.status_suffix)
        return str(name)

    async def _finished_details(self, report: BuildReport) -> tuple[Any, Any]:
        """(duration in ms, test results) of a complete build; (None, None) before."""
        build = report.build
        if not build["complete"]:
            return None, None
        if self.duration:
            duration = await report.render(self.duration)
        elif "complete_at" in build:
            elapsed = _epoch(build["complete_at"]) - _epoch(build["started_at"])
            duration = int(elapsed) * 1000
        else:
            duration = None
        tests = await report.render(self.test_results) if self.test_results else None
        return duration, tests

    async def _ref_of(self, report: BuildReport, branch: str | None) -> Any:
        if self.ref is not None:
            return await report.render(self.ref)
        if branch is None or branch.startswith("refs/"):
            return branch
        return f"refs/heads/{branch}"

    async def sendMessage(self, reports: list[dict[str, Any]]) -> None:
        report = BuildReport.first_of(self.master, reports)
        duration, test_results = await self._finished_details(report)
        common = {
            "state": commit_state(report.build), "url": report.build["url"],
            "parent": await self._parent_of(report),
            "name": await self._status_name_of(report),
            "key": await report.render(self.key),
            "build_number": await report.render(self.build_number),
            "description": report.body, "duration": duration, "test_results": test_results,
        }
        for sourcestamp in report.build["buildset"]["sourcestamps"]:
            await self._send_for_sourcestamp(report, sourcestamp, common)

    async def _send_for_sourcestamp(self, report: BuildReport, sourcestamp: dict[str, Any],
                                    common: dict[str, Any]) -> None:
        ssid, sha = sourcestamp.get("ssid"), sourcestamp.get("revision")
        where = {"state": common["state"], "sha": sha, "proj": None, "repo": None}
        try:
            if not sha:
                log.info("Unable to get the commit hash for SSID: {ssid}", ssid=ssid)
                return
            ref = await self._ref_of(report, sourcestamp.get("branch"))
            if not ref:
                log.info("WARNING: Unable to resolve ref for SSID: {ssid}. Build status "
                         "will not be visible on Builds or PullRequest pages only for "
                         "commits", ssid=ssid)
            repository = sourcestamp.get("repository")
            found = _REPO_PATH.search(repository or "")
            if found is None:
                log.info("Unable to parse repository info from '{repo}' for SSID: {ssid}",
                         repo=repository, ssid=ssid)
                return
            where["proj"], where["repo"] = found.groups()
            await _post_and_log(
                self.createStatus(proj_key=where["proj"], repo_slug=where["repo"], sha=sha,
                                  ref=ref, **common),
                HTTP_PROCESSED, self.verbose,
                "{code}: Unable to send Bitbucket Server status for {proj}/{repo} {sha}: "
                "{content}", 'Status "{state}" sent for {proj}/{repo} {sha}', **where)
        except Exception:  # noqa: BLE001  (one failed status must not stop the others)
            log.failure('Failed to send status "{state}" for {proj}/{repo} {sha}', **where)


class BitbucketServerPRCommentPush(ReporterBase):
    """`reporters.BitbucketServerPRCommentPush(base_url, user, password, ...)`: posts the
    report body as a comment on the pull request named by the `pullrequesturl` property."""

    name: str | None = "BitbucketServerPRCommentPush"

    def checkConfig(self, base_url: str, user: Any, password: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    verbose: bool = False, debug: Any = None, verify: Any = None,
                    generators: Any = None, **kwargs: Any) -> None:
        super().checkConfig(generators=generators, **kwargs)

    async def reconfigService(self, base_url: str, user: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              password: Any, verbose: bool = False, debug: Any = None,
                              verify: Any = None, generators: Any = None,
                              **kwargs: Any) -> None:
        user, password = await self.renderSecrets(user, password)
        self.verbose = verbose
        await super().reconfigService(generators=generators, **kwargs)
        self._http = await http_session(self, base_url, auth=(user, password), debug=debug,
                                        verify=verify)

    def _create_default_generators(self) -> list[Any]:
        return [BuildStatusGenerator()]

    def sendComment(self, pr_url: str, text: str) -> Any:
        path = urlparse(pr_url).path
        return self._http.post(COMMENT_API_URL.format(path=path), json={"text": text})

    async def sendMessage(self, reports: list[dict[str, Any]]) -> None:
        body = merge_reports_prop(reports, "body")
        builds = merge_reports_prop(reports, "builds") or []
        # one comment per pull request, even when several builds of it are reported
        pr_urls = dict.fromkeys(
            url for url in (Properties.fromDict(b.get("properties") or {})
                            .getProperty("pullrequesturl") for b in builds)
            if url is not None)
        for pr_url in pr_urls:
            try:
                await _post_and_log(self.sendComment(pr_url=pr_url, text=body), HTTP_CREATED,
                                    self.verbose, "{code}: Unable to send a comment: {content}",
                                    "Comment sent to {url}", url=pr_url)
            except Exception:  # noqa: BLE001  (one failed comment must not stop the others)
                log.failure('Failed to send a comment to "{url}"', url=pr_url)
