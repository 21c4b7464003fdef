"""Message formatters and their context, on build dicts shaped like the data API's (expected
texts taken from Buildbot 4.3 where the output is the same)."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import reporters, util
from buildbot.process.results import (
    CANCELLED,
    EXCEPTION,
    FAILURE,
    RETRY,
    SKIPPED,
    SUCCESS,
    WARNINGS,
)
from buildbot.reporters import message
from tests.fixtures.stack import Stack


def build(results: int | None, props: dict[str, Any], state: str = "s",
          **extra: Any) -> dict[str, Any]:
    return {
        "buildid": 11, "number": 3, "results": results, "state_string": state,
        "builder": {"name": "bld", "builderid": 7},
        "buildset": {"sourcestamps": [
            {"branch": "main", "revision": "abc", "patch": None, "codebase": "",
             "project": "p1"},
            {"branch": None, "revision": None, "patch": {"body": "x"}, "codebase": "cb",
             "project": ""}]},
        "properties": props,
        **extra,
    }


@pytest.fixture
def master(stack: Stack) -> Any:
    stack.master.config.title = "T"
    stack.master.config.buildbotURL = "http://bb/"
    return stack.master


SUBJECTS = [
    (FAILURE, {"branch": ["main", "x"]}, False, "\u2620 Buildbot (T): bld - s (main)"),
    (SUCCESS, {"branch": [None, "x"], "got_revision": ["deadbeef", "x"]}, False,
     "\u263a Buildbot (T): bld - s (deadbeef)"),
    (WARNINGS, {}, True, "\u261d Buildbot (T): whole buildset - s ((unknown revision))"),
    (SUCCESS, {"project": ["proj", "x"]}, True,
     "\u263a Buildbot (T): proj - s ((unknown revision))"),
    (None, {}, False, "\u261d Buildbot (T): bld - s ((unknown revision))"),
]


@pytest.mark.parametrize(("results", "props", "is_buildset", "subject"), SUBJECTS)
@pytest_twisted.ensureDeferred
async def test_default_subject_matches_the_reference(master: Any, results: Any, props: Any,
                                                     is_buildset: bool, subject: str) -> None:
    msg = await reporters.MessageFormatter().format_message_for_build(
        master, build(results, props, steps=[]), is_buildset=is_buildset,
        mode=("failing", "passing"), users=["a"])
    assert msg["subject"] == subject


STATUS = [
    # results, text with mode problem after SUCCESS, with mode change after FAILURE, summary
    (FAILURE, "new failure", "failed build", "BUILD FAILED: st"),
    (WARNINGS, "problem in the build", "problem in the build", "Build Had Warnings: st"),
    (SUCCESS, "passing build", "restored build", "Build succeeded!"),
    (EXCEPTION, "build exception", "build exception", "BUILD FAILED: st"),
    (CANCELLED, "cancelled build", "cancelled build", "Build was cancelled"),
    (RETRY, "retry build", "retry build", "BUILD FAILED: st"),
    (SKIPPED, "skipped build", "skipped build", "BUILD FAILED: st"),
]


@pytest.mark.parametrize(("results", "problem", "change", "summary"), STATUS)
def test_status_texts(results: int, problem: str, change: str, summary: str) -> None:
    assert message.get_detected_status_text(("problem",), results, SUCCESS) == problem
    assert message.get_detected_status_text(("change",), results, FAILURE) == change
    assert message.get_message_summary_text({"state_string": "st"}, results) == summary


def test_build_context(master: Any) -> None:
    b = build(SUCCESS, {"workername": ["w1", "Worker"]}, prev_build={"results": FAILURE})
    ctx = message.create_context_for_build(("change",), b, False, master, ["a"])
    assert {k: ctx[k] for k in ("status_detected", "summary", "sourcestamps", "projects",
                                "workername", "build_url", "buildbot_title",
                                "previous_results")} == {
        "status_detected": "restored build",
        "summary": "Build succeeded!",
        "sourcestamps": ("Build Source Stamp: [branch main] abc\n"
                         "Build Source Stamp 'cb': HEAD (plus patch)\n"),
        "projects": "p1",
        "workername": "w1",
        "build_url": "http://bb/#/builders/7/builds/3",
        "buildbot_title": "T",
        "previous_results": FAILURE,
    }


@pytest_twisted.ensureDeferred
async def test_default_plain_body_lists_steps_and_logs(master: Any) -> None:
    steps = [{"number": 0, "name": "checkout", "results": SUCCESS, "logs": []},
             {"number": 1, "name": "test", "results": FAILURE,
              "logs": [{"name": "stdio", "url": "http://bb/log/1"}]}]
    b = build(FAILURE, {"got_revision": ["abc", "Git"], "reason": ["push", "Scheduler"],
                        "workername": ["w1", "Worker"]}, state="failed test", steps=steps)
    msg = await reporters.MessageFormatter().format_message_for_build(
        master, b, mode=("failing",), users=["alice", "bob"])
    assert msg["type"] == "plain"
    assert msg["body"] == (
        "Buildbot detected a failed build on builder bld while building p1.\n"
        "\n"
        "Full details: http://bb/#/builders/7/builds/3\n"
        "\n"
        "Build state: failed test\n"
        "Revision: abc\n"
        "Worker: w1\n"
        "Build Reason: push\n"
        "Blamelist: alice, bob\n"
        "\n"
        "Steps:\n"
        "- 0: checkout ( success )\n"
        "- 1: test ( failure )\n"
        "    Logs:\n"
        "        - stdio: http://bb/log/1\n"
    )


@pytest_twisted.ensureDeferred
async def test_default_html_body_styles_failed_steps(master: Any) -> None:
    steps = [{"number": 1, "name": "test", "results": FAILURE,
              "logs": [{"name": "stdio", "url": "http://bb/log/1"}]}]
    msg = await reporters.MessageFormatter(template_type="html").format_message_for_build(
        master, build(FAILURE, {}, steps=steps), mode=("failing",), users=[])
    assert msg["type"] == "html"
    assert '<a href="http://bb/#/builders/7/builds/3">bld</a>' in msg["body"]
    assert ('<li style="color: #f00; font-weight: bold;">1: test ( failure ) ( '
            '<a href="http://bb/log/1">&lt;stdio&gt;</a> )</li>') in msg["body"]


@pytest_twisted.ensureDeferred
async def test_custom_jinja_templates_and_extra_info(master: Any) -> None:
    fmt = reporters.MessageFormatter(template="{{ buildername }}: {{ summary }}",
                                     subject="[{{ buildbot_title }}] {{ results }}",
                                     ctx={"results": "overridden"},
                                     extra_info_cb=lambda ctx: {"k": {"v": ctx["buildername"]}})
    msg = await fmt.format_message_for_build(master, build(SUCCESS, {}), mode=("passing",),
                                             users=[])
    assert msg == {"body": "bld: Build succeeded!", "type": "plain",
                   "subject": "[T] overridden", "extra_info": {"k": {"v": "bld"}}}
    assert (fmt.want_properties, fmt.want_steps, fmt.want_logs) == (True, False, False)
    assert reporters.MessageFormatter().want_steps is True
    # the compiled subject is public (4.3): a subclass may render it in its own context
    assert fmt.subject_template.render(buildbot_title="X", results="r") == "[X] r"
    assert reporters.MessageFormatter.subject_template is None


@pytest_twisted.ensureDeferred
async def test_renderable_formatter_renders_build_properties(master: Any) -> None:
    fmt = reporters.MessageFormatterRenderable(
        util.Interpolate("%(prop:buildername)s #%(prop:buildnumber)s"), subject="sub")
    msg = await fmt.format_message_for_build(
        master, build(None, {"buildername": ["bld", "Builder"], "buildnumber": [3, "Build"]}))
    assert msg == {"body": "bld #3", "type": "plain", "subject": "sub", "extra_info": None}


@pytest_twisted.ensureDeferred
async def test_function_formatters(master: Any) -> None:
    b = build(SUCCESS, {})
    fn = reporters.MessageFormatterFunction(lambda ctx: {"n": ctx["build"]["number"]}, "json")
    assert await fn.format_message_for_build(master, b) == {
        "body": {"n": 3}, "type": "json", "subject": None, "extra_info": None}
    raw = reporters.MessageFormatterFunctionRaw(
        lambda master, ctx: {"body": ctx["summary"], "subject": ctx["buildername"]})
    assert await raw.format_message_for_build(master, b, mode=("passing",), users=[]) == {
        "body": "Build succeeded!", "type": "plain", "subject": "bld", "extra_info": None}
    empty = reporters.MessageFormatterEmpty()
    assert empty.format_message_for_build(master, b) == {  # not a coroutine, as in 4.3
        "body": None, "type": "plain", "subject": None, "extra_info": None}


@pytest_twisted.ensureDeferred
async def test_missing_worker_formatter(master: Any) -> None:
    worker = {"name": "w1", "last_connection": "Mon Jan  1 00:00:00 2024",
              "workerinfo": {"admin": "Ann <ann@example.org>"}}
    msg = await reporters.MessageFormatterMissingWorker().formatMessageForMissingWorker(
        master, worker)
    assert msg["subject"] == "Buildbot T worker w1 missing"
    assert msg["body"] == (
        "Buildbot worker w1 is missing.\n\n"
        "It last disconnected at Mon Jan  1 00:00:00 2024.\n\n"
        "Its admin, as the worker reports it (info/admin), is Ann <ann@example.org>.\n")


def test_unknown_template_type_without_template_is_a_config_error() -> None:
    from buildbot.config.errors import capture_config_errors

    with capture_config_errors() as errors:
        reporters.MessageFormatter(template_type="json")
        reporters.MessageFormatterMissingWorker(template_type="json")
    assert errors.errors == [
        "MessageFormatter: template type json is not known to pick default template",
        ("MessageFormatterMissingWorker: template type json is not known to pick default "
        "template")]
