"""The web service's 4.3 methods, on a real web service (real HTTP, real state table)."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.web import resource as twresource
from twisted.web.guard import HTTPAuthSessionWrapper
from twisted.web.test.requesthelper import DummyRequest

from buildbot.www.auth import UserPasswordAuth
from buildbot.www.authz import Authz, Forbidden
from buildbot.www.authz.endpointmatchers import AnyControlEndpointMatcher
from buildbot.www.authz.roles import RolesFromUsername
from buildbot.www.resource import Resource
from buildbot.www.service import WWWService
from tests.www.harness import WebConfig, WebMaster, http


class ReconfiguredResource(Resource):
    """A plugin resource asking for the new configuration on each reconfiguration."""

    needsReconfig = True

    def __init__(self, master: Any) -> None:
        self.seen: list[Any] = []
        super().__init__(master)

    def reconfigResource(self, new_config: Any) -> None:
        self.seen.append(new_config)


class SessionRequest(DummyRequest):
    def __init__(self, user_info: dict[str, Any]) -> None:
        super().__init__([b""])
        self.session = type("S", (), {"user_info": user_info})()

    def getSession(self, sessionInterface: Any = None) -> Any:
        return self.session


@pytest_twisted.ensureDeferred
async def test_reconfiguration_steps_of_4_3(master: WebMaster) -> None:
    auth = UserPasswordAuth({"u": "p"})
    www = await master.start_www(auth=auth, authz=Authz(
        allowRules=[AnyControlEndpointMatcher(role="admins")],
        roleMatchers=[RolesFromUsername(roles=["admins"], usernames=["boss"])]))
    assert www.auth is auth and WWWService.reconfig_priority == 128
    assert www.base_plugin_name == "base"

    plugin_resource = ReconfiguredResource(master)
    assert www.reconfigurableResources == [plugin_resource]
    new = WebConfig({"port": master.config.www["port"]}, master.config.buildbotURL)
    await www.reconfigServiceWithBuildbotConfig(new)
    assert plugin_resource.seen == [new]
    assert www.auth.__class__.__name__ == "NoAuth"  # the new config has no auth
    assert (await http.get(master.url("config"))).code == 200  # the rebuilt site serves

    # the session secret is shared through the state table: a second service finds it
    other = WWWService(master)
    await other.makeSessionSecret()
    assert other.sessions.secret == www.sessions.secret

    # plugins: unknown ones are refused, the retired React UI too
    root = twresource.Resource()
    www.configPlugins(root, new)
    assert root.children[b"plugins"].children == {}
    with pytest.raises(RuntimeError, match="could not find plugin nope"):
        www.configPlugins(root, WebConfig({"plugins": {"nope": {}}}))
    with pytest.raises(ValueError, match="'base_react' plugin is no longer supported"):
        www.refresh_base_plugin_name(WebConfig({"plugins": {"base_react": {}}}))
    with pytest.raises(ValueError, match="base_react"):
        await www.reconfigServiceWithBuildbotConfig(WebConfig({"plugins": {"base_react": {}}}))
    assert www.auth_configured is False  # a refused config changed nothing


@pytest_twisted.ensureDeferred
async def test_user_infos_and_permission_checks(master: WebMaster) -> None:
    www = await master.start_www(authz=Authz(
        allowRules=[AnyControlEndpointMatcher(role="admins")],
        roleMatchers=[RolesFromUsername(roles=["admins"], usernames=["boss"])]))
    boss, guest = SessionRequest({"username": "boss"}), SessionRequest({"username": "guest"})
    assert www.getUserInfos(boss) == {"username": "boss"}
    await www.assertUserAllowed(boss, ("builds", 5), "stop", {})
    await www.assertUserAllowed(guest, ("builds", 5), "get", {})
    with pytest.raises(Forbidden, match="you need to have role 'admins'"):
        await www.assertUserAllowed(guest, ["builds", 5], "stop", {})


def test_protected_resource() -> None:
    from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse

    www = WWWService()
    inner = twresource.Resource()
    assert www.setupProtectedResource(inner, None) is inner
    wrapped = www.setupProtectedResource(
        inner, [InMemoryUsernamePasswordDatabaseDontUse(user=b"pw")])
    assert isinstance(wrapped, HTTPAuthSessionWrapper)


@pytest.mark.parametrize(("raise_", "status", "body"), [
    (None, 200, b"ok"),
    (("http", 404), 404, b"nope"),
    (("twisted", 403), 403, b"denied"),
    (("bug", 0), 500, b"internal error - see logs"),
])
@pytest_twisted.ensureDeferred
async def test_async_render_helper(raise_: Any, status: int, body: bytes,
                                   logged_errors: Any) -> None:
    """4.3's helper for plugin resources: body, or an answer for each kind of failure."""
    from twisted.web import error as web_error

    from buildbot.www.resource import HttpError

    async def render(request: Any) -> bytes:
        if raise_ is None:
            return b"ok"
        kind, code = raise_
        if kind == "http":
            raise HttpError(code, "nope")
        if kind == "twisted":
            raise web_error.Error(code, b"denied")
        raise ValueError("a bug")

    request = DummyRequest([b""])
    done = request.notifyFinish()
    Resource(None).asyncRenderHelper(request, render)
    await done
    assert (request.responseCode or 200, b"".join(request.written)) == (status, body)
    # only the bug is logged (with its traceback)
    assert len(logged_errors.flush(ValueError)) == (1 if status == 500 else 0)


@pytest_twisted.ensureDeferred
async def test_async_render_helper_redirect_and_custom_errors(logged_errors: Any) -> None:
    from buildbot.www.resource import Redirect

    async def redirect(request: Any) -> bytes:
        raise Redirect("/next\r\nSet-Cookie: x")

    request = DummyRequest([b""])
    done = request.notifyFinish()
    Resource(None).asyncRenderHelper(request, redirect)
    await done
    assert (request.responseCode, request.responseHeaders.getRawHeaders(b"location")) == (
        302, [b"/next"])  # cut at the line break: no header injection

    errors: list[tuple[bytes, int]] = []

    def fail(request: Any) -> bytes:
        raise KeyError("x")

    Resource(None).asyncRenderHelper(DummyRequest([b""]), fail,
                                     lambda msg, errcode: errors.append((msg, errcode)))
    assert errors == [(b"internal error - see logs", 500)]
    assert len(logged_errors.flush(KeyError)) == 1
