"""`BuildRequestGenerator`: reports build requests as they are submitted (pending) and
cancelled, before any build exists."""

from __future__ import annotations

from typing import Any, ClassVar

from zope.interface import implementer

from buildbot.interfaces import IReportGenerator
from buildbot.process.build import build_properties_from_request
from buildbot.process.buildrequest import BuildRequest
from buildbot.process.properties import Properties
from buildbot.process.results import CANCELLED
from buildbot.reporters import utils
from buildbot.reporters.generators.utils import BuildStatusGeneratorMixin, report
from buildbot.reporters.message import MessageFormatterRenderable
from buildbot.util.deferred import maybe_await


async def properties_known_before_build(master: Any, brdict: dict[str, Any]) -> Properties:
    """The properties a build of this request will start with: global, changes, request,
    builder; then `buildnumber` None and, for a single source stamp, its branch, revision,
    repository, codebase and project."""
    props = Properties()
    props.master = master
    request = await BuildRequest.fromBrdict(master, brdict)
    botmaster = getattr(master, "botmaster", None)
    builder = botmaster.getBuilderById(brdict["builderid"]) if botmaster is not None else None
    build_properties_from_request(master, [request], builder, None, props)
    if builder is None:
        # not a builder of this master: what the builder would have set
        props.setProperty("buildername", brdict.get("buildername"), "Builder")
        props.setProperty("builderid", brdict["builderid"], "Builder")
    props.setProperty("buildnumber", None, "Build")
    sources = list(request.sources.values())
    if len(sources) == 1:
        ss = sources[0]
        for name in ("branch", "revision", "repository", "codebase", "project"):
            props.setProperty(name, getattr(ss, name), "Build")
    return props


@implementer(IReportGenerator)
class BuildRequestGenerator(BuildStatusGeneratorMixin):
    """On `buildrequests/<id>/new` (pending, results None) and `/cancel` (complete,
    CANCELLED): a report on a partial build dict (properties known before the build,
    buildset, builder, url of the request)."""

    wanted_event_keys: ClassVar[list[tuple[str | None, ...]]] = [("buildrequests", None, "new"),
                                                       ("buildrequests", None, "cancel")]

    compare_attrs = BuildStatusGeneratorMixin.compare_attrs + ("formatter",)

    def __init__(self, tags: Any = None, builders: Any = None, schedulers: Any = None,
                 branches: Any = None, add_patch: bool = False, formatter: Any = None) -> None:
        super().__init__("all", tags, builders, schedulers, branches, None, None, add_patch)
        self.formatter = formatter if formatter is not None \
            else MessageFormatterRenderable("Build pending.")

    async def partial_build_dict(self, master: Any,
                                 buildrequest: dict[str, Any]) -> dict[str, Any]:
        """The build-like dict of a request that has no build yet."""
        brdict = await master.data.get(("buildrequests", buildrequest["buildrequestid"]))
        if brdict is None:
            brdict = buildrequest
        props = await properties_known_before_build(master, brdict)
        build: dict[str, Any] = {"properties": props.asDict()}
        await utils.get_details_for_buildrequest(master, brdict, build)
        return build

    async def generate(self, master: Any, reporter: Any, key: tuple[str, ...],
                       buildrequest: dict[str, Any]) -> dict[str, Any] | None:
        build = await self.partial_build_dict(master, buildrequest)
        if key[2] == "cancel":
            build["complete"] = True
            build["results"] = CANCELLED
        if not self.is_message_needed_by_props(build):
            return None
        return await self.buildrequest_message(master, build)

    async def buildrequest_message(self, master: Any, build: dict[str, Any]) -> dict[str, Any]:
        formatted = await maybe_await(self.formatter.format_message_for_build(
            master, build, is_buildset=True, mode=self.mode, users=[]))
        return report(body=formatted["body"], subject=formatted["subject"],
                      msgtype=formatted["type"], results=build["results"], builds=[build],
                      buildset=build["buildset"], patches=self._get_patches_for_build(build),
                      extra_info=formatted.get("extra_info"))
