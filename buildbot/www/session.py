# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""Browser sessions: a signed JWT (HS256) in the `TWISTED_SESSION` cookie.

The token carries `{"user_info": {...}, "exp": <epoch>, "sid": <session id>}`; a cookie
written by one master of a cluster is valid on the others (they share the secret in the
database). The server keeps only the ids of sessions ended by a logout (until their
tokens expire), so a copied cookie stops working when its user logs out; a new login
starts a new session id. The cookie is `HttpOnly`, `SameSite=Lax`, and `Secure` on HTTPS
or when `buildbotURL` is https. `request.getSession()` (the reference's API, which auth
plugins call) returns the `Session` of the request.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

import jwt
from twisted.web import server

ALGORITHM = "HS256"
SECRET_BITS = 128
DEFAULT_EXPIRATION = datetime.timedelta(weeks=1)
ANONYMOUS_REUSE = 60.0  # seconds an anonymous session id and its token are shared


def cookie_name(secure: bool, sitepath: list[bytes] | None = None) -> bytes:
    """`TWISTED_SESSION` (`TWISTED_SECURE_SESSION` on HTTPS), followed by `_<segment>` for
    each segment of the site's mount path."""
    name = b"TWISTED_SECURE_SESSION" if secure else b"TWISTED_SESSION"
    return b"_".join([name] + [s for s in (sitepath or []) if s])


def anonymous() -> dict[str, Any]:
    return {"anonymous": True}


class SessionManager:
    """Encodes and decodes session tokens with the cluster-wide secret, and remembers the
    sessions ended by a logout (`revoked`: session id → expiry of its tokens)."""

    def __init__(self, secret: str, clock: Any,
                 expiration: datetime.timedelta = DEFAULT_EXPIRATION) -> None:
        self.secret = secret
        self.clock = clock
        self.expiration = expiration
        self.revoked: dict[str, int] = {}
        self.secure_cookies = False  # set when buildbotURL is https
        # Called with (sid, exp) after a revocation, to share it (the web service stores it).
        self.on_revoke: Callable[[str, int], None] | None = None
        # Called when a token of a logged-in user is accepted (lets the web service refresh
        # revocations made by other masters).
        self.on_accept: Callable[[], None] | None = None
        # (minted at, session id, token) of the shared anonymous session
        self._anonymous: tuple[float, str, str] | None = None

    def shared_anonymous_sid(self) -> str:
        """The session id of visitors arriving without a valid cookie, renewed every
        `ANONYMOUS_REUSE` seconds; its token is minted once. Minting a session id and an
        HMAC for each such request was a tenth of the cost of a small REST request.
        Sharing is safe: an anonymous session carries no rights, is never revoked, and a
        login always starts a new session id."""
        now = self.clock.seconds()
        if self._anonymous is None or now - self._anonymous[0] >= ANONYMOUS_REUSE:
            sid = new_session_id()
            self._anonymous = (now, sid, self._encode(anonymous(), sid))
        return self._anonymous[1]

    def is_shared_anonymous(self, sid: str) -> bool:
        return self._anonymous is not None and sid == self._anonymous[1]

    def encode(self, user_info: dict[str, Any], sid: str | None = None) -> str:
        shared = self._anonymous
        if shared is not None and sid == shared[1] and user_info == anonymous():
            return shared[2]
        return self._encode(user_info, sid)

    def _encode(self, user_info: dict[str, Any], sid: str | None) -> str:
        exp = int(self.clock.seconds() + self.expiration.total_seconds())
        claims = {"user_info": user_info, "exp": exp, "sid": sid or new_session_id()}
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def decode(self, token: str | bytes) -> dict[str, Any] | None:
        """The user info of a valid, unexpired, not revoked token; None otherwise."""
        claims = self.claims(token)
        return claims[0] if claims is not None else None

    def claims(self, token: str | bytes) -> tuple[dict[str, Any], str, int] | None:
        """(user info, session id, expiry) of a valid, unexpired, not revoked token."""
        try:
            claims = jwt.decode(token, self.secret, algorithms=[ALGORITHM],
                                options={"verify_exp": False})
        except jwt.PyJWTError:
            return None
        exp = claims.get("exp")
        now = self.clock.seconds()
        if not isinstance(exp, (int, float)) or exp <= now:
            return None  # expiry is checked against our clock (tests inject one)
        info = claims.get("user_info")
        if not isinstance(info, dict):
            return None
        sid = claims.get("sid")
        if not isinstance(sid, str) or not sid:
            # A token without a session id (written by Buildbot 4.3 sharing the database):
            # the token itself identifies the session.
            raw = token.encode("ascii", "replace") if isinstance(token, str) else token
            sid = hashlib.sha256(raw).hexdigest()[:32]
        if sid in self.revoked:
            return None
        if not info.get("anonymous") and self.on_accept is not None:
            self.on_accept()
        return info, sid, int(exp)

    def revoke(self, sid: str, exp: int) -> None:
        """End session `sid` (whose tokens expire at `exp`) on this master and, through
        `on_revoke`, on the others."""
        self.revoked[sid] = exp
        if self.on_revoke is not None:
            self.on_revoke(sid, exp)

    def merge_revoked(self, stored: dict[str, int]) -> dict[str, int]:
        """Add revocations stored by any master; drop the expired ones. Returns the union
        (what to store back)."""
        now = self.clock.seconds()
        merged = {sid: int(exp) for sid, exp in {**stored, **self.revoked}.items()
                  if isinstance(exp, (int, float)) and exp > now}
        self.revoked = dict(merged)
        return merged


