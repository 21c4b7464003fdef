"""The `github` dialect: push, pull_request, ping (and workflow_run) events.

Signatures: `X-Hub-Signature-256` (HMAC-SHA256) is checked when present, else
`X-Hub-Signature` (HMAC-SHA1, what the reference checks). Pull request files and the head
commit message are fetched from the GitHub API with treq.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from twisted.logger import Logger
from twisted.web import server

from buildbot.util import bytes2unicode, unicode2bytes
from buildbot.www.hooks.base import BaseHookHandler
from buildbot.www.hooks.util import PullRequestMixin, codebase_for, parse_date

log = Logger()

DEFAULT_SKIPS_PATTERN = [r"\[ *skip *ci *\]", r"\[ *ci *skip *\]"]
DEFAULT_GITHUB_API_URL = "https://api.github.com"
_HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}


class GitHubEventHandler(PullRequestMixin):
    """Turns GitHub webhook deliveries into changes; subclass and add `handle_<event>`
    methods for more events (the `class` option)."""

    property_basename = "github"

    def __init__(self, secret: Any, strict: bool, codebase: Any = None,
                 github_property_whitelist: list[str] | None = None, master: Any = None,
                 skips: list[str] | None = None, github_api_endpoint: str | None = None,
                 pullrequest_ref: str | None = None, token: Any = None, debug: bool = False,
                 verify: bool = True) -> None:
        self._secret = secret
        self._strict = strict
        self._token = token
        self._codebase = codebase
        self.external_property_whitelist = github_property_whitelist or []
        self.pullrequest_ref = pullrequest_ref or "merge"
        self.skips = DEFAULT_SKIPS_PATTERN if skips is None else skips
        self.github_api_endpoint = (github_api_endpoint or DEFAULT_GITHUB_API_URL).rstrip("/")
        self.master = master
        self.debug = debug
        self.verify = verify
        if self._strict and not self._secret:
            raise ValueError("Strict mode is requested while no secret is provided")

    async def _render(self, value: Any) -> Any:
        return await BaseHookHandler(self.master, None).render_secret(value)

    async def process(self, request: server.Request) -> tuple[list[dict[str, Any]], str]:
        payload = await self._get_payload(request)
        event_type = bytes2unicode(request.getHeader(b"X-GitHub-Event"))
        handler = getattr(self, f"handle_{event_type}", None)
        if handler is None:
            raise ValueError(f"Unknown event: {event_type}")
        from buildbot.util.deferred import maybe_await
        return await maybe_await(handler(payload, event_type))  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any

    async def _check_signature(self, request: server.Request, content: bytes) -> None:
        sig256 = request.getHeader(b"X-Hub-Signature-256")
        signature = bytes2unicode(sig256 if sig256 is not None
                                  else request.getHeader(b"X-Hub-Signature"))
        if not signature:
            if self._strict:
                raise ValueError("Request has no required signature")
            return
        if not self._secret:
            return
        try:
            hash_type, hexdigest = signature.split("=")
        except ValueError as e:
            raise ValueError(f"Wrong signature format: {signature}") from e
        digestmod = _HASHES.get(hash_type)
        if digestmod is None:
            raise ValueError(f"Unknown hash type: {hash_type}")
        secret = await self._render(self._secret)
        mac = hmac.new(unicode2bytes(secret), msg=content, digestmod=digestmod)
        if not hmac.compare_digest(mac.hexdigest(), hexdigest):
            raise ValueError("Hash mismatch")

    async def _get_payload(self, request: server.Request) -> Any:
        content = request.content.read() if request.content is not None else b""
        await self._check_signature(request, content)
        content_type = (request.getHeader(b"Content-Type") or b"").split(b";")[0].strip()
        try:
            if content_type == b"application/json":
                payload = json.loads(bytes2unicode(content))
            elif content_type == b"application/x-www-form-urlencoded":
                form: dict[bytes, list[bytes]] = request.args or {}
                payload = json.loads(bytes2unicode(form[b"payload"][0]))
            else:
                raise ValueError(f"Unknown content type: {content_type!r}")
        except (KeyError, json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"Error loading JSON: {e}") from e
        if not isinstance(payload, dict):
            raise ValueError("Error loading JSON: payload is not an object")  # noqa: TRY004
        return payload

    def handle_ping(self, _: Any, __: str) -> tuple[list[dict[str, Any]], str]:
        return [], "git"

    def handle_workflow_run(self, _: Any, __: str) -> tuple[list[dict[str, Any]], str]:
        return [], "git"

    def handle_push(self, payload: dict[str, Any], event: str) -> tuple[list[dict[str, Any]], str]:
        repo_url = payload["repository"]["html_url"]
        project = payload["repository"]["full_name"]
        properties = self.extractProperties(payload)
        return self._process_change(payload, None, payload["repository"]["name"], repo_url,
                                    project, event, properties), "git"

    async def handle_pull_request(self, payload: dict[str, Any],
                                  event: str) -> tuple[list[dict[str, Any]], str]:
        pr = payload["pull_request"]
        number = payload["number"]
        repo_full_name = payload["repository"]["full_name"]
        head_msg = await self._get_commit_msg(repo_full_name, pr["head"]["sha"])
        if self._has_skip(head_msg):
            log.info("GitHub PR #{n}: head commit message contains a skip pattern", n=number)
            return [], "git"
        action = payload.get("action")
        if action not in ("opened", "reopened", "synchronize"):
            return [], "git"
        files = await self._get_pr_files(repo_full_name, number)
        commits = pr["commits"]
        change = {
            "revision": pr["head"]["sha"],
            "when_timestamp": parse_date(pr["created_at"]),
            "branch": f"refs/pull/{number}/{self.pullrequest_ref}",
            "files": files,
            "revlink": pr["_links"]["html"]["href"],
            "repository": payload["repository"]["html_url"],
            "project": pr["base"]["repo"]["full_name"],
            "category": "pull",
            "author": payload["sender"]["login"],
            "comments": f"GitHub Pull Request #{number} ({commits} "
                        f"commit{'s' if commits != 1 else ''})\n{pr['title']}\n{pr['body']}",
            "properties": {"pullrequesturl": pr["_links"]["html"]["href"], "event": event,
                           "basename": pr["base"]["ref"], **self.extractProperties(pr)},
        }
        codebase = codebase_for(self._codebase, payload)
        if codebase is not None:
            change["codebase"] = codebase
        return [change], "git"

    async def _api_get(self, repo: str, path: str) -> Any:
        from buildbot.www.httpclient import http_client

        headers = {"User-Agent": "Buildbot"}
        if self._token:
            headers["Authorization"] = "token " + str(await self._render(self._token))
        client = http_client(self.master, self.verify)
        res = await client.get(f"{self.github_api_endpoint}{path}", headers=headers)
        if not 200 <= res.code < 300:
            await res.content()
            log.info("GitHub API {path}: response code {code}", path=path, code=res.code)
            return None
        return await res.json()

    async def _get_commit_msg(self, repo: str, sha: str) -> str:
        data = await self._api_get(repo, f"/repos/{repo}/commits/{sha}")
        if isinstance(data, dict):
            return str(data.get("commit", {}).get("message", ""))
        return "No message field"

    async def _get_pr_files(self, repo: str, number: int) -> list[str]:
        data = await self._api_get(repo, f"/repos/{repo}/pulls/{number}/files")
        files: list[str] = []
        for f in data or []:
            files.append(f["filename"])
            if f.get("previous_filename") is not None:
                files.append(f["previous_filename"])
        return files

    def _process_change(self, payload: dict[str, Any], user: Any, repo: str, repo_url: str,
                        project: str, event: str,
                        properties: dict[str, Any]) -> list[dict[str, Any]]:
        m = re.match(r"^refs/(heads|tags)/(.+)$", payload["ref"])
        if m is None:
            return []
        category = "tag" if m.group(1) == "tags" else None
        branch = m.group(2)
        if payload.get("deleted"):
            return []
        head = payload.get("head_commit") or {}
        if self._has_skip(head.get("message", "")):
            return []
        commits = [head] if payload.get("created") else payload["commits"]
        changes = []
        for commit in commits:
            files: list[str] = []
            for kind in ("added", "modified", "removed"):
                files.extend(commit.get(kind, []))
            change = {
                "author": f"{commit['author']['name']} <{commit['author']['email']}>",
                "committer": f"{commit['committer']['name']} <{commit['committer']['email']}>",
                "files": files,
                "comments": commit["message"],
                "revision": commit["id"],
                "when_timestamp": parse_date(commit["timestamp"]),
                "branch": branch,
                "revlink": commit["url"],
                "repository": repo_url,
                "project": project,
                "properties": {"github_distinct": commit.get("distinct", True), "event": event,
                               **properties},
                "category": category,
            }
            codebase = codebase_for(self._codebase, payload)
            if codebase is not None:
                change["codebase"] = codebase
            changes.append(change)
        return changes

    def _has_skip(self, msg: str) -> bool:
        return any(re.search(skip, msg or "") for skip in self.skips or [])


class GitHubHandler(BaseHookHandler):
    """The dialect entry: builds the (configurable) event handler from the options."""

    def __init__(self, master: Any, options: Any) -> None:
        options = options if isinstance(options, dict) else {}
        super().__init__(master, options)
        klass = options.get("class", GitHubEventHandler)
        self.handler = klass(
            options.get("secret"), options.get("strict", False),
            codebase=options.get("codebase"),
            github_property_whitelist=options.get("github_property_whitelist"),
            master=master, skips=options.get("skips"),
            github_api_endpoint=options.get("github_api_endpoint"),
            pullrequest_ref=options.get("pullrequest_ref"), token=options.get("token"),
            debug=options.get("debug") or False,
            verify=options.get("verify", True))

    def getChanges(self, request: server.Request) -> Any:
        return self.handler.process(request)


github = GitHubHandler
