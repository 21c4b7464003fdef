"""Login, logout and session cookies with the password-based and header-based auths."""

from __future__ import annotations

import base64
import datetime
from pathlib import Path

import jwt
import pytest
import pytest_twisted

from buildbot.www.auth import (
    CustomAuth,
    HTPasswdAuth,
    RemoteUserAuth,
    UserPasswordAuth,
)
from tests.www.harness import WebMaster, http


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def _user(master: WebMaster, cookie: str | None) -> dict[str, object]:
    headers = {"Cookie": f"TWISTED_SESSION={cookie}"} if cookie else {}
    config = await (await http.get(master.url("config"), headers=headers)).json()
    return config["user"]  # type: ignore[no-any-return]  # JSON


@pytest_twisted.ensureDeferred
async def test_user_password_login_challenge_then_session(master: WebMaster) -> None:
    await master.start_www(auth=UserPasswordAuth({"alice": "secret"}))
    res = await http.get(master.url("auth/login?redirect=/builders"))
    assert res.code == 401
    challenges = res.headers.getRawHeaders("www-authenticate")
    assert any(c.startswith("digest ") and 'realm="buildbot"' in c for c in challenges)
    assert 'basic realm="buildbot"' in challenges
    bad = await http.get(master.url("auth/login"), headers=_basic("alice", "nope"))
    assert bad.code == 401
    ok = await http.get(master.url("auth/login?redirect=/builders"),
                        headers=_basic("alice", "secret"))
    assert ok.code == 302
    assert ok.headers.getRawHeaders("location") == [f"{master.config.buildbotURL}#/builders"]
    cookie = ok.cookie()
    assert await _user(master, cookie) == {"username": "alice", "email": "alice"}
    out = await http.get(master.url("auth/logout?redirect=/x"),
                         headers={"Cookie": f"TWISTED_SESSION={cookie}"})
    assert out.code == 302
    assert await _user(master, out.cookie()) == {"anonymous": True}


@pytest_twisted.ensureDeferred
async def test_user_password_accepts_list_of_pairs(master: WebMaster) -> None:
    await master.start_www(auth=UserPasswordAuth([("bob", "pw")]))
    ok = await http.get(master.url("auth/login"), headers=_basic("bob", "pw"))
    assert ok.code == 302
    assert ok.headers.getRawHeaders("location") == [f"{master.config.buildbotURL}#/"]


@pytest_twisted.ensureDeferred
async def test_htpasswd_file(master: WebMaster, tmp_path: Path) -> None:
    passwd = tmp_path / "htpasswd"
    passwd.write_text("carol:plain\ndave:{SHA}" +
                      base64.b64encode(__import__("hashlib").sha1(b"pw2").digest()).decode() +
                      "\n")
    await master.start_www(auth=HTPasswdAuth(str(passwd)))
    assert (await http.get(master.url("auth/login"), headers=_basic("carol", "plain"))).code == 302
    assert (await http.get(master.url("auth/login"), headers=_basic("dave", "pw2"))).code == 302
    assert (await http.get(master.url("auth/login"), headers=_basic("dave", "x"))).code == 401


class OnlyEve(CustomAuth):
    def check_credentials(self, username: bytes, password: bytes) -> bool:
        return username == b"eve" and password == b"pw"


@pytest_twisted.ensureDeferred
async def test_custom_auth_is_basic_only(master: WebMaster) -> None:
    await master.start_www(auth=OnlyEve())
    res = await http.get(master.url("auth/login"))
    assert res.headers.getRawHeaders("www-authenticate") == ['basic realm="buildbot"']
    assert (await http.get(master.url("auth/login"), headers=_basic("eve", "pw"))).code == 302
    assert (await http.get(master.url("auth/login"), headers=_basic("eve", "no"))).code == 401


