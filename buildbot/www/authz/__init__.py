"""Authorization: `Authz`, endpoint matchers and role matchers (reference import paths)."""

from buildbot.www.authz.authz import Authz, Forbidden, fnmatchStrMatcher, reStrMatcher

__all__ = ["Authz", "Forbidden", "fnmatchStrMatcher", "reStrMatcher"]
