"""Splitting git repository URLs into host, owner and repository name (forge reporters need
`owner/repo`). Accepts `https://`, `http://`, `ssh://`, `git://` URLs, scp-like
`user@host:owner/repo.git` and bare `host/owner/repo`; the owner keeps inner slashes (GitLab
subgroups)."""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import urlsplit


class GitUrl(NamedTuple):
    proto: str
    user: str | None
    password: str | None
    domain: str
    port: int | None
    owner: str | None
    repo: str


_SCHEMES = ("https", "http", "ssh", "git")
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^:@/]*)(?::(?P<password>[^@]*))?@)?"
                       r"(?P<domain>[^/:@]+)(?P<sep>[:/])(?P<path>.+)$")


def _split_path(path: str) -> tuple[str | None, str] | None:
    path = path.strip("/").removesuffix(".git")
    if not path:
        return None
    owner, _, repo = path.rpartition("/")
    if not repo:
        return None
    return (owner or None), repo


def giturlparse(url: str) -> GitUrl | None:
    """The parts of `url`, or None if it does not look like a repository URL."""
    scheme, sep, _ = url.partition("://")
    if sep:
        if scheme not in _SCHEMES:
            return None
        parts = urlsplit(url)
        if not parts.hostname:
            return None
        split = _split_path(parts.path)
        if split is None:
            return None
        try:
            port = parts.port
        except ValueError:
            return None
        return GitUrl(scheme, parts.username, parts.password, parts.hostname, port, *split)
    m = _SCP_LIKE.match(url)
    if m is None:
        return None
    path = m.group("path")
    port = None
    if m.group("sep") == ":":
        # `host:2222/owner/repo` names a port, as in 4.3
        head, slash, rest = path.partition("/")
        if slash and head.isdigit():
            port, path = int(head), rest
    split = _split_path(path)
    if split is None:
        return None
    return GitUrl("ssh", m.group("user"), m.group("password"), m.group("domain"), port, *split)
