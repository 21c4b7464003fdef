"""`LdapUserInfo`: user details (email, full name, groups) and avatars from an LDAP directory.

Used as `userInfoProvider=` of an auth plugin and/or as an avatar method. Needs the `ldap3`
package. Searches run in a thread (ldap3's synchronous client). Values substituted into
search filters are escaped (the reference substitutes them raw).
"""

from __future__ import annotations

import importlib
from typing import Any

from twisted.internet import threads

from buildbot.util import bytes2unicode
from buildbot.www.auth import UserInfoProviderBase
from buildbot.www.avatar import AvatarBase


def _ldap3() -> Any:
    return importlib.import_module("ldap3")


def _escape(value: str) -> str:
    return _ldap3().utils.conv.escape_filter_chars(value)  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any


class LdapUserInfo(AvatarBase, UserInfoProviderBase):
    """See the module docstring; arguments as in the reference."""

    name = "ldap"

    def __init__(self, uri: str, bindUser: str | None, bindPw: str | None, accountBase: str,
                 accountPattern: str, accountFullName: str, accountEmail: str,
                 groupBase: str | None = None, groupMemberPattern: str | None = None,
                 groupName: str | None = None, avatarPattern: str | None = None,
                 avatarData: str | None = None, accountExtraFields: list[str] | None = None,
                 tls: Any = None) -> None:
        _ldap3()  # fail at configuration time if ldap3 is missing
        self.uri = uri
        self.bindUser = bindUser
        self.bindPw = bindPw
        self.accountBase = accountBase
        self.accountPattern = accountPattern
        self.accountFullName = accountFullName
        self.accountEmail = accountEmail
        group_params = [p for p in (groupName, groupMemberPattern, groupBase) if p is not None]
        if len(group_params) not in (0, 3):
            raise ValueError("Incomplete LDAP groups configuration. To use Ldap groups, you "
                             "need to specify the three parameters (groupName, "
                             "groupMemberPattern and groupBase). ")
        self.groupName = groupName
        self.groupMemberPattern = groupMemberPattern
        self.groupBase = groupBase
        self.avatarPattern = avatarPattern
        self.avatarData = avatarData
        self.accountExtraFields = accountExtraFields or []
        self.tls = tls

    def connectLdap(self) -> Any:
        ldap3 = _ldap3()
        server = ldap3.Server(self.uri, get_info=ldap3.ALL, tls=self.tls)
        auth = ldap3.SIMPLE if self.bindUser else ldap3.ANONYMOUS
        return ldap3.Connection(server, auto_bind=True, client_strategy=ldap3.SYNC,
                                user=self.bindUser, password=self.bindPw, authentication=auth)

    def search(self, c: Any, base: str, filterstr: str, attributes: list[str]) -> list[Any]:
        c.search(base, filterstr, _ldap3().SUBTREE, attributes=attributes)
        return list(c.response)

    def _first(self, values: Any) -> Any:
        if isinstance(values, list):
            return values[0] if values else None
        return values

    def thd_user_info(self, username: str) -> dict[str, Any]:
        c = self.connectLdap()
        try:
            pattern = self.accountPattern % {"username": _escape(username)}
            res = self.search(c, self.accountBase, pattern,
                              [self.accountEmail, self.accountFullName,
                               *self.accountExtraFields])
            if len(res) != 1:
                raise KeyError(f'ldap search "{pattern}" returned {len(res)} results')
            dn, ldap_info = res[0]["dn"], res[0]["attributes"]
            info: dict[str, Any] = {
                "email": self._first(ldap_info.get(self.accountEmail)),
                "full_name": self._first(ldap_info.get(self.accountFullName)),
            }
            for f in self.accountExtraFields:
                if f in ldap_info:
                    info[f] = self._first(ldap_info[f])
            if self.groupMemberPattern is None:
                info["groups"] = []
                return info
            pattern = self.groupMemberPattern % {"dn": _escape(dn)}
            groups = self.search(c, self.groupBase or "", pattern, [self.groupName or ""])
            info["groups"] = [self._first(g["attributes"][self.groupName]) for g in groups]
            return info
        finally:
            c.unbind()

    def getUserInfo(self, username: str) -> Any:
        return threads.deferToThread(self.thd_user_info, bytes2unicode(username))

    def thd_avatar(self, email: bytes, username: bytes | None) -> tuple[bytes, bytes] | None:
        if not self.avatarData:
            return None
        c = self.connectLdap()
        try:
            if username:
                pattern = self.accountPattern % {"username": _escape(bytes2unicode(username))}
            elif self.avatarPattern and email:
                pattern = self.avatarPattern % {"email": _escape(bytes2unicode(email))}
            else:
                return None
            res = self.search(c, self.accountBase, pattern, [self.avatarData])
            if not res or self.avatarData not in res[0]["attributes"]:
                return None
            data = self._first(res[0]["attributes"][self.avatarData])
            return self.findAvatarMime(data) if data else None
        finally:
            c.unbind()

    def findAvatarMime(self, data: bytes) -> tuple[bytes, bytes] | None:
        """(mime type, data) for JPEG, PNG and GIF pictures; None otherwise."""
        if data.startswith(b"\xff\xd8\xff"):
            return b"image/jpeg", data
        if data.startswith(b"\x89PNG"):
            return b"image/png", data
        if data.startswith((b"GIF87a", b"GIF89a")):
            return b"image/gif", data
        return None

    def getUserAvatar(self, email: bytes, username: bytes | None, size: int,
                      defaultAvatarUrl: str) -> Any:
        return threads.deferToThread(self.thd_avatar, email, username)
