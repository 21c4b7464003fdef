"""Links to a revision's web page (`c['revlink']`): `RevlinkMatch` rules and the default
matcher for GitHub, Bitbucket and SourceForge repositories."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any


class RevlinkMatch:
    """`util.RevlinkMatch(repo_urls, revlink)`: for a repository matching one of the
    regexes, the link is `revlink` with the regex groups expanded (`\\1`, `\\g<name>`) and
    `%s` replaced by the revision."""

    def __init__(self, repo_urls: str | list[str], revlink: str) -> None:
        patterns = [repo_urls] if isinstance(repo_urls, str) else repo_urls
        self.repo_urls = [re.compile(pattern) for pattern in patterns]
        # `\1`-style groups of the matching URL pattern, then `%s` for the revision
        self.revlink = revlink

    def __call__(self, rev: str, repo: str) -> str | None:
        found = next((m for m in (url.match(repo) for url in self.repo_urls) if m), None)
        return None if found is None else found.expand(self.revlink) % rev


GithubRevlink = RevlinkMatch(
    repo_urls=[r"https://github.com/([^/]*)/([^/]*?)(?:\.git)?$",
               r"git://github.com/([^/]*)/([^/]*?)(?:\.git)?$",
               r"git@github.com:([^/]*)/([^/]*?)(?:\.git)?$",
               r"ssh://git@github.com/([^/]*)/([^/]*?)(?:\.git)?$"],
    revlink=r"https://github.com/\1/\2/commit/%s")

BitbucketRevlink = RevlinkMatch(
    repo_urls=[r"https://[^@]*@bitbucket.org/([^/]*)/([^/]*?)(?:\.git)?$",
               r"git@bitbucket.org:([^/]*)/([^/]*?)(?:\.git)?$"],
    revlink=r"https://bitbucket.org/\1/\2/commits/%s")


class GitwebMatch(RevlinkMatch):
    """A gitweb installation: `revlink` is the gitweb script's URL."""

    def __init__(self, repo_urls: str | list[str], revlink: str) -> None:
        super().__init__(repo_urls=repo_urls, revlink=revlink + r"?p=\g<repo>;a=commit;h=%s")


SourceforgeGitRevlink = GitwebMatch(
    repo_urls=[r"^git://([^.]*).git.sourceforge.net/gitroot/(?P<repo>.*)$",
               r"[^@]*@([^.]*).git.sourceforge.net:gitroot/(?P<repo>.*)$",
               r"ssh://(?:[^@]*@)?([^.]*).git.sourceforge.net/gitroot/(?P<repo>.*)$"],
    revlink=r"http://\1.git.sourceforge.net/git/gitweb.cgi")

SourceforgeGitRevlink_AlluraPlatform = RevlinkMatch(
    repo_urls=[r"git://git.code.sf.net/p/(?P<repo>.*)$",
               r"http://git.code.sf.net/p/(?P<repo>.*)$",
               r"ssh://(?:[^@]*@)?git.code.sf.net/p/(?P<repo>.*)$"],
    revlink=r"https://sourceforge.net/p/\1/ci/%s/")


class RevlinkMultiplexer:
    """The first link any of several matchers gives."""

    def __init__(self, *revlinks: Callable[[str, str], Any]) -> None:
        self.revlinks = revlinks

    def __call__(self, rev: str, repo: str) -> Any:
        links = (revlink(rev, repo) for revlink in self.revlinks)
        return next((url for url in links if url), None)


default_revlink_matcher = RevlinkMultiplexer(
    GithubRevlink, BitbucketRevlink, SourceforgeGitRevlink,
    SourceforgeGitRevlink_AlluraPlatform)
