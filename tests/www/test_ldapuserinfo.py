"""LdapUserInfo with the real ldap3 client against its in-memory directory (MOCK_SYNC)."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted

ldap3 = pytest.importorskip("ldap3")

from buildbot.www.ldapuserinfo import LdapUserInfo  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\nrest"


class InMemoryLdap(LdapUserInfo):
    """Connects to an in-memory directory holding two users and two groups."""

    unbound = 0

    def connectLdap(self) -> Any:
        c = ldap3.Connection(ldap3.Server("mock"), user="cn=admin,dc=x", password="pw",
                             client_strategy=ldap3.MOCK_SYNC)
        c.strategy.add_entry("cn=admin,dc=x", {"userPassword": "pw"})
        c.strategy.add_entry("uid=ada,ou=people,dc=x", {
            "uid": "ada", "cn": "Ada L", "mail": ["ada@x.org", "al@x.org"], "shell": "/bin/zsh",
            "jpegPhoto": PNG, "objectClass": "person"})
        c.strategy.add_entry("uid=bob(x),ou=people,dc=x", {
            "uid": "bob(x)", "cn": "Bob", "mail": "bob@x.org", "objectClass": "person"})
        for name, members in (("devs", ["uid=ada,ou=people,dc=x"]),
                              ("ops", ["uid=ada,ou=people,dc=x", "uid=bob(x),ou=people,dc=x"])):
            c.strategy.add_entry(f"cn={name},ou=groups,dc=x", {
                "cn": [name, f"{name}-alias"], "member": members, "objectClass": "group"})
        c.bind()
        original = c.unbind

        def unbind() -> Any:
            type(self).unbound += 1
            return original()

        c.unbind = unbind
        return c


def make(**kwargs: Any) -> InMemoryLdap:
    return InMemoryLdap(uri="ldap://ldap.x:389", bindUser="cn=admin,dc=x", bindPw="pw",
                        accountBase="ou=people,dc=x", accountPattern="(uid=%(username)s)",
                        accountFullName="cn", accountEmail="mail", **kwargs)


@pytest_twisted.ensureDeferred
async def test_user_info_with_groups_and_extra_fields() -> None:
    info = make(groupBase="ou=groups,dc=x", groupMemberPattern="(member=%(dn)s)",
                groupName="cn", accountExtraFields=["shell", "missing"])
    ada = await info.getUserInfo(b"ada")
    ada["groups"].sort()  # in the directory's order
    # ldap3 returns every requested attribute, absent ones empty: `missing` is None
    assert ada == {
        "username": "ada", "full_name": "Ada L", "email": "ada@x.org", "shell": "/bin/zsh",
        "missing": None, "groups": ["devs", "devs-alias", "ops", "ops-alias"]}
    # the user name is escaped in the filter: parentheses match literally
    assert (await info.getUserInfo("bob(x)"))["groups"] == ["ops", "ops-alias"]
    with pytest.raises(KeyError, match='ldap search "\\(uid=nobody\\)" returned 0 results'):
        await info.getUserInfo("nobody")
    assert InMemoryLdap.unbound == 3  # each lookup closes its connection


@pytest_twisted.ensureDeferred
async def test_search_avatar_and_settings() -> None:
    info = make(avatarData="jpegPhoto", avatarPattern="(mail=%(email)s)")
    assert (await info.getUserInfo("ada"))["groups"] == []
    c = info.connectLdap()
    found = info.search(c, "ou=people,dc=x", "(uid=ada)", ["cn"])
    assert [e["dn"] for e in found] == ["uid=ada,ou=people,dc=x"]
    c.unbind()
    assert await info.getUserAvatar(b"ada@x.org", None, 32, "") == (b"image/png", PNG)
    assert await info.getUserAvatar(b"", b"ada", 32, "") == (b"image/png", PNG)
    assert await info.getUserAvatar(b"bob@x.org", None, 32, "") is None  # no picture
    assert make().getUserAvatar(b"ada@x.org", b"ada", 32, "") is None  # not configured
    with pytest.raises(ValueError, match="Incomplete LDAP groups configuration"):
        make(groupBase="ou=groups,dc=x")
