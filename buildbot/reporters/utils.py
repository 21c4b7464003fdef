"""Helpers building the dictionaries reporters work on, from the data API only.

`getDetailsForBuild(master, build, ...)` and `getDetailsForBuildset(master, bsid, ...)` take a
build (or buildset id) and add, in place, what generators and formatters read:
`buildrequest`, `buildset` (with its source stamps), `builder`, `url`, `parentbuild`,
`parentbuilder`, and on request `properties`, `steps` (each with `logs`, each log with `url`,
`url_raw`, `url_raw_inline`, `stepname` and, when wanted, `content`) and `prev_build`.

Times in these dictionaries are what the data API gives, as Buildbot 4.3's reporters see
them: timezone-aware `datetime`s, except a buildset's own `submitted_at`/`complete_at` (epoch
seconds); JSON bodies encode datetimes back as epochs. Bodies from another master (WAMP)
carry epoch seconds: `with_datetimes` converts those.

These functions are coroutines; plugin code may `yield` them from `inlineCallbacks`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from twisted.logger import Logger

from buildbot.process.properties import Properties, renderer
from buildbot.process.results import RETRY
from buildbot.util.deferred import gather
from buildbot.util.resultspec import Filter

log = Logger()

_TIME_FIELDS = ("started_at", "complete_at", "submitted_at", "claimed_at", "created_at")


def with_datetimes(item: dict[str, Any]) -> dict[str, Any]:
    """A copy of `item` whose epoch time fields are aware datetimes (None stays None)."""
    out = dict(item)
    for name in _TIME_FIELDS:
        value = out.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = datetime.datetime.fromtimestamp(value, datetime.UTC)
    return out


def _buildset_with_datetimes(buildset: dict[str, Any] | None) -> dict[str, Any] | None:
    # The buildset keeps its epoch seconds (the data API's type for them, in 4.3 too); its
    # source stamps carry datetimes already.
    return None if buildset is None else dict(buildset)


async def getPreviousBuild(master: Any, build: dict[str, Any]) -> dict[str, Any] | None:
    """The build of the same builder with the highest number below `build`'s that did not
    end in RETRY (in progress counts), or None."""
    number = build["number"]
    while number > 0:
        older = await master.data.get(
            ("builders", build["builderid"], "builds"),
            filters=[Filter("number", "lt", [number])], order=["-number"], limit=10)
        if not older:
            return None
        for prev in older:
            if prev["results"] != RETRY:
                return with_datetimes(prev)
        number = older[-1]["number"]
    return None


async def getDetailsForBuildset(master: Any, bsid: int, want_properties: bool = False,
                                want_steps: bool = False, want_previous_build: bool = False,
                                want_logs: bool = False, add_logs: Any = None,
                                want_logs_content: Any = False) -> dict[str, Any]:
    """`{"buildset": ..., "builds": [...]}` for buildset `bsid`, every build detailed as
    `getDetailsForBuilds` does."""
    buildset, breqs = await gather([
        master.data.get(("buildsets", bsid)),
        master.data.get(("buildrequests",), filters=[Filter("buildsetid", "eq", [bsid])]),
    ])
    per_request = await gather([master.data.get(("buildrequests", br["buildrequestid"],
                                                 "builds")) for br in breqs])
    builds = [with_datetimes(b) for found in per_request for b in found]
    buildset = _buildset_with_datetimes(buildset)
    if builds:
        await getDetailsForBuilds(master, buildset, builds, want_properties=want_properties,
                                  want_steps=want_steps,
                                  want_previous_build=want_previous_build, want_logs=want_logs,
                                  add_logs=add_logs, want_logs_content=want_logs_content)
    return {"buildset": buildset, "builds": builds}


async def getDetailsForBuild(master: Any, build: dict[str, Any], want_properties: bool = False,
                             want_steps: bool = False, want_previous_build: bool = False,
                             want_logs: bool = False, add_logs: Any = None,
                             want_logs_content: Any = False) -> None:
    """Complete `build` in place (request, buildset, parent build, builder, url, and what is
    wanted). `build` must be a private copy: mq bodies are shared and never mutated."""
    for name, value in with_datetimes(build).items():
        build[name] = value
    buildrequest = await master.data.get(("buildrequests", build["buildrequestid"]))
    buildset = _buildset_with_datetimes(
        await master.data.get(("buildsets", buildrequest["buildsetid"])))
    build["buildrequest"] = with_datetimes(buildrequest)
    build["buildset"] = buildset
    parentbuild = None
    parentbuilder = None
    if buildset and buildset.get("parent_buildid"):
        parentbuild = await master.data.get(("builds", buildset["parent_buildid"]))
        if parentbuild is not None:
            parentbuild = with_datetimes(parentbuild)
            parentbuilder = await master.data.get(("builders", parentbuild["builderid"]))
    build["parentbuild"] = parentbuild
    build["parentbuilder"] = parentbuilder
    await getDetailsForBuilds(master, buildset, [build], want_properties=want_properties,
                              want_steps=want_steps, want_previous_build=want_previous_build,
                              want_logs=want_logs, add_logs=add_logs,
                              want_logs_content=want_logs_content)


async def get_details_for_buildrequest(master: Any, buildrequest: Any,
                                       build: dict[str, Any]) -> None:
    """Fill the partial build dict of a build request that has no build yet (results None,
    not complete, `url` pointing at the request)."""
    br = buildrequest if isinstance(buildrequest, dict) else _model_as_dict(buildrequest)
    buildset, builder = await gather([master.data.get(("buildsets", br["buildsetid"])),
                                      master.data.get(("builders", br["builderid"]))])
    build["buildrequest"] = with_datetimes(_buildrequest_model(br, builder))
    build["buildset"] = _buildset_with_datetimes(buildset)
    build["builderid"] = br["builderid"]
    build["builder"] = builder
    build["url"] = getURLForBuildrequest(master, br["buildrequestid"])
    build["results"] = None
    build["complete"] = False


_BUILDREQUEST_MODEL_FIELDS = ("buildrequestid", "buildsetid", "builderid", "buildername",
                              "submitted_at", "complete_at", "complete", "results",
                              "waited_for", "priority", "claimed_at", "claimed_by_masterid")


def _buildrequest_model(br: dict[str, Any], builder: dict[str, Any] | None) -> dict[str, Any]:
    # 4.3 gives the database model of the request here (with `buildername`, without the
    # API's `claimed` and `properties`), not the data API dict
    full = dict(br, buildername=br.get("buildername") or (builder or {}).get("name"))
    return {name: full.get(name) for name in _BUILDREQUEST_MODEL_FIELDS}


def _model_as_dict(model: Any) -> dict[str, Any]:
    import dataclasses

    if dataclasses.is_dataclass(model) and not isinstance(model, type):
        return dataclasses.asdict(model)
    return dict(vars(model))


def should_attach_log(logs_config: Any, log: dict[str, Any]) -> bool:
    """Whether a log's content is wanted: `logs_config` is a bool, or a list of log names
    (`"stdio"`) and step-qualified names (`"compile.stdio"`)."""
    if isinstance(logs_config, bool):
        return logs_config
    if log["name"] in logs_config:
        return True
    return f"{log['stepname']}.{log['name']}" in logs_config


async def _step_logs(master: Any, build: dict[str, Any], step: dict[str, Any],
                     logs_config: Any) -> list[dict[str, Any]]:
    logs = [dict(entry) for entry in await master.data.get(("steps", step["stepid"], "logs"))]
    for entry in logs:
        entry["stepname"] = step["name"]
        entry["url"] = get_url_for_log(master, build["builderid"], build["number"],
                                       step["number"], entry["slug"])
        entry["url_raw"] = get_url_for_log_raw(master, entry["logid"], "raw")
        entry["url_raw_inline"] = get_url_for_log_raw(master, entry["logid"], "raw_inline")
    attach = [entry for entry in logs if should_attach_log(logs_config, entry)]
    contents = await gather([master.data.get(("logs", entry["logid"], "contents"))
                             for entry in attach])
    for entry, content in zip(attach, contents):
        entry["content"] = content
    return logs


async def getDetailsForBuilds(master: Any, buildset: dict[str, Any] | None,
                              builds: list[dict[str, Any]], want_properties: bool = False,
                              want_steps: bool = False, want_previous_build: bool = False,
                              want_logs: bool = False, add_logs: Any = None,
                              want_logs_content: Any = False) -> None:
    """Add `builder`, `buildset`, `url` and the wanted details to each build, in place.

    The data API calls of all builds run concurrently (builders once per builder id).
    """
    builderids = sorted({b["builderid"] for b in builds})
    builders = await gather([master.data.get(("builders", i)) for i in builderids])
    by_id = {b["builderid"]: b for b in builders if b is not None}

    # which log contents to fetch: the deprecated add_logs wins over want_logs_content;
    # wanting any content implies wanting the logs, and logs imply steps
    logs_config = next((c for c in (add_logs, want_logs_content) if c is not None), False)
    want_logs = want_logs or logs_config is not False
    want_steps = want_steps or want_logs

    async def nothing() -> None:
        return None

    props_list, prev_list, steps_list = await gather([
        gather([master.data.get(("builds", b["buildid"], "properties")) if want_properties
                else nothing() for b in builds]),
        gather([getPreviousBuild(master, b) if want_previous_build else nothing()
                for b in builds]),
        gather([master.data.get(("builds", b["buildid"], "steps")) if want_steps
                else nothing() for b in builds]),
    ])
    steps_list = [[with_datetimes(s) for s in steps] if steps is not None else None
                  for steps in steps_list]
    if want_steps and want_logs:
        for build, steps in zip(builds, steps_list):
            all_logs = await gather([_step_logs(master, build, s, logs_config) for s in steps])
            for step, logs in zip(steps, all_logs):
                step["logs"] = logs

    for build, props, steps, prev in zip(builds, props_list, steps_list, prev_list):
        build["builder"] = by_id.get(build["builderid"])
        build["buildset"] = buildset
        build["url"] = getURLForBuild(master, build["builderid"], build["number"])
        if want_properties:
            build["properties"] = props
        if want_steps:
            build["steps"] = steps
        if want_previous_build:
            build["prev_build"] = prev


async def getResponsibleUsersForSourceStamp(master: Any, sourcestampid: int) -> list[str]:
    """Authors of the source stamp's changes and its patch author, sorted."""
    changes, sourcestamp = await gather([
        master.data.get(("sourcestamps", sourcestampid, "changes")),
        master.data.get(("sourcestamps", sourcestampid)),
    ])
    blamelist = {c["author"] for c in changes}
    if sourcestamp and sourcestamp.get("patch") is not None:
        blamelist.add(sourcestamp["patch"]["author"])
    return sorted(blamelist)


