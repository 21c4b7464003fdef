"""`util.Codebase`: a codebase of a project (c['codebases'], GitPoller's `codebase`)."""

from __future__ import annotations

from buildbot.config.checks import check_param_str
from buildbot.util.service import ComparableMixin


class Codebase(ComparableMixin):
    """`Codebase(name, project, slug=None (= name))`; `project` is a project's name."""

    compare_attrs = ("name", "slug", "project")

    def __init__(self, name: str, project: str, slug: str | None = None) -> None:
        if slug is None:
            slug = name
        self.name = check_param_str(name, self, "name")
        self.slug = check_param_str(slug, self, "slug")
        self.project = check_param_str(project, self, "project")
