"""Message formatters: turn a build (or buildset, or missing worker) into a message dict
`{"body", "type", "subject", "extra_info"}` for a reporter.

`type` is `plain`, `html` or `json`; for `json` the body is a JSON-able value. When a report
covers several builds, generators concatenate the bodies of the builds' messages.

Formatters expose `want_properties`, `want_steps`, `want_logs`, `want_logs_content`: the
generator fetches that much detail before formatting. The Jinja2 context of a build
(`create_context_for_build`) has the names Buildbot 4.3 templates use: `results`,
`result_names`, `mode`, `buildername`, `workername`, `buildset`, `build`, `is_buildset`,
`projects`, `previous_results`, `status_detected`, `build_url`, `buildbot_title`,
`buildbot_url`, `blamelist`, `summary`, `sourcestamps`.
"""

from __future__ import annotations

from typing import Any

import jinja2

from buildbot import config
from buildbot.process.properties import Properties
from buildbot.process.results import (
    CANCELLED,
    EXCEPTION,
    FAILURE,
    RETRY,
    SKIPPED,
    SUCCESS,
    WARNINGS,
    Results,
    statusToString,
)
from buildbot.reporters import utils
from buildbot.util.deferred import gather, maybe_await
from buildbot.util.service import ComparableMixin

# -- context ---------------------------------------------------------------------------------


def get_detected_status_text(mode: Any, results: int | None,
                             previous_results: int | None) -> str:
    """How the result reads in a message: "failed build", "new failure", "restored build"..."""
    changed = previous_results is not None and previous_results != results
    if results == FAILURE:
        if ("change" in mode or "problem" in mode) and previous_results is not None \
                and previous_results != FAILURE:
            return "new failure"
        return "failed build"
    if results == WARNINGS:
        return "problem in the build"
    if results == SUCCESS:
        return "restored build" if "change" in mode and changed else "passing build"
    if results == EXCEPTION:
        return "build exception"
    return f"{statusToString(results)} build"


def get_message_summary_text(build: dict[str, Any], results: int | None) -> str:
    """One line: "Build succeeded!", "BUILD FAILED: <state>", ..."""
    state = f": {build['state_string']}" if build.get("state_string") else ""
    if results == SUCCESS:
        return "Build succeeded!"
    if results == WARNINGS:
        return f"Build Had Warnings{state}"
    if results == CANCELLED:
        return "Build was cancelled"
    return f"BUILD FAILED{state}"


def get_message_source_stamp_text(source_stamps: list[dict[str, Any]]) -> str:
    """One "Build Source Stamp[ '<codebase>']: [branch b] <rev|HEAD>[ (plus patch)]" line
    per source stamp."""
    lines = []
    for ss in source_stamps:
        where = f"[branch {ss['branch']}] " if ss.get("branch") else ""
        what = str(ss["revision"]) if ss.get("revision") else "HEAD"
        patch = " (plus patch)" if ss.get("patch") is not None else ""
        codebase = f" '{ss['codebase']}'" if ss.get("codebase") else ""
        lines.append(f"Build Source Stamp{codebase}: {where}{what}{patch}\n")
    return "".join(lines)


def get_projects_text(source_stamps: list[dict[str, Any]], master: Any) -> str:
    """The projects of the source stamps, or the master's title when none names one."""
    projects = {ss["project"] for ss in source_stamps if ss.get("project")}
    if not projects:
        return str(master.config.title)
    return ", ".join(projects)


def _shared_context(mode: Any, results: Any, previous_results: Any, buildset: dict[str, Any],
                    master: Any, blamelist: Any) -> dict[str, Any]:
    # what templates see both for one build and for a whole buildset
    stamps = buildset["sourcestamps"]
    return {
        "mode": mode,
        "results": results,
        "result_names": Results,
        "status_detected": get_detected_status_text(mode, results, previous_results),
        "buildset": buildset,
        "projects": get_projects_text(stamps, master),
        "sourcestamps": get_message_source_stamp_text(stamps),
        "blamelist": blamelist,
        "buildbot_title": master.config.title,
        "buildbot_url": master.config.buildbotURL,
    }


