"""`LdapUserInfo`: user details (email, full name, groups) and avatars from an LDAP directory.

Used as `userInfoProvider=` of an auth plugin and/or as an avatar method. Needs the `ldap3`
package. Lookups run in a thread (ldap3's synchronous client), each on its own connection.
Values substituted into search filters are escaped (the reference substitutes them raw).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

from twisted.internet import threads

from buildbot.util import bytes2unicode
from buildbot.www.auth import UserInfoProviderBase
from buildbot.www.avatar import AvatarBase

# file signatures of the pictures a directory may hold (en.wikipedia.org/wiki/List_of_file_signatures)
_PICTURE_TYPES = ((b"\xff\xd8\xff", b"image/jpeg"), (b"\x89PNG", b"image/png"),
                  (b"GIF8", b"image/gif"))


def _ldap3() -> Any:
    return importlib.import_module("ldap3")


def _escape(value: str) -> str:
    escaped: str = _ldap3().utils.conv.escape_filter_chars(value)
    return escaped


def _single(value: Any) -> Any:
    """The first of a multi-valued attribute (None if it has none), a single value as is."""
    if isinstance(value, list):
        return next(iter(value), None)
    return value


class LdapUserInfo(AvatarBase, UserInfoProviderBase):
    """See the module docstring; arguments as in the reference."""

    name = "ldap"

    def __init__(self, uri: str, bindUser: str | None, bindPw: str | None, accountBase: str,
                 accountPattern: str, accountFullName: str, accountEmail: str,
                 groupBase: str | None = None, groupMemberPattern: str | None = None,
                 groupName: str | None = None, avatarPattern: str | None = None,
                 avatarData: str | None = None, accountExtraFields: list[str] | None = None,
                 tls: Any = None) -> None:
        _ldap3()  # an ImportError now, at configuration time, if ldap3 is missing
        group_settings = {"groupName": groupName, "groupMemberPattern": groupMemberPattern,
                          "groupBase": groupBase}
        if None in group_settings.values() and any(group_settings.values()):
            raise ValueError("Incomplete LDAP groups configuration. To use Ldap groups, you "
                             "need to specify the three parameters (groupName, "
                             "groupMemberPattern and groupBase). ")
        self.uri, self.tls = uri, tls
        self.bindUser, self.bindPw = bindUser, bindPw
        self.accountBase, self.accountPattern = accountBase, accountPattern
        self.accountFullName, self.accountEmail = accountFullName, accountEmail
        self.accountExtraFields = list(accountExtraFields or [])
        self.groupBase, self.groupMemberPattern, self.groupName = (
            groupBase, groupMemberPattern, groupName)
        self.avatarPattern, self.avatarData = avatarPattern, avatarData

    # -- the directory (all in a worker thread) ----------------------------------------------
    def connectLdap(self) -> Any:
        """A bound synchronous connection (anonymous unless a bind user or password is set)."""
        ldap3 = _ldap3()
        anonymous = self.bindUser is None and self.bindPw is None
        # ldap3 reads the scheme (ldaps: TLS) and port from the URI itself
        return ldap3.Connection(ldap3.Server(self.uri, get_info=ldap3.ALL, tls=self.tls),
                                auto_bind=True, client_strategy=ldap3.SYNC,
                                user=self.bindUser, password=self.bindPw,
                                authentication=ldap3.ANONYMOUS if anonymous else ldap3.SIMPLE)

    def search(self, c: Any, base: str | None, filterstr: str | None = "f",
               attributes: list[Any] | None = None) -> list[Any]:
        """ldap3's answer (entries and references) to a subtree search under `base`."""
        c.search(base, filterstr, _ldap3().SUBTREE, attributes=attributes)
        return list(c.response or [])

    @contextlib.contextmanager
    def _connected(self) -> Iterator[Any]:
        c = self.connectLdap()
        try:
            yield c
        finally:
            c.unbind()

    def _entries(self, c: Any, base: str | None, filterstr: str,
                 attributes: list[Any]) -> list[tuple[str, dict[str, Any]]]:
        """(dn, attributes) of the entries found (search references left out)."""
        return [(e["dn"], e["attributes"]) for e in self.search(c, base, filterstr, attributes)
                if e.get("type", "searchResEntry") == "searchResEntry"]

    def thd_user_info(self, username: str) -> dict[str, Any]:
        wanted = [self.accountEmail, self.accountFullName, *self.accountExtraFields]
        with self._connected() as c:
            query = self.accountPattern % {"username": _escape(username)}
            found = self._entries(c, self.accountBase, query, wanted)
            if len(found) != 1:
                raise KeyError(f'ldap search "{query}" returned {len(found)} results')
            dn, attrs = found[0]
            info: dict[str, Any] = {"username": username,
                                    "full_name": _single(attrs.get(self.accountFullName)),
                                    "email": _single(attrs.get(self.accountEmail))}
            info.update((f, _single(attrs[f])) for f in self.accountExtraFields if f in attrs)
            info["groups"] = self._group_names(c, dn)
        return info

    def _group_names(self, c: Any, dn: str) -> list[str]:
        """Every name (`groupName`, maybe multi-valued) of the groups `dn` is a member of."""
        if self.groupMemberPattern is None:
            return []
        query = self.groupMemberPattern % {"dn": _escape(dn)}
        names: list[str] = []
        for _, attrs in self._entries(c, self.groupBase, query, [self.groupName]):
            value = attrs.get(self.groupName or "", [])
            names += value if isinstance(value, list) else [value]
        return names

    def thd_avatar(self, email: bytes | None, username: bytes | None
                   ) -> tuple[bytes, bytes] | None:
        if username:
            query = self.accountPattern % {"username": _escape(bytes2unicode(username))}
        elif email and self.avatarPattern:
            query = self.avatarPattern % {"email": _escape(bytes2unicode(email))}
        else:
            return None
        with self._connected() as c:
            found = self._entries(c, self.accountBase, query, [self.avatarData])
        picture = _single(found[0][1].get(self.avatarData or "")) if found else None
        return self.findAvatarMime(picture) if picture else None

    # -- the two roles ------------------------------------------------------------------------
    def getUserInfo(self, username: str | bytes) -> Any:
        return threads.deferToThread(self.thd_user_info, bytes2unicode(username))

    def findAvatarMime(self, data: bytes) -> tuple[bytes, bytes] | None:
        """(mime type, data) for JPEG, PNG and GIF pictures; None otherwise."""
        for signature, mime in _PICTURE_TYPES:
            if data.startswith(signature):
                return mime, data
        return None

    def getUserAvatar(self, email: bytes, username: bytes | None, size: int,
                      defaultAvatarUrl: str) -> Any:
        if not self.avatarData:
            return None  # no picture attribute configured: let the next method answer
        return threads.deferToThread(self.thd_avatar, email, username)
