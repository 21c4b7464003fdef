# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""User pictures: `GET /avatar?email=&username=&size=` and the avatar methods
(`c['www']['avatar_methods']`).

A method's `getUserAvatar(email, username, size, defaultAvatarUrl)` (email and username as
bytes, as in the reference) raises `Redirect(url)`, returns `(mime_type, image_bytes)`, or
returns None to let the next method try.
"""

from __future__ import annotations

import base64
import hashlib
from collections import OrderedDict
from typing import Any
from urllib.parse import urlencode, urlparse, urlunparse

from twisted.logger import Logger
from twisted.web import server

from buildbot.util import bytes2unicode, unicode2bytes
from buildbot.util.deferred import maybe_await
from buildbot.util.httpclientservice import HTTPSession
from buildbot.util.internal import differs_internally
from buildbot.www.resource import AsyncResource, Redirect, finish, query_args, redirect_to

log = Logger()

CACHE_SIZE = 10000


class AvatarBase:
    """Base of avatar methods; `name` is what the UI sees."""

    name = "noavatar"
    master: Any = None

    def getUserAvatar(self, email: bytes, username: bytes | None, size: int,
                      defaultAvatarUrl: str) -> Any:
        raise NotImplementedError()

    def getConfigDict(self) -> dict[str, Any]:
        return {"name": self.name}


class AvatarGravatar(AvatarBase):
    """Redirect to gravatar.com (retro default picture)."""

    name = "gravatar"
    default = "retro"

    def getUserAvatar(self, email: bytes, username: bytes | None, size: int,
                      defaultAvatarUrl: str) -> Any:
        digest = hashlib.md5(unicode2bytes(email).lower()).hexdigest()
        query = urlencode(sorted({"d": self.default, "s": str(size)}.items()))
        raise Redirect(f"//www.gravatar.com/avatar/{digest}?{query}")


class AvatarGitHub(AvatarBase):
    """Picture of the GitHub user with that username, else of the user found by email,
    else of the author of a commit with that email."""

    name = "github"
    DEFAULT_GITHUB_API_URL = "https://api.github.com"
    client: HTTPSession | None = None

    def __init__(self, github_api_endpoint: str | None = None, token: str | None = None,
                 client_id: str | None = None, client_secret: str | None = None,
                 debug: bool = False, verify: bool = True) -> None:
        self.github_api_endpoint = (github_api_endpoint or self.DEFAULT_GITHUB_API_URL).rstrip("/")
        self.token = token
        self.client_id = client_id
        self.client_secret = client_secret
        self.debug = debug
        self.verify = verify

    def _http_session(self) -> HTTPSession:
        """`client`: one session on the API for this method, made on first use, through the
        master's HTTP service (the web service's own when the master has none)."""
        if self.client is None:
            service = getattr(self.master, "httpservice", None) or self.master.www.http_service
            headers = {"User-Agent": "Buildbot"}
            if self.token is not None:
                headers["Authorization"] = f"token {self.token}"
            elif self.client_id is not None and self.client_secret is not None:
                pair = f"{self.client_id}:{self.client_secret}".encode()
                headers["Authorization"] = "basic " + base64.b64encode(pair).decode()
            self.client = HTTPSession(service, self.github_api_endpoint, headers=headers,
                                      verify=self.verify, debug=self.debug)
        return self.client

    async def _get_json(self, path: str, accept: str = "application/vnd.github.v3+json") -> Any:
        res = await self._http_session().get(path, headers={"Accept": accept})
        if not 200 <= res.code < 300:
            if self.debug:
                log.info("GitHub avatar lookup {path}: {code}", path=path, code=res.code)
            return None
        return await res.json()

    async def _by_username(self, username: str) -> str | None:
        data = await self._get_json(f"/users/{username}")
        return data.get("avatar_url") if isinstance(data, dict) else None

    async def _by_email(self, email: str) -> str | None:
        data = await self._get_json(f"/search/users?{urlencode({'q': f'{email} in:email'})}")
        if isinstance(data, dict) and data.get("total_count"):
            return data["items"][0].get("avatar_url")  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any
        return None

    async def _by_commit(self, email: str) -> str | None:
        query = sorted({"q": f"author-email:{email}", "sort": "committer-date",
                        "per_page": "1"}.items())
        data = await self._get_json(
            f"/search/commits?{urlencode(query)}",
            "application/vnd.github.v3+json,application/vnd.github.cloak-preview")
        if isinstance(data, dict) and data.get("total_count"):
            author = data["items"][0].get("author")
            if author:
                return author.get("avatar_url")  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any
        return None

    @staticmethod
    def _with_size(url: str, size: int) -> str:
        parts = urlparse(url)
        query = f"{parts.query}&s={size}" if parts.query else f"s={size}"
        return urlunparse(parts._replace(query=query))

    async def _avatar(self, email: bytes, username: bytes | None, size: int) -> Any:
        url = None
        if username:
            url = await self._by_username(bytes2unicode(username))
        if url is None and email:
            url = await self._by_email(bytes2unicode(email))
            if url is None:
                url = await self._by_commit(bytes2unicode(email))
        if url is None:
            return None
        raise Redirect(self._with_size(url, size))

    def getUserAvatar(self, email: bytes, username: bytes | None, size: int,
                      defaultAvatarUrl: str) -> Any:
        return self._avatar(email, username, size)


class AvatarResource(AsyncResource):
    """`/avatar`: asks each configured method in turn; redirect answers are cached (in a
    bounded LRU: the reference's cache grows with every distinct query)."""

    isLeaf = True
    defaultAvatarUrl = b"img/nobody.png"

    def __init__(self, www: Any) -> None:
        super().__init__(www)
        self.cache: OrderedDict[tuple[bytes, bytes | None, int], str] = OrderedDict()

    def reconfigure(self) -> None:
        self.cache.clear()

    def render_GET(self, request: server.Request) -> int:
        return self.render_async(request, self._render)

    async def _render(self, request: server.Request) -> None:
        args = query_args(request)
        email = args.get("email", [""])[0].encode()
        username_s = args.get("username", [None])[0]
        username = username_s.encode() if username_s is not None else None
        try:
            size = int(args.get("size", ["32"])[0])
        except ValueError:
            size = 32
        key = (email, username, size)
        cached = self.cache.get(key)
        if cached is not None:
            self.cache.move_to_end(key)
            redirect_to(request, cached)
            return
        default_url = bytes2unicode(self.defaultAvatarUrl)
        for method in self.www.avatar_methods:
            try:
                res = await maybe_await(method.getUserAvatar(email, username, size, default_url))
            except Redirect as r:
                self.cache[key] = r.url
                if len(self.cache) > CACHE_SIZE:
                    self.cache.popitem(last=False)
                redirect_to(request, r.url)
                return
            if res is not None:
                mime, data = res
                request.setHeader(b"content-type", unicode2bytes(mime))
                request.setHeader(b"content-length", str(len(data)).encode())
                finish(request, data)
                return
        redirect_to(request, self.defaultAvatarUrl)


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
_INTERNAL_WHY = "the web service builds its resources itself (buildbot.www.service)"
for _cls in (AvatarResource,):
    differs_internally(_INTERNAL_WHY)(_cls)
