"""Generators reporting on completed buildsets: `BuildSetStatusGenerator` (one report
merging the messages of the buildset's matching builds) and
`BuildSetCombinedStatusGenerator` (one message for the whole buildset)."""

from __future__ import annotations

from typing import Any, ClassVar

from zope.interface import implementer

from buildbot.interfaces import IReportGenerator
from buildbot.reporters import utils
from buildbot.reporters.generators.utils import BuildStatusGeneratorMixin, MessageFold, report
from buildbot.reporters.message import MessageFormatter
from buildbot.util.deferred import maybe_await
from buildbot.util.service import ComparableMixin

_DEFAULT_SUBJECT = "Buildbot %(result)s in %(title)s on %(builder)s"


@implementer(IReportGenerator)
class BuildSetStatusGenerator(BuildStatusGeneratorMixin):
    """On `buildsets/<id>/complete`: the builds passing the filters and `mode`, formatted
    one by one and merged into one report (results: the buildset's)."""

    wanted_event_keys: ClassVar[list[tuple[str | None, ...]]] = [("buildsets", None, "complete")]

    compare_attrs = BuildStatusGeneratorMixin.compare_attrs + ("formatter",)

    def __init__(self, mode: Any = ("failing", "passing", "warnings"), tags: Any = None,
                 builders: Any = None, schedulers: Any = None, branches: Any = None,
                 subject: str | None = None, add_logs: Any = None, add_patch: bool = False,
                 message_formatter: Any = None) -> None:
        # As in 4.3, `subject` is accepted but the fixed default subject is used.
        super().__init__(mode, tags, builders, schedulers, branches, _DEFAULT_SUBJECT,
                         add_logs, add_patch)
        self.formatter = message_formatter if message_formatter is not None \
            else MessageFormatter()

    async def generate(self, master: Any, reporter: Any, key: tuple[str, ...],
                       message: dict[str, Any]) -> dict[str, Any] | None:
        f = self.formatter
        res = await utils.getDetailsForBuildset(
            master, message["bsid"], want_properties=f.want_properties,
            want_steps=f.want_steps, want_previous_build=self._want_previous_build(),
            want_logs=f.want_logs, want_logs_content=f.want_logs_content)
        builds = [b for b in res["builds"]
                  if self.is_message_needed_by_props(b) and self.is_message_needed_by_results(b)]
        if not builds:
            return None
        return await self.buildset_message(f, master, reporter, builds, res["buildset"])

    async def buildset_message(self, formatter: Any, master: Any, reporter: Any,
                               builds: list[dict[str, Any]],
                               buildset: dict[str, Any]) -> dict[str, Any]:
        """One report for builds of one buildset: their messages folded in build order
        (see `MessageFold`), blamelists united, patches and logs gathered."""
        fold = MessageFold(self)
        users: set[str] = set()
        for build in builds:
            blamelist = await maybe_await(reporter.getResponsibleUsersForBuild(
                master, build["buildid"]))
            users.update(blamelist)
            fold.add(await maybe_await(formatter.format_message_for_build(
                master, build, is_buildset=True, mode=self.mode, users=blamelist)))
        subject = fold.subject
        if subject is None:
            subject = self._subject_for(master, buildset["results"], "whole buildset")
        return report(
            body=fold.body, subject=subject, msgtype=fold.msgtype,
            results=buildset["results"], builds=builds, buildset=buildset, users=list(users),
            patches=[p for build in builds for p in self._get_patches_for_build(build)],
            logs=[lg for build in builds for lg in self._get_logs_for_build(build)],
            extra_info=fold.extra_info)


@implementer(IReportGenerator)
class BuildSetCombinedStatusGenerator(ComparableMixin):
    """On `buildsets/<id>/complete`: one message for the buildset and all its builds
    (`message_formatter.format_message_for_buildset`), unfiltered."""

    wanted_event_keys: ClassVar[list[tuple[str | None, ...]]] = [("buildsets", None, "complete")]

    compare_attrs: tuple[str, ...] = ("formatter",)

    def __init__(self, message_formatter: Any) -> None:
        self.formatter = message_formatter

    def check(self) -> None:
        pass

    def generate_name(self) -> str:
        # 4.3 has no generate_name here, so an unnamed reporter using it crashes.
        return type(self).__name__

    async def generate(self, master: Any, reporter: Any, key: tuple[str, ...],
                       message: dict[str, Any]) -> dict[str, Any] | None:
        f = self.formatter
        res = await utils.getDetailsForBuildset(
            master, message["bsid"], want_properties=f.want_properties,
            want_steps=f.want_steps, want_logs=f.want_logs,
            want_logs_content=f.want_logs_content)
        return await self.buildset_message(f, master, reporter, res["buildset"], res["builds"])

    async def buildset_message(self, formatter: Any, master: Any, reporter: Any,
                               buildset: dict[str, Any],
                               builds: list[dict[str, Any]]) -> dict[str, Any]:
        msg = await maybe_await(formatter.format_message_for_buildset(
            master, buildset, builds, is_buildset=True, mode=("passing",), users=[]))
        return report(body=msg["body"], subject=msg["subject"], msgtype=msg["type"],
                      results=buildset["results"], builds=builds, buildset=buildset,
                      extra_info=msg.get("extra_info"))
