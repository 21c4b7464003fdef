"""Split a git remote URL (https/http/git/ssh URL or scp-like `user@host:path`) into parts."""

from __future__ import annotations

import re
from typing import NamedTuple


class GitUrl(NamedTuple):
    """The parts of a git remote; `owner` is the path before the repository (may be nested)."""

    proto: str
    user: str | None
    password: str | None
    domain: str
    port: int | None
    owner: str | None
    repo: str


_USER = r"(?:(?P<user>[^:@/]+)(?::(?P<password>{pw}))?@)?"
_TAIL = r"(?:(?P<owner>.+)/)?(?P<repo>[^/]+?)(?:\.git)?$"
# Full URLs of the protocols git speaks; anything else is read as the scp-like form.
_URL = re.compile(r"^(?P<proto>https?|git|ssh)://" + _USER.format(pw="[^@/]*")
                  + r"(?P<domain>[^:/@]+)(?::(?P<port>\d+))?[:/]" + _TAIL)
_SCP_LIKE = re.compile(r"^" + _USER.format(pw="[^@]+")
                       + r"(?P<domain>[^:/@]+)[:/](?:(?P<port>\d+)/)?" + _TAIL)


def giturlparse(url: str) -> GitUrl | None:
    """The parts of `url`, or None when it is not a git remote of a known shape."""
    m = _URL.match(url)
    proto = m.group("proto") if m else "ssh"
    m = m or _SCP_LIKE.match(url)
    if m is None:
        return None
    port = m.group("port")
    return GitUrl(proto, m.group("user"), m.group("password"), m.group("domain"),
                  int(port) if port else None, m.group("owner"), m.group("repo"))