def create_context_for_build(mode: Any, build: dict[str, Any], is_buildset: bool, master: Any,
                             blamelist: Any) -> dict[str, Any]:
    """The Jinja2/function context describing one build."""
    previous = build.get("prev_build")
    previous_results = None if previous is None else previous["results"]
    worker = (build.get("properties") or {}).get("workername", ["<unknown>"])[0]
    builder = build["builder"]
    context = _shared_context(mode, build["results"], previous_results, build["buildset"],
                              master, blamelist)
    context.update(
        build=build, is_buildset=is_buildset, previous_results=previous_results,
        buildername=builder["name"], workername=worker,
        build_url=utils.getURLForBuild(master, builder["builderid"], build["number"]),
        summary=get_message_summary_text(build, build["results"]))
    return context


def create_context_for_buildset(mode: Any, buildset: dict[str, Any],
                                builds: list[dict[str, Any]], master: Any,
                                blamelist: Any) -> dict[str, Any]:
    """The context describing a whole buildset and its builds."""
    context = _shared_context(mode, buildset["results"], None, buildset, master, blamelist)
    context.update(builds=builds, is_buildset=True)
    return context


def create_context_for_worker(master: Any, worker: dict[str, Any]) -> dict[str, Any]:
    """The context of a missing-worker message (`worker` is the mq message body)."""
    return {
        "buildbot_title": master.config.title,
        "buildbot_url": master.config.buildbotURL,
        "worker": worker,
    }


# -- formatters -------------------------------------------------------------------------------


class MessageFormatterBase(ComparableMixin):
    """Shared machinery: extra context, then body, subject and extra info rendered
    concurrently. Subclasses override the `render_message_*` hooks (plain values, Deferreds
    or coroutines) and the `format_message_for_*` entry points."""

    template_type = "plain"
    compare_attrs: tuple[str, ...] = ("context", "want_properties", "want_steps",
                                      "want_logs", "want_logs_content", "template_type")

    def __init__(self, ctx: dict[str, Any] | None = None, want_properties: bool = True,
                 want_steps: bool = False, want_logs: bool = False,
                 want_logs_content: Any = False) -> None:
        self.context = {} if ctx is None else ctx
        self.want_properties = want_properties
        self.want_steps = want_steps
        self.want_logs = want_logs
        self.want_logs_content = want_logs_content

    def buildAdditionalContext(self, master: Any, ctx: dict[str, Any]) -> Any:
        """Hook: add names to the context before rendering."""
        return None

    async def render_message_dict(self, master: Any, context: dict[str, Any]) -> dict[str, Any]:
        """`{"body", "type", "subject", "extra_info"}` rendered from `context` (updated with
        the formatter's `ctx` and `buildAdditionalContext`)."""
        await maybe_await(self.buildAdditionalContext(master, context))
        context.update(self.context)
        body, subject, extra_info = await gather([
            maybe_await(self.render_message_body(context)),
            maybe_await(self.render_message_subject(context)),
            maybe_await(self.render_message_extra_info(context)),
        ])
        return {"body": body, "type": self.template_type, "subject": subject,
                "extra_info": extra_info}

    def render_message_body(self, context: dict[str, Any]) -> Any:
        return None

    def render_message_subject(self, context: dict[str, Any]) -> Any:
        return None

    def render_message_extra_info(self, context: dict[str, Any]) -> Any:
        return None

    def format_message_for_build(self, master: Any, build: dict[str, Any], **kwargs: Any) -> Any:
        """Message for one build (kwargs: `mode`, `users`, `is_buildset`)."""
        raise NotImplementedError

    def format_message_for_buildset(self, master: Any, buildset: dict[str, Any],
                                    builds: list[dict[str, Any]], **kwargs: Any) -> Any:
        """Message for a buildset and its builds (kwargs: `mode`, `users`, `is_buildset`)."""
        raise NotImplementedError


class MessageFormatterEmpty(MessageFormatterBase):
    """A message without body or subject (for reporters that only need the event)."""

    def format_message_for_build(self, master: Any, build: dict[str, Any], **kwargs: Any) -> Any:
        return {"body": None, "type": "plain", "subject": None, "extra_info": None}

    def format_message_for_buildset(self, master: Any, buildset: dict[str, Any],
                                    builds: list[dict[str, Any]], **kwargs: Any) -> Any:
        return {"body": None, "type": "plain", "subject": None}


