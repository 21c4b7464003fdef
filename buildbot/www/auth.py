# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""Authentication plugins (`c['www']['auth']`) and the `/auth/login`, `/auth/logout` pages.

A login stores the user info in the session (a signed cookie, see `session.py`) and sends
the browser back to the UI route it came from. Only routes of our own UI are accepted as
targets: CR/LF (and what follows) are cut, and absolute or scheme-relative URLs are
replaced by `/` (the reference only strips CR/LF).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

from twisted.cred import checkers, credentials, portal
from twisted.cred import error as cred_error
from twisted.internet import defer
from twisted.logger import Logger
from twisted.web import resource, server
from twisted.web.guard import (
    BasicCredentialFactory,
    DigestCredentialFactory,
    HTTPAuthSessionWrapper,
)
from zope.interface import implementer

from buildbot.util import bytes2unicode, unicode2bytes
from buildbot.util.config import ConfiguredMixin
from buildbot.util.deferred import ensure_deferred, maybe_await
from buildbot.util.internal import differs_internally, internal_class
from buildbot.www.resource import AsyncResource, HttpError, finish, query_args, redirect_to

log = Logger()


def safe_redirect_route(value: str | None) -> str:
    """A UI route to go to after login/logout: text before any CR/LF; never a URL that
    would leave our own origin (default `/`)."""
    if not value:
        return "/"
    value = re.split(r"[\r\n]", value, maxsplit=1)[0]
    stripped = value.strip()
    if not stripped or "://" in stripped or stripped.startswith(("//", "\\\\", "/\\")) \
            or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", stripped):
        return "/"
    return value


def redirect_url(buildbot_url: str, route: str | None) -> str:
    """`<buildbotURL>#<route>`: where the browser lands after login/logout."""
    return f"{buildbot_url}#{safe_redirect_route(route)}"


class UserInfoProviderBase(ConfiguredMixin):
    """Adds information about a user after login (default: the username as email)."""

    name = "noinfo"

    def getUserInfo(self, username: str) -> Any:
        return defer.succeed({"email": username})


class AuthBase:
    """Base of auth plugins. `getLoginResource()` serves `/auth/login`; `maybeAutoLogin`
    runs before the UI page is rendered; `getConfigDict()` is what the UI sees."""

    def __init__(self, userInfoProvider: Any = None) -> None:
        self.userInfoProvider = userInfoProvider
        self.master: Any = None
        self.www: Any = None

    def reconfigAuth(self, master: Any, new_config: Any) -> None:
        self.master = master

    def maybeAutoLogin(self, request: server.Request) -> Any:
        return defer.succeed(None)

    def getLoginResource(self) -> Any:
        raise HttpError(500, "This authentication does not support login")

    def getLogoutResource(self) -> Any:
        return LogoutResource(self.www)

    async def updateUserInfo(self, request: server.Request) -> None:
        """Merge the user info provider's data into the session (by username)."""
        session = request.getSession()
        if self.userInfoProvider is not None:
            infos = await maybe_await(
                self.userInfoProvider.getUserInfo(session.user_info["username"]))
            session.user_info.update(infos or {})
            session.updateSession(request)

    def getConfigDict(self) -> dict[str, Any]:
        return {"name": type(self).__name__}


class NoAuth(AuthBase):
    """No login at all (the default)."""


