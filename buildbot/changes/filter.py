"""`util.ChangeFilter`: which changes a scheduler cares about."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from buildbot.util.service import ComparableMixin
from buildbot.util.ssfilter import (
    NotABranch,
    create_branch_filters,
    create_filters,
    create_property_filters,
)

# Attributes with the five forms `<a>`, `<a>_not_eq`, `<a>_re`, `<a>_not_re`, `<a>_fn`, in
# the order the callables are tried.
_FN_ATTRS = ("project", "codebase", "repository", "category", "branch")


class ChangeFilter(ComparableMixin):
    """A change passes if it passes every criterion given (none given: every change).

    For project, repository, branch, category and codebase: `<a>` (a value or list of
    values), `<a>_not_eq`, `<a>_re` / `<a>_not_re` (regex strings or compiled, `re.match`),
    `<a>_fn` (callable on the value). `filter_fn` is called with the Change;
    `property_eq/_not_eq/_re/_not_re` are dicts {property name: values}. For `branch`,
    None means the default branch; leaving it out (NotABranch) means any branch.
    """

    compare_attrs = (
        "filter_fn", "filters", "property_filters", "project_fn", "repository_fn",
        "branch_fn", "category_fn", "codebase_fn")

    def __init__(
        self,
        filter_fn: Callable[[Any], bool] | None = None,
        project: Any = None, project_not_eq: Any = None, project_re: Any = None,
        project_not_re: Any = None, project_fn: Callable[[Any], bool] | None = None,
        repository: Any = None, repository_not_eq: Any = None, repository_re: Any = None,
        repository_not_re: Any = None, repository_fn: Callable[[Any], bool] | None = None,
        branch: Any = NotABranch, branch_not_eq: Any = NotABranch, branch_re: Any = None,
        branch_not_re: Any = None, branch_fn: Callable[[Any], bool] | None = None,
        category: Any = None, category_not_eq: Any = None, category_re: Any = None,
        category_not_re: Any = None, category_fn: Callable[[Any], bool] | None = None,
        codebase: Any = None, codebase_not_eq: Any = None, codebase_re: Any = None,
        codebase_not_re: Any = None, codebase_fn: Callable[[Any], bool] | None = None,
        property_eq: dict[str, Any] | None = None,
        property_not_eq: dict[str, Any] | None = None,
        property_re: dict[str, Any] | None = None,
        property_not_re: dict[str, Any] | None = None,
    ) -> None:
        self.filter_fn = filter_fn
        self.project_fn = project_fn
        self.repository_fn = repository_fn
        self.branch_fn = branch_fn
        self.category_fn = category_fn
        self.codebase_fn = codebase_fn
        self.filters = (
            create_filters(project, project_not_eq, project_re, project_not_re, "project")
            + create_filters(repository, repository_not_eq, repository_re, repository_not_re,
                             "repository")
            + create_branch_filters(branch, branch_not_eq, branch_re, branch_not_re, "branch")
            + create_filters(category, category_not_eq, category_re, category_not_re,
                             "category")
            + create_filters(codebase, codebase_not_eq, codebase_re, codebase_not_re,
                             "codebase"))
        self.property_filters = create_property_filters(
            property_eq, property_not_eq, property_re, property_not_re, "property")

    def filter_change(self, change: Any) -> bool:
        """True if `change` (a Change) passes every criterion."""
        if self.filter_fn is not None and not self.filter_fn(change):
            return False
        for attr in _FN_ATTRS:
            fn = getattr(self, f"{attr}_fn")
            if fn is not None and not fn(getattr(change, attr)):
                return False
        for f in self.filters:
            if not f.is_matched(getattr(change, f.prop, "")):
                return False
        for f in self.property_filters:
            if not f.is_matched(change.properties.getProperty(f.prop, "")):
                return False
        return True

    def _describe(self) -> list[str]:
        """The criteria as __repr__ shows them: the functions (filter_fn first, called on
        the change), then the value filters, then the property filters."""
        functions = [(self.filter_fn, ""), *((getattr(self, f"{a}_fn"), a) for a in _FN_ATTRS)]
        calls = [f"{fn.__name__}({arg})" for fn, arg in functions if fn is not None]
        return calls + [f.describe() for f in (*self.filters, *self.property_filters)]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} on {' and '.join(self._describe())}>"

    @staticmethod
    def fromSchedulerConstructorArgs(change_filter: ChangeFilter | None = None,
                                     branch: Any = NotABranch, categories: Any = None
                                     ) -> ChangeFilter | None:
        """The filter of a scheduler given `change_filter` or the legacy `branch` /
        `categories` arguments (None: every change). RuntimeError if both kinds are given."""
        if change_filter:
            if branch is not NotABranch or categories is not None:
                raise RuntimeError("cannot specify both change_filter and branch or categories")
            return change_filter
        if branch is not NotABranch or categories:
            kwargs: dict[str, Any] = {}
            if branch is not NotABranch:
                kwargs["branch"] = branch
            if categories:
                kwargs["category"] = categories
            return ChangeFilter(**kwargs)
        return None