class MessageFormatterFunctionRaw(MessageFormatterBase):
    """`function(master, context)` returns (or resolves to) the whole message dict; missing
    keys default to body None, type plain, subject None, extra_info None."""

    compare_attrs = MessageFormatterBase.compare_attrs + ("_function",)

    def __init__(self, function: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._function = function

    @staticmethod
    def _complete(msgdict: dict[str, Any]) -> dict[str, Any]:
        return {"body": msgdict.get("body", None), "type": msgdict.get("type", "plain"),
                "subject": msgdict.get("subject", None),
                "extra_info": msgdict.get("extra_info", None)}

    async def format_message_for_build(self, master: Any,  # type: ignore[override]  # 4.3's formatter signature (called by keyword)
                                       build: dict[str, Any], is_buildset: bool = False,
                                       users: Any = None, mode: Any = None) -> dict[str, Any]:
        ctx = create_context_for_build(mode, build, is_buildset, master, users)
        return self._complete(await maybe_await(self._function(master, ctx)))

    async def format_message_for_buildset(self, master: Any,
                                          buildset: dict[str, Any],
                                          builds: list[dict[str, Any]], users: Any = None,
                                          mode: Any = None, **kwargs: Any) -> dict[str, Any]:
        ctx = create_context_for_buildset(mode, buildset, builds, master, users)
        return self._complete(await maybe_await(self._function(master, ctx)))


class MessageFormatterFunction(MessageFormatterBase):
    """The body is `function(context)` where context is `{"build": build}` (or
    `{"buildset": ..., "builds": [...]}`); `template_type` says what the body is."""

    compare_attrs = MessageFormatterBase.compare_attrs + ("_function",)

    def __init__(self, function: Any, template_type: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.template_type = template_type
        self._function = function

    async def format_message_for_build(self, master: Any, build: dict[str, Any],
                                       **kwargs: Any) -> dict[str, Any]:
        return await self.render_message_dict(master, {"build": build})

    async def format_message_for_buildset(self, master: Any, buildset: dict[str, Any],
                                          builds: list[dict[str, Any]],
                                          **kwargs: Any) -> dict[str, Any]:
        return await self.render_message_dict(master, {"buildset": buildset, "builds": builds})

    def render_message_body(self, context: dict[str, Any]) -> Any:
        return self._function(context)


class MessageFormatterRenderable(MessageFormatterBase):
    """Body (and optional subject) are renderables (`Interpolate`, `Property`, plain
    strings...) rendered against the build's properties."""

    compare_attrs = MessageFormatterBase.compare_attrs + ("template", "subject")

    def __init__(self, template: Any, subject: Any = None) -> None:
        super().__init__()
        self.template = template
        self.subject = subject

    async def format_message_for_build(self, master: Any, build: dict[str, Any],
                                       **kwargs: Any) -> dict[str, Any]:
        return await self.render_message_dict(master, {"build": build, "master": master})

    def format_message_for_buildset(self, master: Any, buildset: dict[str, Any],
                                    builds: list[dict[str, Any]], **kwargs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def _properties(context: dict[str, Any]) -> Properties:
        props = Properties.fromDict(context["build"].get("properties") or {})
        props.master = context["master"]
        return props

    async def render_message_body(self, context: dict[str, Any]) -> Any:
        return await self._properties(context).render(self.template)

    async def render_message_subject(self, context: dict[str, Any]) -> Any:
        if self.subject is None:
            return None
        return await self._properties(context).render(self.subject)


# Default templates. The subject keeps Buildbot 4.3's exact format (mail filters match on
# it); the bodies carry the same facts, worded for this project.

_BUILD_BODY_PLAIN = """\
Buildbot detected a {{ status_detected }} on builder {{ buildername }} while building \
{{ projects }}.

Full details: {{ build_url }}

{% set props = build['properties'] -%}
Build state: {{ build['state_string'] }}
Revision: {{ props.get('got_revision', ['(unknown)'])[0] }}
Worker: {{ workername }}
Build Reason: {{ props.get('reason', ['(unknown)'])[0] }}
Blamelist: {{ blamelist | join(', ') }}

Steps:
{% for step in build['steps'] or [] -%}
- {{ step['number'] }}: {{ step['name'] }} ( {{ result_names[step['results']] }} )
{% for log in step['logs'] or [] -%}
{% if loop.first %}    Logs:
{% endif %}        - {{ log.name }}: {{ log.url }}
{% endfor -%}
{% else -%}
- (no steps)
{% endfor %}
"""

_BUILD_BODY_HTML = """\
{% set props = build['properties'] -%}
<p>Buildbot detected a {{ status_detected }} on builder
<a href="{{ build_url }}">{{ buildername }}</a> while building {{ projects }}.</p>
<p>Information:</p>
<ul>
  <li>Build state: {{ build['state_string'] }}</li>
  <li>Revision: {{ props.get('got_revision', ['(unknown)'])[0] }}</li>
  <li>Worker: {{ workername }}</li>
  <li>Build Reason: {{ props.get('reason', ['(unknown)'])[0] }}</li>
  <li>Blamelist: {{ blamelist | join(', ') }}</li>
</ul>
<p>Steps:</p>
<ul>
{% for step in build['steps'] or [] %}
  <li style="{{ results_style[step['results']] }}">{{ step['number'] }}: {{ step['name'] }} \
( {{ result_names[step['results']] }} )\
{% if step['logs'] %} ({% for log in step['logs'] %} \
<a href="{{ log.url }}">&lt;{{ log.name }}&gt;</a>{% endfor %} ){% endif %}</li>
{% else %}
  <li>No steps</li>
{% endfor %}
</ul>
"""

_BUILD_SUBJECT = """\
{%- set props = build['properties'] -%}
{%- set outcome = result_names[results] -%}
{{ '\u2620' if outcome == 'failure' else ('\u263a' if outcome == 'success' else '\u261d') }} \
Buildbot ({{ buildbot_title }}): \
{{ props.get('project', ['whole buildset'])[0] if is_buildset else buildername }} - \
{{ build['state_string'] }} \
({{ props['branch'][0] if props['branch'] and props['branch'][0] \
else props.get('got_revision', ['(unknown revision)'])[0] }})"""

_RESULTS_STYLE = {
    SUCCESS: "",
    EXCEPTION: "color: #f0f; font-weight: bold;",
    FAILURE: "color: #f00; font-weight: bold;",
    RETRY: "color: #4af;",
    SKIPPED: "color: #4af;",
    WARNINGS: "color: #f80;",
    CANCELLED: "color: #4af;",
}

# Names 4.3 exports; some configurations build on them.
default_body_template_plain = _BUILD_BODY_PLAIN
default_body_template_html = _BUILD_BODY_HTML
default_subject_template = _BUILD_SUBJECT


class MessageFormatterBaseJinja(MessageFormatterBase):
    """Jinja2 templates for body and subject. Without a template, the default one for
    `template_type` (plain or html) is used, and steps and logs are fetched for it."""

    compare_attrs = MessageFormatterBase.compare_attrs + ("_body_source", "_subject_source",
                                                          "extra_info_cb")
    template_type = "plain"
    uses_default_body_template = False
    # the compiled Jinja2 subject (set by the constructor; None on the class, as in 4.3)
    subject_template: jinja2.Template | None = None

    def __init__(self, template: str | None = None, subject: str | None = None,
                 template_type: str | None = None, extra_info_cb: Any = None,
                 **kwargs: Any) -> None:
        if template_type is not None:
            self.template_type = template_type
        if template is None:
            self.uses_default_body_template = True
            template = _default_body(self, _DEFAULT_BUILD_BODIES, self.template_type)
            # the default bodies list the steps and their logs
            kwargs["want_steps"] = True
            kwargs["want_logs"] = True
        if subject is None:
            subject = _BUILD_SUBJECT
        self._body_source = template
        self._subject_source = subject
        self.body_template = jinja2.Template(template)
        self.subject_template = jinja2.Template(subject)
        self.extra_info_cb = extra_info_cb
        super().__init__(**kwargs)

    def buildAdditionalContext(self, master: Any, ctx: dict[str, Any]) -> Any:
        if self.uses_default_body_template:
            ctx["results_style"] = _RESULTS_STYLE
        return None

    def render_message_body(self, context: dict[str, Any]) -> Any:
        return self.body_template.render(context)

    def render_message_subject(self, context: dict[str, Any]) -> Any:
        assert self.subject_template is not None  # compiled by the constructor
        return self.subject_template.render(context)

    def render_message_extra_info(self, context: dict[str, Any]) -> Any:
        if self.extra_info_cb is None:
            return None
        return self.extra_info_cb(context)


_DEFAULT_BUILD_BODIES = {"plain": _BUILD_BODY_PLAIN, "html": _BUILD_BODY_HTML}


def _default_body(formatter: object, bodies: dict[str, str], template_type: str) -> str:
    """The default body template of a formatter for `template_type` (a configuration error
    and an empty template for a type without one)."""
    body = bodies.get(template_type)
    if body is None:
        config.error(f"{type(formatter).__name__}: template type {template_type} "
                     "is not known to pick default template")
        return ""
    return body


class MessageFormatter(MessageFormatterBaseJinja):
    """The Jinja2 formatter for builds and buildsets (the usual `message_formatter`)."""

    async def format_message_for_build(self, master: Any,  # type: ignore[override]  # 4.3's formatter signature (called by keyword)
                                       build: dict[str, Any], is_buildset: bool = False,
                                       users: Any = None, mode: Any = None) -> dict[str, Any]:
        ctx = create_context_for_build(mode, build, is_buildset, master, users)
        return await self.render_message_dict(master, ctx)

    async def format_message_for_buildset(self, master: Any,
                                          buildset: dict[str, Any],
                                          builds: list[dict[str, Any]], users: Any = None,
                                          mode: Any = None, **kwargs: Any) -> dict[str, Any]:
        # 4.3 has no **kwargs here, so BuildSetCombinedStatusGenerator (which passes
        # is_buildset) fails with it.
        ctx = create_context_for_buildset(mode, buildset, builds, master, users)
        return await self.render_message_dict(master, ctx)


_MISSING_BODY_PLAIN = """\
Buildbot worker {{ worker.name }} is missing.

It last disconnected at {{ worker.last_connection }}.
{% if 'admin' in worker['workerinfo'] %}
Its admin, as the worker reports it (info/admin), is {{ worker.workerinfo.admin }}.
{% endif %}
"""

_MISSING_BODY_HTML = """\
<p>Buildbot worker {{ worker.name }} is missing.</p>
<p>It last disconnected at {{ worker.last_connection }}.</p>
{% if 'admin' in worker['workerinfo'] %}
<p>Its admin, as the worker reports it (info/admin), is {{ worker.workerinfo.admin }}.</p>
{% endif %}
"""

_MISSING_SUBJECT = "Buildbot {{ buildbot_title }} worker {{ worker.name }} missing"

default_missing_template_plain = _MISSING_BODY_PLAIN
default_missing_template_html = _MISSING_BODY_HTML
default_missing_worker_subject_template = _MISSING_SUBJECT


_DEFAULT_MISSING_BODIES = {"plain": _MISSING_BODY_PLAIN, "html": _MISSING_BODY_HTML}


class MessageFormatterMissingWorker(MessageFormatterBaseJinja):
    """Jinja2 formatter for `workers/<id>/missing` (context: `worker`, `buildbot_title`,
    `buildbot_url`)."""

    def __init__(self, template: str | None = None, subject: str | None = None,
                 template_type: str | None = None, **kwargs: Any) -> None:
        if template_type is None:
            template_type = "plain"
        if template is None:
            template = _default_body(self, _DEFAULT_MISSING_BODIES, template_type)
        if subject is None:
            subject = _MISSING_SUBJECT
        super().__init__(template=template, subject=subject, template_type=template_type,
                         **kwargs)

    async def formatMessageForMissingWorker(self, master: Any,
                                            worker: dict[str, Any]) -> dict[str, Any]:
        return await self.render_message_dict(master, create_context_for_worker(master, worker))
