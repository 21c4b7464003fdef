"""Value filters shared by `ChangeFilter` (changes) and `SourceStampFilter` (cancellers).

A filter tests one attribute (`prop`) of a change or source stamp: equal to one of some
values, equal to none of them, matching one of some regexes (`re.match`), or matching none.
`NotABranch` is the "no branch filter given" marker: `None` is a real branch (the default
branch), so it cannot mean "not given".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from buildbot.util.service import ComparableMixin


class _NotABranch:
    """The type of `NotABranch`; false in a boolean context."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NotABranch"


NotABranch: Any = _NotABranch()


def _as_list(values: Any, name: str, allowed: tuple[type, ...], many: str, one: str
             ) -> list[Any]:
    """`values` (one value or a list of them) as a list; ValueError naming the filter if a
    value has the wrong type (messages as in the reference)."""
    if isinstance(values, allowed):
        return [values]
    if not isinstance(values, list):
        raise ValueError(f"Values of filter {name} must be list of {many}")
    for v in values:
        if not isinstance(v, allowed):
            raise ValueError(f"Value of filter {name} must be {one}")
    return list(values)


def extract_filter_values(values: Any, filter_name: str) -> list[str]:
    """Plain string values (a string or a list of strings)."""
    return _as_list(values, filter_name, (str,), "strings or a string", "string")


def extract_filter_values_branch(values: Any, filter_name: str) -> list[str | None]:
    """Branch values: strings or None (the default branch)."""
    return _as_list(values, filter_name, (str, type(None)), "strings, a string or None",
                    "string or None")


def extract_filter_values_regex(values: Any, filter_name: str) -> list[str | re.Pattern[str]]:
    """Regexes, as strings or compiled patterns."""
    return _as_list(values, filter_name, (str, re.Pattern), "strings, a string or regex",
                    "string or regex")


def extract_filter_values_dict(values: Any, filter_name: str) -> dict[str, list[str]]:
    """{property name: string values}."""
    if not isinstance(values, dict):
        raise ValueError(f"Value of filter {filter_name} must be dict")
    return {k: extract_filter_values(v, filter_name) for k, v in values.items()}


def extract_filter_values_dict_regex(values: Any, filter_name: str
                                     ) -> dict[str, list[str | re.Pattern[str]]]:
    """{property name: regexes}."""
    if not isinstance(values, dict):
        raise ValueError(f"Value of filter {filter_name} must be dict")
    return {k: extract_filter_values_regex(v, filter_name) for k, v in values.items()}


class ValueFilter(ComparableMixin):
    """One test of one attribute; `is_matched(value)` and a `describe()` for reprs."""

    compare_attrs = ("prop", "kind", "values")

    def __init__(self, prop: str, kind: str, values: Sequence[Any]) -> None:
        self.prop = prop
        self.kind = kind  # "eq", "not_eq", "re" or "not_re"
        if kind in ("re", "not_re"):
            self.values = [v if isinstance(v, re.Pattern) else re.compile(v) for v in values]
        else:
            self.values = list(values)

    def is_matched(self, value: Any) -> bool:
        if self.kind == "eq":
            return value in self.values
        if self.kind == "not_eq":
            return value not in self.values
        if value is None:  # a regex never matches a missing value
            return self.kind == "not_re"
        hit = any(rx.match(value) is not None for rx in self.values)
        return hit if self.kind == "re" else not hit

    def describe(self) -> str:
        verb = {"eq": "in", "not_eq": "not in", "re": "matches",
                "not_re": "does not match"}[self.kind]
        return f"{self.prop} {verb} {self.values}"


def create_filters(eq: Any, not_eq: Any, regex: Any, not_regex: Any, prop: str,
                   absent: Any = None) -> list[ValueFilter]:
    """Filters of one attribute from its four arguments (`absent` = not given)."""
    extract = extract_filter_values_branch if absent is NotABranch else extract_filter_values
    out = []
    if eq is not absent:
        out.append(ValueFilter(prop, "eq", extract(eq, prop + "_eq")))
    if not_eq is not absent:
        out.append(ValueFilter(prop, "not_eq", extract(not_eq, prop + "_not_eq")))
    if regex is not None:
        out.append(ValueFilter(prop, "re", extract_filter_values_regex(regex, prop + "_re")))
    if not_regex is not None:
        out.append(ValueFilter(prop, "not_re",
                               extract_filter_values_regex(not_regex, prop + "_not_re")))
    return out


def create_branch_filters(eq: Any, not_eq: Any, regex: Any, not_regex: Any,
                          prop: str) -> list[ValueFilter]:
    """Branch filters: `NotABranch` means not given, None is the default branch."""
    return create_filters(eq, not_eq, regex, not_regex, prop, absent=NotABranch)


def create_property_filters(eq: Any, not_eq: Any, regex: Any, not_regex: Any,
                            arg_prefix: str) -> list[ValueFilter]:
    """Filters on properties, from dicts {property name: values}."""
    out: list[ValueFilter] = []
    if eq is not None:
        out += [ValueFilter(p, "eq", v)
                for p, v in extract_filter_values_dict(eq, arg_prefix + "_eq").items()]
    if not_eq is not None:
        out += [ValueFilter(p, "not_eq", v)
                for p, v in extract_filter_values_dict(not_eq, arg_prefix + "_not_eq").items()]
    if regex is not None:
        out += [ValueFilter(p, "re", v) for p, v in
                extract_filter_values_dict_regex(regex, arg_prefix + "_re").items()]
    if not_regex is not None:
        out += [ValueFilter(p, "not_re", v) for p, v in
                extract_filter_values_dict_regex(not_regex, arg_prefix + "_not_re").items()]
    return out


class SourceStampFilter(ComparableMixin):
    """`util.SourceStampFilter`: tests a source stamp dict (used by build cancellers)."""

    compare_attrs = ("filter_fn", "filters")

    def __init__(self, filter_fn: Callable[[dict[str, Any]], bool] | None = None,
                 project_eq: Any = None, project_not_eq: Any = None, project_re: Any = None,
                 project_not_re: Any = None, repository_eq: Any = None,
                 repository_not_eq: Any = None, repository_re: Any = None,
                 repository_not_re: Any = None, branch_eq: Any = NotABranch,
                 branch_not_eq: Any = NotABranch, branch_re: Any = None,
                 branch_not_re: Any = None, codebase_eq: Any = None,
                 codebase_not_eq: Any = None, codebase_re: Any = None,
                 codebase_not_re: Any = None) -> None:
        self.filter_fn = filter_fn
        self.filters = (
            create_filters(project_eq, project_not_eq, project_re, project_not_re, "project")
            + create_filters(codebase_eq, codebase_not_eq, codebase_re, codebase_not_re,
                             "codebase")
            + create_filters(repository_eq, repository_not_eq, repository_re,
                             repository_not_re, "repository")
            + create_branch_filters(branch_eq, branch_not_eq, branch_re, branch_not_re,
                                    "branch"))

    def is_matched(self, ss: dict[str, Any]) -> bool:
        """True if the source stamp passes every filter."""
        if self.filter_fn is not None and not self.filter_fn(ss):
            return False
        return all(f.is_matched(ss.get(f.prop, "")) for f in self.filters)

    def __repr__(self) -> str:
        parts = [f"{self.filter_fn.__name__}()"] if self.filter_fn is not None else []
        parts += [f.describe() for f in self.filters]
        return f"<{type(self).__name__} on {' and '.join(parts)}>"
