"""BitbucketStatusPush: commit build statuses on Bitbucket Cloud (REST 2.0), authenticated
by an app password (`auth=(user, password)`) or OAuth client credentials."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlparse

from twisted.logger import Logger

from buildbot import config
from buildbot.process.properties import Property
from buildbot.reporters.base import ReporterBase
from buildbot.reporters.bitbucketserver import commit_state
from buildbot.reporters.generators.build import BuildStartEndStatusGenerator
from buildbot.reporters.http_session import http_session
from buildbot.reporters.message import MessageFormatter
from buildbot.reporters.utils import BuildReport

log = Logger()

BITBUCKET_INPROGRESS = "INPROGRESS"
BITBUCKET_SUCCESSFUL = "SUCCESSFUL"
BITBUCKET_FAILED = "FAILED"

_BASE_URL = "https://api.bitbucket.org/2.0/repositories"
_OAUTH_URL = "https://bitbucket.org/site/oauth2/access_token"
_GET_TOKEN_DATA = {"grant_type": "client_credentials"}


def _key_hash(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


class BitbucketStatusPush(ReporterBase):
    """`reporters.BitbucketStatusPush(oauth_key=None, oauth_secret=None, auth=None, ...)`:
    POST `/<owner>/<repo>/commit/<sha>/statuses/build` for each source stamp."""

    debug: Any = None  # set by http_session from the `debug` argument

    name: str | None = "BitbucketStatusPush"

    def checkConfig(self, oauth_key: Any = None, oauth_secret: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    auth: Any = None, base_url: str = _BASE_URL, oauth_url: str = _OAUTH_URL,
                    debug: Any = None, verify: Any = None, status_key: Any = None,
                    status_name: Any = None, generators: Any = None, **kwargs: Any) -> None:
        if auth is not None and (oauth_key is not None or oauth_secret is not None):
            config.error("Either App Passwords or OAuth can be specified, not both")
        super().checkConfig(generators=generators, **kwargs)

    async def reconfigService(self, oauth_key: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              oauth_secret: Any = None, auth: Any = None,
                              base_url: str = _BASE_URL, oauth_url: str = _OAUTH_URL,
                              debug: Any = None, verify: Any = None, status_key: Any = None,
                              status_name: Any = None, generators: Any = None,
                              **kwargs: Any) -> None:
        oauth_key, oauth_secret = await self.renderSecrets(oauth_key, oauth_secret)
        self.auth = await self.renderSecrets(auth)
        self.base_url = base_url
        self.status_key = status_key or Property("buildername")
        self.status_name = status_name or Property("buildername")
        await super().reconfigService(generators=generators, **kwargs)
        self._http = await http_session(self, base_url, debug=debug, verify=verify,
                                        auth=self.auth)
        self.oauthhttp = None
        if self.auth is None:
            self.oauthhttp = await http_session(self, oauth_url, auth=(oauth_key, oauth_secret),
                                                debug=debug, verify=verify)

    def _create_default_generators(self) -> list[Any]:
        return [BuildStartEndStatusGenerator(
            start_formatter=MessageFormatter(subject="", template=""),
            end_formatter=MessageFormatter(subject="", template=""))]

    async def sendMessage(self, reports: list[dict[str, Any]]) -> None:
        if not self.auth:
            assert self.oauthhttp is not None
            request = await self.oauthhttp.post("", data=_GET_TOKEN_DATA)
            if request.code != 200:
                content = await request.content()
                log.info("{code}: unable to authenticate to Bitbucket {content}",
                         code=request.code, content=content)
                return
            token = (await request.json())["access_token"]
            self._http.update_headers({"Authorization": f"Bearer {token}"})

        report = BuildReport.first_of(self.master, reports)
        build = report.build
        body = {
            "state": commit_state(build),
            "key": _key_hash(await report.render(self.status_key)),
            "name": await report.render(self.status_name),
            "description": reports[0]["subject"],
            "url": build["url"],
        }
        for sourcestamp in build["buildset"]["sourcestamps"]:
            if not sourcestamp["repository"]:
                log.info("Empty repository URL for Bitbucket status {body}", body=body)
                continue
            owner, repo = self.get_owner_and_repo(sourcestamp["repository"])
            uri = f"/{owner}/{repo}/commit/{sourcestamp['revision']}/statuses/build"
            if self.debug:
                log.info("Bitbucket status {uri} {body}", uri=uri, body=body)
            response = await self._http.post(uri, json=body)
            if response.code not in (200, 201):
                content = await response.content()
                log.info("{code}: unable to upload Bitbucket status {content}",
                         code=response.code, content=content)

    def get_owner_and_repo(self, repourl: str) -> tuple[str, str]:
        """(owner, repo) of a Bitbucket repository URL: `git@bitbucket.org:OWNER/REPO.git`,
        `https://bitbucket.org/OWNER/REPO.git`, `ssh://git@bitbucket.org/OWNER/REPO.git` or
        an API URL under `base_url`."""
        parsed = urlparse(repourl)
        base_path = urlparse(self.base_url).path
        if parsed.path.startswith(base_path):
            path = parsed.path.replace(base_path, "")
        elif parsed.scheme:
            path = parsed.path
        else:
            path = parsed.path.split(":", 1)[-1]
        path = path.lstrip("/").removesuffix(".git").rstrip("/")
        parts = path.split("/")
        if len(parts) != 2:
            raise ValueError(f"OWNER/REPONAME is expected: {repourl}")
        return parts[0], parts[1]