def _owners_named_in(properties: dict[str, Any], buildid: int) -> set[str]:
    # `owner` normally holds one name; some schedulers have put a list there, accepted with
    # a warning. `owners` holds a list and is taken as an iterable of names.
    names: set[str] = set()
    if "owners" in properties:
        names.update(properties["owners"][0])
    if "owner" not in properties:
        return names
    owner = properties["owner"][0]
    if not isinstance(owner, str):
        log.info("Warning: owner property is a list for buildid {buildid}.", buildid=buildid)
        return names | set(owner)
    return names | {owner}


async def getResponsibleUsersForBuild(master: Any, buildid: int) -> list[str]:
    """Authors of the build's changes plus the `owner`/`owners` properties, sorted."""
    changes, properties = await gather([
        master.data.get(("builds", buildid, "changes")),
        master.data.get(("builds", buildid, "properties")),
    ])
    authors = {c["author"] for c in changes}
    return sorted(authors | _owners_named_in(properties, buildid))


async def get_responsible_users_for_buildset(master: Any, buildsetid: int) -> list[str]:
    """The buildset's `owner` property as a one-element list, or []."""
    props = await master.data.get(("buildsets", buildsetid, "properties"))
    owner = (props or {}).get("owner")
    if owner:
        return [owner[0]]
    return []