@pytest_twisted.ensureDeferred
async def test_custom_auth_is_its_own_checker() -> None:
    """As in 4.3, a CustomAuth is the credentials checker of its portal."""
    from twisted.cred.credentials import IUsernamePassword, UsernamePassword
    from twisted.cred.error import UnauthorizedLogin

    from buildbot.www.auth import UserInfoProviderBase

    auth = OnlyEve()
    assert auth.checkers == [auth] and auth.credentialInterfaces == [IUsernamePassword]
    assert await auth.requestAvatarId(UsernamePassword(b"eve", b"pw")) == b"eve"
    with pytest.raises(UnauthorizedLogin):
        await auth.requestAvatarId(UsernamePassword(b"eve", b"no"))
    assert UserInfoProviderBase().getConfigDict() == {"name": "noinfo"}


@pytest_twisted.ensureDeferred
async def test_remote_user_logs_in_on_index(master: WebMaster) -> None:
    await master.start_www(auth=RemoteUserAuth())
    res = await http.get(master.url("/"), headers={"REMOTE_USER": "frank@EXAMPLE"})
    assert await _user(master, res.cookie()) == {"username": "frank", "realm": "EXAMPLE",
                                                 "email": "frank"}
    assert (await http.get(master.url("auth/login"))).code == 403
    page = (await http.get(master.url("/"))).body.decode()
    assert '"on_load_warning": "missing http header REMOTE_USER' in page


@pytest_twisted.ensureDeferred
async def test_no_auth_login_is_500(master: WebMaster) -> None:
    await master.start_www()
    assert (await http.get(master.url("auth/login"))).code == 500


@pytest_twisted.ensureDeferred
async def test_expired_or_forged_cookie_becomes_anonymous(master: WebMaster) -> None:
    await master.start_www(auth=UserPasswordAuth({"alice": "secret"}),
                           cookie_expiration_time=datetime.timedelta(seconds=60))
    forged = jwt.encode({"user_info": {"username": "root"}, "exp": 2**40}, "wrong",
                        algorithm="HS256")
    assert await _user(master, forged) == {"anonymous": True}
    secret = master.www.sessions.secret
    expired = jwt.encode({"user_info": {"username": "alice"}, "exp": 1}, secret,
                         algorithm="HS256")
    assert await _user(master, expired) == {"anonymous": True}
    ok = await http.get(master.url("auth/login"), headers=_basic("alice", "secret"))
    claims = jwt.decode(ok.cookie(), secret, algorithms=["HS256"])
    assert claims["exp"] - master.www.now() <= 60


@pytest_twisted.ensureDeferred
async def test_session_secret_is_stored_in_state(master: WebMaster) -> None:
    await master.start_www()
    oid = await master.db.state.getObjectId("www", "buildbot.www.service.WWWService")
    assert await master.db.state.getState(oid, "session_secret") == master.www.sessions.secret
    assert len(master.www.sessions.secret) == 32


def test_anonymous_visitors_share_a_session_until_a_login() -> None:
    from twisted.internet.task import Clock

    from buildbot.www.session import ANONYMOUS_REUSE, Session, SessionManager, anonymous

    clock = Clock()
    manager = SessionManager("s" * 32, clock)
    first = Session(manager, anonymous(), manager.shared_anonymous_sid())
    second = Session(manager, anonymous(), manager.shared_anonymous_sid())
    assert first.sid == second.sid and first.uid == second.uid  # minted once
    assert manager.claims(first.uid) == (anonymous(), first.sid,
                                         int(manager.expiration.total_seconds()))
    clock.advance(ANONYMOUS_REUSE)
    assert manager.shared_anonymous_sid() != first.sid  # renewed
    second.user_info = {"username": "u"}  # a login: a session id of its own
    assert second.sid != first.sid
    first.user_info.update({"username": "v"})
    del first.user_info["anonymous"]  # changed in place (an auth plugin): still its own
    token = first.uid
    claims = manager.claims(token)
    assert claims is not None
    assert first.sid != second.sid and claims[1] == first.sid
