"""ChangeFilter (table-driven), SourceStampFilter and the revlink matchers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from buildbot.changes.changes import Change
from buildbot.changes.filter import ChangeFilter
from buildbot.revlinks import RevlinkMatch, default_revlink_matcher
from buildbot.util.ssfilter import NotABranch, SourceStampFilter


def change(**kw: Any) -> Change:
    body = {"changeid": 1, "branch": "main", "project": "proj", "repository": "repo",
            "category": "cat", "codebase": "cb", "files": [], "author": "a",
            "properties": {"color": ("red", "Change")}, "sourcestamp": {"ssid": 1}}
    body.update(kw)
    return Change.fromMessage(body)


CASES = [
    ({}, {}, True),
    ({"branch": "main"}, {}, True),
    ({"branch": "dev"}, {}, False),
    ({"branch": ["dev", "main"]}, {}, True),
    ({"branch": None}, {}, False),
    ({"branch": None}, {"branch": None}, True),
    ({"branch_not_eq": "main"}, {}, False),
    ({"branch_re": "ma.*"}, {}, True),
    ({"branch_re": re.compile("dev")}, {}, False),
    ({"branch_not_re": "ma"}, {}, False),
    ({"branch_re": "ma"}, {"branch": None}, False),
    ({"branch_not_re": "ma"}, {"branch": None}, True),
    ({"branch_fn": lambda b: b.startswith("m")}, {}, True),
    ({"project": "proj"}, {}, True),
    ({"project_not_eq": ["proj"]}, {}, False),
    ({"project_re": "p"}, {}, True),
    ({"project_fn": lambda p: p == "x"}, {}, False),
    ({"repository": "other"}, {}, False),
    ({"repository_not_re": "r.*"}, {}, False),
    ({"category": "cat"}, {}, True),
    ({"category_re": "c"}, {"category": None}, False),
    ({"codebase": "cb"}, {}, True),
    ({"codebase_not_eq": "cb"}, {}, False),
    ({"codebase_fn": lambda c: c == "cb"}, {}, True),
    ({"filter_fn": lambda ch: ch.number == 1}, {}, True),
    ({"property_eq": {"color": "red"}}, {}, True),
    ({"property_eq": {"color": ["blue"]}}, {}, False),
    ({"property_not_eq": {"color": "red"}}, {}, False),
    ({"property_re": {"color": "r.d"}}, {}, True),
    ({"property_not_re": {"color": "r"}}, {}, False),
    ({"branch": "main", "project": "nope"}, {}, False),
]


@pytest.mark.parametrize(("filt", "attrs", "passes"), CASES)
def test_change_filter(filt: dict[str, Any], attrs: dict[str, Any], passes: bool) -> None:
    assert ChangeFilter(**filt).filter_change(change(**attrs)) is passes


def test_bad_filter_values_are_refused() -> None:
    with pytest.raises(ValueError, match="Values of filter project_eq must be list of strings"):
        ChangeFilter(project=3)
    with pytest.raises(ValueError, match="Value of filter branch_eq must be string or None"):
        ChangeFilter(branch=[1])


def test_from_scheduler_args() -> None:
    assert ChangeFilter.fromSchedulerConstructorArgs() is None
    assert ChangeFilter.fromSchedulerConstructorArgs(branch=None) == ChangeFilter(branch=None)
    assert ChangeFilter.fromSchedulerConstructorArgs(categories=["a"]) == \
        ChangeFilter(category=["a"])
    with pytest.raises(RuntimeError):
        ChangeFilter.fromSchedulerConstructorArgs(change_filter=ChangeFilter(), branch="x")


def test_repr_names_the_criteria() -> None:
    assert repr(ChangeFilter(branch="main", project_re="p")) == \
        "<ChangeFilter on project matches [re.compile('p')] and branch in ['main']>"


def test_source_stamp_filter() -> None:
    ss = {"project": "p", "codebase": "c", "repository": "r", "branch": "b"}
    assert SourceStampFilter(branch_eq="b", project_re="p").is_matched(ss)
    assert not SourceStampFilter(branch_eq=None).is_matched(ss)
    assert SourceStampFilter(branch_eq=NotABranch).is_matched(ss)
    assert not SourceStampFilter(codebase_not_eq="c").is_matched(ss)


@pytest.mark.parametrize(("repo", "link"), [
    ("https://github.com/buildbot/buildbot.git",
     "https://github.com/buildbot/buildbot/commit/abc"),
    ("git@github.com:buildbot/buildbot", "https://github.com/buildbot/buildbot/commit/abc"),
    ("git@bitbucket.org:o/r.git", "https://bitbucket.org/o/r/commits/abc"),
    ("git://git.code.sf.net/p/proj", "https://sourceforge.net/p/proj/ci/abc/"),
    ("git://x.git.sourceforge.net/gitroot/x/y",
     "http://x.git.sourceforge.net/git/gitweb.cgi?p=x/y;a=commit;h=abc"),
    ("https://example.org/repo", None),
])
def test_default_revlinks(repo: str, link: str | None) -> None:
    assert default_revlink_matcher("abc", repo) == link


def test_revlink_match() -> None:
    m = RevlinkMatch(r"https://example.org/(.*)", r"https://example.org/\1/rev/%s")
    assert m("abc", "https://example.org/x") == "https://example.org/x/rev/abc"
    assert m("abc", "ssh://x") is None
