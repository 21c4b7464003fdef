"""`util.Project`: a project shown in the web UI (c['projects'])."""

from __future__ import annotations

from buildbot.config.checks import check_markdown_support, check_param_str, check_param_str_none
from buildbot.config.errors import error
from buildbot.util.service import ComparableMixin


class Project(ComparableMixin):
    """`Project(name, slug=None (= name), description=None, description_format=None)`;
    `description_format` is None or "markdown"."""

    compare_attrs = ("name", "slug", "description", "description_format")

    def __init__(self, name: str, slug: str | None = None, description: str | None = None,
                 description_format: str | None = None) -> None:
        if slug is None:
            slug = name
        self.name = check_param_str(name, self, "name")
        self.slug = check_param_str(slug, self, "slug")
        self.description = check_param_str_none(description, self, "description")
        self.description_format = check_param_str_none(description_format, self,
                                                       "description_format")
        if self.description_format is None:
            pass
        elif self.description_format == "markdown":
            if not check_markdown_support(type(self)):
                self.description_format = None
        else:
            error('project description format must be None or "markdown"')
            self.description_format = None

    def describe_html(self) -> str | None:
        """The description as HTML when its format is markdown, else None."""
        if self.description is None or self.description_format != "markdown":
            return None
        import markdown  # optional; checked in the constructor

        html: str = markdown.markdown(self.description)
        return html
