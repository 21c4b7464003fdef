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
from buildbot.reporters.utils import merge_reports_prop

log = Logger()

INPROGRESS = "INPROGRESS"
SUCCESSFUL = "SUCCESSFUL"
FAILED = "FAILED"
STATUS_API_URL = "/rest/build-status/1.0/commits/{sha}"
STATUS_CORE_API_URL = "/rest/api/1.0/projects/{proj_key}/repos/{repo_slug}/commits/{sha}/builds"
COMMENT_API_URL = "/rest/api/1.0{path}/comments"
HTTP_PROCESSED = 204
HTTP_CREATED = 201


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

    def checkConfig(self, base_url: str, user: Any, password: Any,  # type: ignore[override]
                    key: Any = None, statusName: Any = None, verbose: bool = False,
                    debug: Any = None, verify: Any = None, generators: Any = None,
                    **kwargs: Any) -> None:
        if generators is None:
            generators = self._create_default_generators()
        super().checkConfig(generators=generators, **kwargs)

    async def reconfigService(self, base_url: str, user: Any,  # type: ignore[override]
                              password: Any, key: Any = None, statusName: Any = None,
                              verbose: bool = False, debug: Any = None, verify: Any = None,
                              generators: Any = None, **kwargs: Any) -> None:
        user, password = await self.renderSecrets(user, password)
        self.debug = debug
        self.verify = verify
        self.verbose = verbose
        if generators is None:
            generators = self._create_default_generators()
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
        report = reports[0]
        build = report["builds"][0]
        props = Properties.fromDict(build.get("properties") or {})
        props.master = self.master
        description = report.get("body", None)
        if build["complete"]:
            state = SUCCESSFUL if build["results"] == SUCCESS else FAILED
        else:
            state = INPROGRESS
        key = await props.render(self.key)
        context = await props.render(self.context) if self.context else None
        for sourcestamp in build["buildset"]["sourcestamps"]:
            sha = sourcestamp["revision"]
            try:
                if sha is None:
                    log.info("Unable to get the commit hash")
                    continue
                res = await self.createStatus(sha=sha, state=state, url=build["url"], key=key,
                                              description=description, context=context)
                if res.code != HTTP_PROCESSED:
                    content = await res.content()
                    log.info("{code}: Unable to send Bitbucket Server status: {content}",
                             code=res.code, content=content)
                elif self.verbose:
                    log.info('Status "{state}" sent for {sha}.', state=state, sha=sha)
            except Exception:  # noqa: BLE001  (one failed status must not stop the others)
                log.failure("Failed to send status '{state}' for {repo} at {sha}", state=state,
                            repo=sourcestamp.get("repository"), sha=sha)


@renderer
def _default_test_results(props: Any) -> Any:
    failed = props.getProperty("tests_failed", 0)
    skipped = props.getProperty("tests_skipped", 0)
    successful = props.getProperty("tests_successful", 0)
    if any([failed, skipped, successful]):
        return {"failed": failed, "skipped": skipped, "successful": successful}
    return None


