# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""`/change_hook/<dialect>`: webhooks that create changes.

The dialect handler (a built-in one from `buildbot.www.hooks`, a `buildbot.webhooks` entry
point, or `custom_class`) turns the request into change dicts; each is added through
`master.data.updates.addChange`. A handler rejecting the request (ValueError: bad
signature, unknown event, ...) and a malformed payload get 400; nothing is stored then.
"""

from __future__ import annotations

import importlib
import re
from datetime import datetime
from importlib import metadata
from typing import Any

from twisted.cred import checkers, portal
from twisted.logger import Logger
from twisted.web import resource, server
from twisted.web.guard import BasicCredentialFactory, HTTPAuthSessionWrapper
from zope.interface import implementer

from buildbot.util import bytes2unicode, datetime2epoch
from buildbot.util.deferred import maybe_await
from buildbot.util.internal import differs_internally
from buildbot.www.resource import AsyncResource, finish

log = Logger()

BUILTIN_DIALECTS = ("base", "github", "gitlab", "bitbucket", "bitbucketcloud",
                    "bitbucketserver", "gitorious", "poller")

_URI_RE = re.compile(r"^/change_hook/?([a-zA-Z0-9_]*)")
_TEXT_FIELDS = ("comments", "author", "committer", "revision", "branch", "category",
                "revlink", "repository", "codebase", "project")


def dialect_class(name: str) -> Any:
    """The handler class of a dialect: ours first, then `buildbot.webhooks` entry points."""
    if name in BUILTIN_DIALECTS:
        module = importlib.import_module(f"buildbot.www.hooks.{name}")
        return getattr(module, name)
    for ep in metadata.entry_points(group="buildbot.webhooks"):
        if ep.name == name:
            return ep.load()
    return None


class ChangeHookResource(AsyncResource):
    """Every path below `/change_hook` (the dialect is read from the request URI)."""

    isLeaf = True

    def __init__(self, www: Any) -> None:
        super().__init__(www)
        self.dialects: dict[str, Any] = www.www_config.get("change_hook_dialects") or {}
        self._handlers: dict[str, Any] = {}

    def render_GET(self, request: server.Request) -> int:
        return self.render_async(request, self._render)

    render_POST = render_GET

    def _handler(self, dialect: str) -> Any:
        if dialect not in self.dialects:
            raise ValueError(f"The dialect specified, '{dialect}', wasn't whitelisted in "
                             "change_hook")
        handler = self._handlers.get(dialect)
        if handler is None:
            options = self.dialects[dialect]
            if isinstance(options, dict) and "custom_class" in options:
                klass = options["custom_class"]
            else:
                klass = dialect_class(dialect)
                if klass is None:
                    raise ValueError(f"The dialect specified, '{dialect}', is not registered "
                                     "as a buildbot.webhook plugin")
            handler = self._handlers[dialect] = klass(self.master, options)
        return handler

    async def _render(self, request: server.Request) -> None:
        request.setHeader(b"content-type", b"text/html")
        try:
            m = _URI_RE.search(bytes2unicode(request.uri))
            if m is None:
                raise ValueError(f"URI doesn't match change_hook regex: "
                                 f"{bytes2unicode(request.uri)}")
            handler = self._handler(m.group(1) or "base")
            try:
                changes, src = await maybe_await(handler.getChanges(request))
            except (KeyError, IndexError, TypeError, AttributeError, RecursionError) as e:
                # A payload lacking what the dialect needs (or nested too deeply to parse)
                # is the sender's error, not ours.
                raise ValueError(f"Malformed payload: {e!r}") from e
        except ValueError as e:
            msg = str(e)
            log.info("change hook rejected request: {msg}", msg=msg)
            request.setResponseCode(400, msg.encode("utf-8", "replace")[:200].replace(b"\n", b" "))
            finish(request, msg.encode("utf-8"))
            return
        except Exception:  # noqa: BLE001 - a dialect's bug: logged, the sender gets a 500
            log.failure("adding changes from web hook")
            request.setResponseCode(500, b"Error processing changes.")
            finish(request, b"Error processing changes.")
            return
        try:
            for chdict in changes:
                await self._submit(chdict, src)
        except Exception:  # noqa: BLE001 - storing failed: logged, the sender gets a 500
            log.failure("adding changes from web hook")
            request.setResponseCode(500, b"Error processing changes.")
            finish(request, b"Error processing changes.")
            return
        body = f"{len(changes)} change found" if changes else "no change found"
        finish(request, body.encode())

    async def _submit(self, chdict: dict[str, Any], src: Any) -> None:
        chdict = dict(chdict)
        when = chdict.get("when_timestamp")
        if isinstance(when, datetime):
            chdict["when_timestamp"] = datetime2epoch(when)
        for k in _TEXT_FIELDS:
            if k in chdict:
                chdict[k] = bytes2unicode(chdict[k])
        if chdict.get("files"):
            chdict["files"] = [bytes2unicode(f) for f in chdict["files"]]
        if chdict.get("properties"):
            chdict["properties"] = {bytes2unicode(k): v for k, v in chdict["properties"].items()}
        changeid = await self.master.data.updates.addChange(src=bytes2unicode(src), **chdict)
        log.info("injected change {changeid}", changeid=changeid)


@implementer(portal.IRealm)
class _Realm:
    def __init__(self, protected: resource.IResource) -> None:
        self.protected = protected

    def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: Any) -> Any:
        if resource.IResource in interfaces:
            return resource.IResource, self.protected, lambda: None
        raise NotImplementedError()


def protect(res: Any, credential_checkers: Any) -> Any:
    """Wrap `res` in HTTP Basic authentication (realm `Protected area`) if checkers are
    configured (`c['www']['change_hook_auth']`)."""
    if not credential_checkers:
        return res
    cks = [c for c in credential_checkers if checkers.ICredentialsChecker.providedBy(c)]
    realm: Any = _Realm(res)  # zope @implementer is invisible to mypy
    return HTTPAuthSessionWrapper(portal.Portal(realm, cks),
                                  [BasicCredentialFactory(b"Protected area")])


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
_INTERNAL_WHY = "the web service builds its resources itself (buildbot.www.service)"
for _cls in (ChangeHookResource,):
    differs_internally(_INTERNAL_WHY)(_cls)