def new_session_id() -> str:
    return secrets.token_hex(16)


class Session:
    """The session of one request: `user_info`, `updateSession(request)`, `expire()`.

    Assigning `user_info` (a login) starts a new session id, so a session id seen before
    the login (a planted cookie) never becomes an authenticated one."""

    def __init__(self, manager: SessionManager, user_info: dict[str, Any],
                 sid: str | None = None, exp: int | None = None) -> None:
        self.manager = manager
        self._user_info = user_info
        self.sid = sid or new_session_id()
        self.exp = exp  # of the token the request came with (None: no valid token)

    @property
    def user_info(self) -> dict[str, Any]:
        return self._user_info

    @user_info.setter
    def user_info(self, value: dict[str, Any]) -> None:
        if value != self._user_info:
            self.sid = new_session_id()
        self._user_info = value

    @property
    def uid(self) -> str:
        """The cookie value for the current user info."""
        if not self._user_info.get("anonymous") and self.manager.is_shared_anonymous(self.sid):
            self.sid = new_session_id()  # user info changed in place: a login all the same
        return self.manager.encode(self.user_info, self.sid)

    def updateSession(self, request: server.Request) -> None:
        """Write the session cookie (after a change of `user_info`)."""
        name = cookie_name(request.isSecure(), getattr(request, "sitepath", None))
        secure = bool(request.isSecure() or self.manager.secure_cookies)
        request.addCookie(name, self.uid.encode("ascii"), path=b"/", secure=secure,
                          httpOnly=True, sameSite="lax")

    def expire(self) -> None:
        """Log out: the session id is revoked (its cookies stop working, on every master)
        and the session becomes anonymous."""
        if not self._user_info.get("anonymous"):
            exp = self.exp
            if exp is None:
                exp = int(self.manager.clock.seconds()
                          + self.manager.expiration.total_seconds())
            self.manager.revoke(self.sid, exp)
        self.user_info = anonymous()

    def touch(self) -> None:
        """Twisted session API; tokens are not refreshed per request."""


def session_of(request: server.Request, manager: SessionManager) -> Session:
    """Resolve (once per request) the session from the cookie; a missing, invalid or expired
    cookie gives an anonymous session and a fresh cookie in the response."""
    cached = getattr(request, "_bb_session", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any
    name = cookie_name(request.isSecure(), getattr(request, "sitepath", None))
    token = request.getCookie(name)
    claims = manager.claims(token) if token else None
    if claims is None:
        session = Session(manager, anonymous(), manager.shared_anonymous_sid())
        session.updateSession(request)
    else:
        session = Session(manager, *claims)
    request._bb_session = session  # type: ignore[attr-defined]  # the session rides on the twisted.web request
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