class RemoteUserAuth(AuthBase):
    """The user comes from a header set by a front-end proxy (default `REMOTE_USER`),
    parsed with `headerRegex`; the login happens when the UI page is loaded."""

    header = b"REMOTE_USER"
    headerRegex = re.compile(rb"(?P<username>[^ @]+)@(?P<realm>[^ @]+)")

    def __init__(self, header: str | bytes | None = None, headerRegex: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # header and pattern are compared with the raw (bytes) request header
        self.header = self.header if header is None else unicode2bytes(header)
        pattern = None if headerRegex is None else re.compile(unicode2bytes(headerRegex))
        self.headerRegex = pattern or self.headerRegex
        # without a provider the proxy's user name is all we know of the user
        self.userInfoProvider = self.userInfoProvider or UserInfoProviderBase()

    def getLoginResource(self) -> Any:
        return _StaticError(403, b"URL is not supported for authentication")

    async def _auto_login(self, request: server.Request) -> None:
        header = request.getHeader(self.header)
        if header is None:
            raise HttpError(403, f"missing http header {bytes2unicode(self.header)}. "
                            "Check your reverse proxy config!")
        m = self.headerRegex.search(unicode2bytes(header))
        if m is None:
            raise HttpError(403, f"http header does not match regex! \"{bytes2unicode(header)}\" not "
                            f"matching {bytes2unicode(self.headerRegex.pattern)}")
        session = request.getSession()
        user_info = {k: bytes2unicode(v) for k, v in m.groupdict().items()}
        if session.user_info != user_info:
            session.user_info = user_info
            await self.updateUserInfo(request)
            session.updateSession(request)

    def maybeAutoLogin(self, request: server.Request) -> Any:
        return ensure_deferred(self._auto_login(request))


@implementer(checkers.ICredentialsChecker)
class _PasswordChecker:
    """Checks Basic (plain) and Digest credentials against a {username: password} dict."""

    credentialInterfaces = (credentials.IUsernamePassword, credentials.IUsernameDigestHash)

    def __init__(self, users: dict[bytes, bytes], match: Any = None) -> None:
        self.users = users
        self.password_match = match

    def requestAvatarId(self, creds: Any) -> defer.Deferred[bytes]:
        stored = self.users.get(creds.username)
        if stored is not None:
            if credentials.IUsernamePassword.providedBy(creds) and \
                    self.password_match is not None:
                ok = self.password_match(creds.password, stored)
            else:
                ok = creds.checkPassword(stored)
            if ok:
                return defer.succeed(creds.username)
        return defer.fail(cred_error.UnauthorizedLogin())


@implementer(checkers.ICredentialsChecker)
class TwistedICredAuthBase(AuthBase):
    """Login through an HTTP authentication challenge checked by Twisted credential
    checkers (`credentialFactories`, `checkers`)."""

    def __init__(self, credentialFactories: list[Any] | None = None,
                 checkers: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.userInfoProvider is None:
            self.userInfoProvider = UserInfoProviderBase()
        self.credentialFactories = credentialFactories or []
        self.checkers = checkers or []

    def getLoginResource(self) -> Any:
        www = self.www
        auth = self

        @implementer(portal.IRealm)
        class Realm:
            """Hands the logged-in user's login page to the HTTP auth wrapper."""

            def requestAvatar(self, avatarId: bytes, mind: Any, *interfaces: Any) -> Any:
                if resource.IResource in interfaces:
                    return (resource.IResource,
                            _PreAuthenticatedLogin(www, auth, bytes2unicode(avatarId)),
                            lambda: None)
                raise NotImplementedError()

        realm: Any = Realm()  # zope @implementer is invisible to mypy
        return HTTPAuthSessionWrapper(portal.Portal(realm, self.checkers),
                                      self.credentialFactories)


def _challenges(digest: bool) -> list[Any]:
    factories: list[Any] = []
    if digest:
        factories.append(DigestCredentialFactory(b"md5", b"buildbot"))
    factories.append(BasicCredentialFactory(b"buildbot"))
    return factories


def _htpasswd_match(given: bytes, stored: bytes) -> bool:
    """Verbatim passwords (what the reference accepts) and `{SHA}` entries."""
    if stored.startswith(b"{SHA}"):
        digest = base64.b64encode(hashlib.sha1(given).digest())
        return hmac.compare_digest(digest, stored[5:])
    return hmac.compare_digest(given, stored)


class HTPasswdAuth(TwistedICredAuthBase):
    """Users from a file of `user:password` lines."""

    def __init__(self, passwdFile: str, **kwargs: Any) -> None:
        self.passwdFile = passwdFile
        super().__init__(_challenges(digest=True),
                         [_FilePasswordChecker(passwdFile)], **kwargs)


@implementer(checkers.ICredentialsChecker)
class _FilePasswordChecker:
    """Reads the password file at each login, so edits apply without a reconfig."""

    credentialInterfaces = (credentials.IUsernamePassword, credentials.IUsernameDigestHash)

    def __init__(self, path: str) -> None:
        self.path = path

    def _users(self) -> dict[bytes, bytes]:
        users: dict[bytes, bytes] = {}
        with open(self.path, "rb") as f:
            for line in f:
                line = line.rstrip(b"\r\n")
                if not line or line.startswith(b"#") or b":" not in line:
                    continue
                user, password = line.split(b":", 1)
                users[user] = password
        return users

    def requestAvatarId(self, creds: Any) -> defer.Deferred[bytes]:
        try:
            users = self._users()
        except OSError:
            log.failure("cannot read password file {path}", path=self.path)
            return defer.fail(cred_error.UnauthorizedLogin())
        return _PasswordChecker(users, _htpasswd_match).requestAvatarId(creds)


class UserPasswordAuth(TwistedICredAuthBase):
    """Users from a `{user: password}` dict or a list of `(user, password)` pairs."""

    def __init__(self, users: Any, **kwargs: Any) -> None:
        if isinstance(users, dict):
            pairs = list(users.items())
        else:
            pairs = list(users)
        table = {unicode2bytes(u): unicode2bytes(p) for u, p in pairs}
        self.users = users
        super().__init__(_challenges(digest=True),
                         [_PasswordChecker(table, hmac.compare_digest)], **kwargs)


class CustomAuth(TwistedICredAuthBase):
    """Subclass and override `check_credentials(username: bytes, password: bytes) -> bool`
    (may return a Deferred or be a coroutine). Basic authentication only; the auth is its
    own credentials checker."""

    credentialInterfaces = [credentials.IUsernamePassword]  # noqa: RUF012  (Twisted's API)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(_challenges(digest=False), [self], **kwargs)

    def requestAvatarId(self, cred: Any) -> defer.Deferred[bytes]:
        """The user name if `check_credentials` accepts the password, else an
        UnauthorizedLogin failure."""
        async def check() -> bytes:
            if not await maybe_await(self.check_credentials(cred.username, cred.password)):
                raise cred_error.UnauthorizedLogin()
            username: bytes = cred.username
            return username
        return ensure_deferred(check())

    def check_credentials(self, username: bytes, password: bytes) -> Any:
        return False


# -- resources -------------------------------------------------------------------------------

class _StaticError(resource.Resource):
    isLeaf = True

    def __init__(self, status: int, message: bytes) -> None:
        super().__init__()
        self.status, self.message = status, message

    def render(self, request: server.Request) -> bytes:
        request.setResponseCode(self.status)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return self.message


class _PreAuthenticatedLogin(AsyncResource):
    """What a successful HTTP-authenticated `/auth/login` renders: session set, redirect."""

    isLeaf = True

    def __init__(self, www: Any, auth: AuthBase, username: str) -> None:
        super().__init__(www)
        self.auth = auth
        self.username = username

    def render_GET(self, request: server.Request) -> int:
        return self.render_async(request, self._login)

    async def _login(self, request: server.Request) -> None:
        session = request.getSession()
        session.user_info = {"username": self.username}
        await self.auth.updateUserInfo(request)
        session.updateSession(request)
        route = query_args(request).get("redirect", [None])[0]
        redirect_to(request, redirect_url(self.www.buildbot_url, route))


class LogoutResource(AsyncResource):
    """`/auth/logout`: back to anonymous, redirect to the UI."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> int:
        return self.render_async(request, self._logout)

    async def _logout(self, request: server.Request) -> None:
        session = request.getSession()
        session.expire()
        session.updateSession(request)
        route = query_args(request).get("redirect", [None])[0]
        redirect_to(request, redirect_url(self.www.buildbot_url, route))


class AuthRootResource(resource.Resource):
    """`/auth`: `login` and `logout`, delegated to the configured auth plugin."""

    def __init__(self, www: Any) -> None:
        super().__init__()
        self.www = www

    def getChild(self, path: bytes, request: server.Request) -> Any:
        request.getSession()  # fresh cookie for a bad/missing one
        auth = self.www.auth
        try:
            if path == b"login":
                return auth.getLoginResource()
            if path == b"logout":
                return auth.getLogoutResource()
        except HttpError as e:
            return _StaticError(e.status, e.message.encode())
        return resource.NoResource()


__all__ = ["AuthBase", "AuthRootResource", "CustomAuth", "HTPasswdAuth", "NoAuth",
           "RemoteUserAuth", "TwistedICredAuthBase", "UserInfoProviderBase", "UserPasswordAuth",
           "finish"]


# -- Buildbot 4.3 names ------------------------------------------------------------------
SESSION_SECRET_ALGORITHM = "HS256"
SESSION_SECRET_LENGTH = 128


def build_anonymous_user_info() -> dict[str, Any]:
    """The user info of a visitor who has not logged in."""
    return {"anonymous": True}


def build_cookie_name(is_secure: bool, sitepath: list[bytes]) -> bytes:
    """The session cookie's name: Twisted's (secure) session cookie name joined with the
    site path, as the web UI and 4.3 masters sharing a domain expect."""
    base = b"TWISTED_SECURE_SESSION" if is_secure else b"TWISTED_SESSION"
    return b"_".join([base, *sitepath])


def parse_user_info_from_token(token: str, session_secret: str) -> dict[str, Any]:
    """The `user_info` of a session token; KeyError if it is invalid or expired."""
    import jwt
    try:
        claims = jwt.decode(token, session_secret, algorithms=[SESSION_SECRET_ALGORITHM])
    except jwt.PyJWTError as e:
        raise KeyError(str(e)) from e
    return dict(claims["user_info"])


_WWW_INTERNAL = "the web service builds its resources itself (buildbot.www.service)"
AuthRealm = internal_class(__name__, "AuthRealm", _WWW_INTERNAL)
LoginResource = internal_class(__name__, "LoginResource", _WWW_INTERNAL)
PreAuthenticatedLoginResource = internal_class(__name__, "PreAuthenticatedLoginResource",
                                               _WWW_INTERNAL)
for _cls in (AuthRootResource, LogoutResource):
    differs_internally(_WWW_INTERNAL)(_cls)
