# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""Browser sessions: a signed JWT (HS256) in the `TWISTED_SESSION` cookie.

The token carries `{"user_info": {...}, "exp": <epoch>}`; nothing is kept server side, so a
cookie written by one master of a cluster is valid on the others (they share the secret in
the database). `request.getSession()` (the reference's API, which auth plugins call) returns
the `Session` of the request.
"""

from __future__ import annotations

import datetime
from typing import Any

import jwt
from twisted.web import server

ALGORITHM = "HS256"
SECRET_BITS = 128
DEFAULT_EXPIRATION = datetime.timedelta(weeks=1)


def cookie_name(secure: bool, sitepath: list[bytes] | None = None) -> bytes:
    """`TWISTED_SESSION` (`TWISTED_SECURE_SESSION` on HTTPS), followed by `_<segment>` for
    each segment of the site's mount path."""
    name = b"TWISTED_SECURE_SESSION" if secure else b"TWISTED_SESSION"
    return b"_".join([name] + [s for s in (sitepath or []) if s])


def anonymous() -> dict[str, Any]:
    return {"anonymous": True}


class SessionManager:
    """Encodes and decodes session tokens with the cluster-wide secret."""

    def __init__(self, secret: str, clock: Any,
                 expiration: datetime.timedelta = DEFAULT_EXPIRATION) -> None:
        self.secret = secret
        self.clock = clock
        self.expiration = expiration

    def encode(self, user_info: dict[str, Any]) -> str:
        exp = int(self.clock.seconds() + self.expiration.total_seconds())
        return jwt.encode({"user_info": user_info, "exp": exp}, self.secret, algorithm=ALGORITHM)

    def decode(self, token: str | bytes) -> dict[str, Any] | None:
        """The user info of a valid, unexpired token; None otherwise."""
        try:
            claims = jwt.decode(token, self.secret, algorithms=[ALGORITHM],
                                options={"verify_exp": False})
        except jwt.PyJWTError:
            return None
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= self.clock.seconds():
            return None  # expiry is checked against our clock (tests inject one)
        info = claims.get("user_info")
        return info if isinstance(info, dict) else None


class Session:
    """The session of one request: `user_info`, `updateSession(request)`, `expire()`."""

    def __init__(self, manager: SessionManager, user_info: dict[str, Any]) -> None:
        self.manager = manager
        self.user_info = user_info

    @property
    def uid(self) -> str:
        """The cookie value for the current user info."""
        return self.manager.encode(self.user_info)

    def updateSession(self, request: server.Request) -> None:
        """Write the session cookie (after a change of `user_info`)."""
        name = cookie_name(request.isSecure(), getattr(request, "sitepath", None))
        request.addCookie(name, self.uid.encode("ascii"), path=b"/",
                          secure=request.isSecure(), httpOnly=False)

    def expire(self) -> None:
        """Forget the user: the session becomes anonymous."""
        self.user_info = anonymous()

    def touch(self) -> None:
        """Twisted session API; tokens are not refreshed per request."""


def session_of(request: server.Request, manager: SessionManager) -> Session:
    """Resolve (once per request) the session from the cookie; a missing, invalid or expired
    cookie gives an anonymous session and a fresh cookie in the response."""
    cached = getattr(request, "_bb_session", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return, unused-ignore]
    name = cookie_name(request.isSecure(), getattr(request, "sitepath", None))
    token = request.getCookie(name)
    info = manager.decode(token) if token else None
    session = Session(manager, info if info is not None else anonymous())
    if info is None:
        session.updateSession(request)
    request._bb_session = session  # type: ignore[attr-defined]
    return session


def user_info_from_headers(headers: dict[str, str], manager: SessionManager) -> dict[str, Any] | None:
    """User info for a WebSocket handshake: anonymous without a session cookie, None (refuse)
    when the cookie is present but invalid or expired."""
    from http.cookies import CookieError, SimpleCookie

    raw = headers.get("cookie")
    if not raw:
        return anonymous()
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    for secure in (True, False):
        morsel = jar.get(cookie_name(secure).decode())
        if morsel is not None:
            return manager.decode(morsel.value)
    return anonymous()
