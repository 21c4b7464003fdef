"""`Authz`: who may do what through the web layer (REST, JSON-RPC, WebSocket)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from typing import Any

from buildbot.util.deferred import maybe_await
from buildbot.www.authz.roles import RolesFromOwner


class Forbidden(Exception):
    """The user lacks a role a rule requires (HTTP 403)."""

    def __init__(self, msg: str | bytes) -> None:
        text = msg.decode("utf-8") if isinstance(msg, bytes) else msg
        super().__init__(text)
        self.message = text


def fnmatchStrMatcher(value: str, match: str) -> bool:
    """Shell-style pattern match (the default `stringsMatcher`)."""
    return fnmatch.fnmatch(value, match)


def reStrMatcher(value: str, match: str) -> bool:
    """Regular expression match anchored at the start."""
    return re.match(match, value) is not None


class Authz:
    """Rules are tried in order; the first whose endpoint matcher matches decides: allow if
    the user has a role matching the rule's `role`, else deny (or, with
    `defaultDeny=False`, go on). No matching rule: allow."""

    def __init__(self, allowRules: Sequence[Any] | None = None,
                 roleMatchers: Sequence[Any] | None = None,
                 stringsMatcher: Callable[[str, str], bool] = fnmatchStrMatcher) -> None:
        self.match = stringsMatcher
        self.allowRules = list(allowRules or [])
        self.roleMatchers = [r for r in (roleMatchers or []) if not isinstance(r, RolesFromOwner)]
        self.ownerRoleMatchers = [r for r in (roleMatchers or [])
                                  if isinstance(r, RolesFromOwner)]
        self.master: Any = None

    def getConfigDict(self) -> dict[str, Any]:
        return {}

    @property
    def restricts_reads(self) -> bool:
        """Whether some rule may deny a `get` (then live events must be filtered). Our
        control-only matchers never match reads; anything else (custom ones too) might."""
        from buildbot.www.authz import endpointmatchers as em

        control_only = (em.AnyControlEndpointMatcher, em.StopBuildEndpointMatcher,
                        em.RebuildBuildEndpointMatcher, em.ForceBuildEndpointMatcher,
                        em.EnableSchedulerEndpointMatcher)
        return any(type(r) not in control_only for r in self.allowRules)

    def setMaster(self, master: Any) -> None:
        self.master = master
        for r in self.roleMatchers + self.ownerRoleMatchers + self.allowRules:
            r.setAuthz(self)

    def getRolesFromUser(self, userDetails: dict[str, Any]) -> set[str]:
        roles: set[str] = set()
        for matcher in self.roleMatchers:
            roles.update(matcher.getRolesFromUser(userDetails))
        return roles

    def getOwnerRolesFromUser(self, userDetails: dict[str, Any], owner: str | None) -> set[str]:
        roles: set[str] = set()
        for matcher in self.ownerRoleMatchers:
            roles.update(matcher.getRolesFromUser(userDetails, owner))
        return roles

    async def assertUserAllowed(self, ep: Sequence[Any], action: str,
                                options: dict[str, Any] | None,
                                userDetails: dict[str, Any]) -> None:
        """Return if allowed; raise `Forbidden` otherwise."""
        path = tuple(ep)
        roles = self.getRolesFromUser(userDetails)
        for rule in self.allowRules:
            match = await maybe_await(rule.match(path, action, options))
            if match is None or match is False:
                continue
            if self.ownerRoleMatchers and hasattr(match, "getOwner"):
                owner = await maybe_await(match.getOwner())
                roles = roles | self.getOwnerRolesFromUser(userDetails, owner)
            if any(self.match(role, rule.role) for role in roles):
                return
            if rule.defaultDeny:
                raise Forbidden(f"you need to have role '{rule.role}'")
