"""Generators reporting on single builds: `BuildStatusGenerator` (finished builds, and
optionally new ones) and `BuildStartEndStatusGenerator` (one report at start, one at end)."""

from __future__ import annotations

from typing import Any, ClassVar

from zope.interface import implementer

from buildbot.interfaces import IReportGenerator
from buildbot.reporters import utils
from buildbot.reporters.generators.utils import BuildStatusGeneratorMixin
from buildbot.reporters.message import MessageFormatter, MessageFormatterRenderable

_DEFAULT_SUBJECT = "Buildbot %(result)s in %(title)s on %(builder)s"


@implementer(IReportGenerator)
class BuildStatusGenerator(BuildStatusGeneratorMixin):
    """Reports finished builds whose result matches `mode` (with `report_new`, also every
    new build, unfiltered by result)."""

    wanted_event_keys: ClassVar[list[tuple[str | None, ...]]] = [("builds", None, "finished")]

    compare_attrs = BuildStatusGeneratorMixin.compare_attrs + ("formatter",
                                                               "wanted_event_keys")

    def __init__(self, mode: Any = ("failing", "passing", "warnings"), tags: Any = None,
                 builders: Any = None, schedulers: Any = None, branches: Any = None,
                 add_logs: Any = None, add_patch: bool = False, report_new: bool = False,
                 message_formatter: Any = None) -> None:
        super().__init__(mode, tags, builders, schedulers, branches, _DEFAULT_SUBJECT,
                         add_logs, add_patch)
        self.formatter = message_formatter if message_formatter is not None \
            else MessageFormatter()
        if report_new:
            self.wanted_event_keys = [  # type: ignore[misc]  # per instance, as in 4.3
                ("builds", None, "finished"), ("builds", None, "new")]

    async def generate(self, master: Any, reporter: Any, key: tuple[str, ...],
                       build: dict[str, Any]) -> dict[str, Any] | None:
        """The report for a `builds/<id>/new|finished` event, or None if filtered out."""
        is_new = key[2] == "new"
        build = dict(build)
        f = self.formatter
        await utils.getDetailsForBuild(
            master, build, want_properties=f.want_properties, want_steps=f.want_steps,
            want_previous_build=False if is_new else self._want_previous_build(),
            want_logs=f.want_logs, add_logs=self.add_logs,
            want_logs_content=f.want_logs_content)
        if not self.is_message_needed_by_props(build):
            return None
        if not is_new and not self.is_message_needed_by_results(build):
            return None
        return await self.build_message(f, master, reporter, build)


@implementer(IReportGenerator)
class BuildStartEndStatusGenerator(BuildStatusGeneratorMixin):
    """One report when a build starts (`start_formatter`, default body "Build started.")
    and one when it ends (`end_formatter`, default "Build done."), whatever the result."""

    wanted_event_keys: ClassVar[list[tuple[str | None, ...]]] = [("builds", None, "new"),
                                                       ("builds", None, "finished")]

    compare_attrs = BuildStatusGeneratorMixin.compare_attrs + ("start_formatter",
                                                               "end_formatter")

    def __init__(self, tags: Any = None, builders: Any = None, schedulers: Any = None,
                 branches: Any = None, add_logs: Any = None, add_patch: bool = False,
                 start_formatter: Any = None, end_formatter: Any = None) -> None:
        super().__init__("all", tags, builders, schedulers, branches, None, add_logs,
                         add_patch)
        self.start_formatter = start_formatter if start_formatter is not None \
            else MessageFormatterRenderable("Build started.")
        self.end_formatter = end_formatter if end_formatter is not None \
            else MessageFormatterRenderable("Build done.")

    async def generate(self, master: Any, reporter: Any, key: tuple[str, ...],
                       build: dict[str, Any]) -> dict[str, Any] | None:
        """The start or end report of a build, or None if filtered out."""
        f = self.start_formatter if key[2] == "new" else self.end_formatter
        build = dict(build)
        await utils.getDetailsForBuild(
            master, build, want_properties=f.want_properties, want_steps=f.want_steps,
            want_logs=f.want_logs, add_logs=self.add_logs,
            want_logs_content=f.want_logs_content)
        if not self.is_message_needed_by_props(build):
            return None
        return await self.build_message(f, master, reporter, build)