def getURLForBuild(master: Any, builderid: int, build_number: int) -> str:
    return f"{master.config.buildbotURL}#/builders/{builderid}/builds/{build_number}"


def getURLForBuildrequest(master: Any, buildrequestid: int) -> str:
    return f"{master.config.buildbotURL}#/buildrequests/{buildrequestid}"


def get_url_for_log(master: Any, builderid: int, build_number: int, step_number: int,
                    log_slug: str) -> str:
    return (f"{master.config.buildbotURL}#/builders/{builderid}/builds/{build_number}/"
            f"steps/{step_number}/logs/{log_slug}")


def get_url_for_log_raw(master: Any, logid: int, suffix: str) -> str:
    return f"{master.config.buildbotURL}api/v2/logs/{logid}/{suffix}"


@renderer
def URLForBuild(props: Any) -> Any:
    """`util.URLForBuild`: the web UI URL of the build being rendered for."""
    return props.getBuild().getUrl()


@dataclass
class BuildReport:
    """What a commit-status reporter works from: the first build of the first report, that
    build's properties (rendering against the master) and the report body."""

    build: dict[str, Any]
    props: Properties
    body: Any

    @classmethod
    def first_of(cls, master: Any, reports: list[dict[str, Any]]) -> BuildReport:
        """Status reporters get one report per event, about one build."""
        report = reports[0]
        build = report["builds"][0]
        props = Properties.fromDict(build.get("properties") or {})
        props.master = master
        return cls(build=build, props=props, body=report.get("body"))

    async def render(self, value: Any) -> Any:
        """`value` rendered with the build's properties."""
        return await self.props.render(value)


def given_only(**values: Any) -> dict[str, Any]:
    """The keyword arguments that are not None (optional fields of API payloads)."""
    return {key: value for key, value in values.items() if value is not None}


# How the reports of one event combine for reporters sending a single message: these
# values are concatenated (summed, for results) over the reports...
_CONCATENATED_REPORT_KEYS = ("body", "results", "builds", "users", "patches", "logs")
# ... and these are taken from the first report that has one.
_FIRST_REPORT_KEYS = ("subject", "type", "worker")


def merge_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """The reports of one event as one report (see the key lists above); keys no report
    has are None."""
    merged = {key: merge_reports_prop(reports, key) for key in _CONCATENATED_REPORT_KEYS}
    merged.update((key, merge_reports_prop_take_first(reports, key))
                  for key in _FIRST_REPORT_KEYS)
    return merged


def merge_reports_prop(reports: list[dict[str, Any]], prop: str) -> Any:
    """`prop` of every report that has it, combined with `+` (None if none has it)."""
    result = None
    for report in reports:
        value = report.get(prop)
        if value is None:
            continue
        result = value if result is None else result + value
    return result


def merge_reports_prop_take_first(reports: list[dict[str, Any]], prop: str) -> Any:
    """`prop` of the first report that has a non-None value for it."""
    for report in reports:
        value = report.get(prop)
        if value is not None:
            return value
    return None