class BitbucketServerCoreAPIStatusPush(ReporterBase):
    """`reporters.BitbucketServerCoreAPIStatusPush(base_url, token=None, auth=None, ...)`:
    build statuses on `/rest/api/1.0/projects/<key>/repos/<slug>/commits/<sha>/builds`."""

    name: str | None = "BitbucketServerCoreAPIStatusPush"
    secrets: ClassVar[list[str]] = ["token", "auth"]

    def checkConfig(self, base_url: str, token: Any = None,  # type: ignore[override]
                    auth: Any = None, statusName: Any = None, statusSuffix: Any = None,
                    key: Any = None, parentName: Any = None, buildNumber: Any = None,
                    ref: Any = None, duration: Any = None, testResults: Any = None,
                    verbose: bool = False, debug: Any = None, verify: Any = None,
                    generators: Any = None, **kwargs: Any) -> None:
        if generators is None:
            generators = self._create_default_generators()
        super().checkConfig(generators=generators, **kwargs)
        if not base_url:
            config.error("Parameter base_url has to be given")
        if token is not None and auth is not None:
            config.error("Only one authentication method can be given (token or auth)")

    async def reconfigService(self, base_url: str, token: Any = None,  # type: ignore[override]
                              auth: Any = None, statusName: Any = None,
                              statusSuffix: Any = None, key: Any = None,
                              parentName: Any = None, buildNumber: Any = None, ref: Any = None,
                              duration: Any = None, testResults: Any = None,
                              verbose: bool = False, debug: Any = None, verify: Any = None,
                              generators: Any = None, **kwargs: Any) -> None:
        self.status_name = statusName
        self.status_suffix = statusSuffix
        self.key = key or Interpolate("%(prop:buildername)s")
        self.parent_name = parentName
        self.build_number = buildNumber or Interpolate("%(prop:buildnumber)s")
        self.ref = ref
        self.duration = duration
        self.debug = debug
        self.verify = verify
        self.verbose = verbose
        if generators is None:
            generators = self._create_default_generators()
        await super().reconfigService(generators=generators, **kwargs)
        self.test_results = testResults or _default_test_results
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

    async def sendMessage(self, reports: list[dict[str, Any]]) -> None:
        report = reports[0]
        build = report["builds"][0]
        props = Properties.fromDict(build.get("properties") or {})
        props.master = self.master
        description = report.get("body", None)
        duration = None
        test_results = None
        if build["complete"]:
            state = SUCCESSFUL if build["results"] == SUCCESS else FAILED
            if self.duration:
                duration = await props.render(self.duration)
            elif "complete_at" in build:
                duration = int(_epoch(build["complete_at"]) - _epoch(build["started_at"])) * 1000
            if self.test_results:
                test_results = await props.render(self.test_results)
        else:
            state = INPROGRESS

        parent_name = (build.get("parentbuilder") or {}).get("name")
        if self.parent_name:
            parent = await props.render(self.parent_name)
        elif parent_name:
            parent = parent_name
        else:
            parent = build["builder"]["name"]

        if self.status_name:
            status_name = await props.render(self.status_name)
        else:
            build_identifier = props.getProperty("buildnumber") or "(build request)"
            status_name = f'{props.getProperty("buildername")} #{build_identifier}'
            if parent_name:
                status_name = (f"{parent_name} #{build['parentbuild']['number']} "
                               f"\u00bb {status_name}")
        if self.status_suffix:
            status_name = status_name + await props.render(self.status_suffix)

        key = await props.render(self.key)
        build_number = await props.render(self.build_number)
        url = build["url"]
        for sourcestamp in build["buildset"]["sourcestamps"]:
            ssid = sourcestamp.get("ssid")
            sha = sourcestamp.get("revision")
            branch = sourcestamp.get("branch")
            repo = sourcestamp.get("repository")
            proj_key = repo_slug = None
            try:
                if not sha:
                    log.info("Unable to get the commit hash for SSID: {ssid}", ssid=ssid)
                    continue
                ref = None
                if self.ref is None:
                    if branch is not None:
                        ref = branch if branch.startswith("refs/") else f"refs/heads/{branch}"
                else:
                    ref = await props.render(self.ref)
                if not ref:
                    log.info("WARNING: Unable to resolve ref for SSID: {ssid}. Build status "
                             "will not be visible on Builds or PullRequest pages only for "
                             "commits", ssid=ssid)
                m = re.search(r"^.*?/([^/]+)/([^/]+?)(?:\.git)?$", repo or "")
                if m is None:
                    log.info("Unable to parse repository info from '{repo}' for SSID: {ssid}",
                             repo=repo, ssid=ssid)
                    continue
                proj_key, repo_slug = m.group(1), m.group(2)
                res = await self.createStatus(
                    proj_key=proj_key, repo_slug=repo_slug, sha=sha, state=state, url=url,
                    key=key, parent=parent, build_number=build_number, ref=ref,
                    description=description, name=status_name, duration=duration,
                    test_results=test_results)
                if res.code != HTTP_PROCESSED:
                    content = await res.content()
                    log.info("{code}: Unable to send Bitbucket Server status for "
                             "{proj}/{repo} {sha}: {content}", code=res.code, proj=proj_key,
                             repo=repo_slug, sha=sha, content=content)
                elif self.verbose:
                    log.info('Status "{state}" sent for {proj}/{repo} {sha}', state=state,
                             proj=proj_key, repo=repo_slug, sha=sha)
            except Exception:  # noqa: BLE001  (one failed status must not stop the others)
                log.failure('Failed to send status "{state}" for {proj}/{repo} {sha}',
                            state=state, proj=proj_key, repo=repo_slug, sha=sha)


class BitbucketServerPRCommentPush(ReporterBase):
    """`reporters.BitbucketServerPRCommentPush(base_url, user, password, ...)`: posts the
    report body as a comment on the pull request named by the `pullrequesturl` property."""

    name: str | None = "BitbucketServerPRCommentPush"

    def checkConfig(self, base_url: str, user: Any, password: Any,  # type: ignore[override]
                    verbose: bool = False, debug: Any = None, verify: Any = None,
                    generators: Any = None, **kwargs: Any) -> None:
        if generators is None:
            generators = self._create_default_generators()
        super().checkConfig(generators=generators, **kwargs)

    async def reconfigService(self, base_url: str, user: Any,  # type: ignore[override]
                              password: Any, verbose: bool = False, debug: Any = None,
                              verify: Any = None, generators: Any = None,
                              **kwargs: Any) -> None:
        user, password = await self.renderSecrets(user, password)
        self.verbose = verbose
        if generators is None:
            generators = self._create_default_generators()
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
        pr_urls = []
        for build in builds:
            url = Properties.fromDict(build.get("properties") or {}).getProperty(
                "pullrequesturl")
            if url is not None and url not in pr_urls:
                pr_urls.append(url)
        for pr_url in pr_urls:
            try:
                res = await self.sendComment(pr_url=pr_url, text=body)
                if res.code != HTTP_CREATED:
                    content = await res.content()
                    log.info("{code}: Unable to send a comment: {content}", code=res.code,
                             content=content)
                elif self.verbose:
                    log.info("Comment sent to {url}", url=pr_url)
            except Exception:  # noqa: BLE001  (one failed comment must not stop the others)
                log.failure('Failed to send a comment to "{url}"', url=pr_url)
