"""Role matchers: which roles a logged-in user has (`c['www']['authz']` `roleMatchers`)."""

from __future__ import annotations

from typing import Any


class RolesFromBase:
    """Base of role matchers: `getRolesFromUser(userDetails)` returns a list of role names.

    `setAuthz` hands over the Authz (and through it the master) for matchers that need to
    look data up; the built-in ones decide from the user's details alone."""

    authz: Any = None
    master: Any = None

    def setAuthz(self, authz: Any) -> None:
        self.authz = authz
        self.master = getattr(authz, "master", None)

    def getRolesFromUser(self, userDetails: dict[str, Any]) -> list[str]:
        return []


class RolesFromGroups(RolesFromBase):
    """Each of the user's `groups` starting with `groupPrefix` is a role (prefix removed)."""

    def __init__(self, groupPrefix: str = "") -> None:
        self.groupPrefix = groupPrefix

    def getRolesFromUser(self, userDetails: dict[str, Any]) -> list[str]:
        prefixed = (g for g in userDetails.get("groups") or () if isinstance(g, str))
        return [g.removeprefix(self.groupPrefix) for g in prefixed
                if g.startswith(self.groupPrefix)]


class RolesFromEmails(RolesFromBase):
    """`RolesFromEmails(admins=["a@x.org"], ...)`: roles whose list holds the user's email."""

    def __init__(self, **kwargs: list[str]) -> None:
        self.roles: dict[str, set[str]] = {}
        for role, values in kwargs.items():
            for value in values:
                self.roles.setdefault(value, set()).add(role)

    def _key(self, userDetails: dict[str, Any]) -> str | None:
        email = userDetails.get("email")
        return email if isinstance(email, str) else None

    def getRolesFromUser(self, userDetails: dict[str, Any]) -> list[str]:
        key = self._key(userDetails)
        return sorted(self.roles.get(key, ())) if key is not None else []


class RolesFromDomain(RolesFromEmails):
    """`RolesFromDomain(admins=["x.org"])`: roles by the domain part of the user's email."""

    def _key(self, userDetails: dict[str, Any]) -> str | None:
        email = userDetails.get("email")
        if not isinstance(email, str) or "@" not in email:
            return None
        return email.split("@", 1)[1]


class RolesFromOwner(RolesFromBase):
    """`role` when the user's email is the owner of the build/request/buildset targeted."""

    def __init__(self, role: str) -> None:
        self.role = role

    def getRolesFromUser(self, userDetails: dict[str, Any],
                         owner: str | None = None) -> list[str]:
        email = userDetails.get("email")
        if owner is not None and email is not None and owner == email:
            return [self.role]
        return []


class RolesFromUsername(RolesFromBase):
    """`roles` for the users whose `username` is in `usernames`."""

    def __init__(self, roles: list[str] | str, usernames: list[str] | str) -> None:
        self.roles = [roles] if isinstance(roles, str) else list(roles)
        self.usernames = [usernames] if isinstance(usernames, str) else list(usernames)
        if None in self.usernames:
            # A config-time check; raised so that loading master.cfg reports it.
            raise ValueError("Usernames cannot be None")

    def getRolesFromUser(self, userDetails: dict[str, Any]) -> list[str]:
        if userDetails.get("username") in self.usernames:
            return list(self.roles)
        return []
