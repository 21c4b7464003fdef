"""Generators: filtering by mode, builders, tags, schedulers and branches (table-driven), and
what each generator reports on real builds (through HttpStatusPush to a local server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import reporters
from buildbot.process.results import (
    CANCELLED,
    EXCEPTION,
    FAILURE,
    SUCCESS,
    WARNINGS,
)
from buildbot.reporters.generators.utils import MessageFold
from tests.fixtures.master import running_master
from tests.reporters.builds import force, master_config
from tests.reporters.remote_services import RecordingHttpServer


def build(results: int, prev: int | None = None, builder: str = "b0",
          tags: list[str] | None = None, scheduler: str = "force",
          branch: str | None = "main") -> dict[str, Any]:
    return {
        "results": results,
        "builder": {"name": builder, "tags": tags or []},
        "properties": {"scheduler": [scheduler, "Scheduler"], "branch": [branch, "Build"]},
        "prev_build": None if prev is None else {"results": prev},
    }


# Sequences of per-build messages and what 4.3's buildset generator folds them into,
# recorded from its merge helpers (type conflicts, body kinds, extra_info sections).
FOLD_CASES = json.loads((Path(__file__).parent / "reference_message_fold.json").read_text())


@pytest.mark.parametrize("case", FOLD_CASES, ids=[str(i) for i in range(len(FOLD_CASES))])
def test_message_fold_matches_the_reference(case: dict[str, Any]) -> None:
    fold = MessageFold("gen")
    for message in case["messages"]:
        fold.add(message)
    assert {"type": fold.msgtype, "subject": fold.subject, "body": fold.body,
            "extra_info": fold.extra_info} == case["folded"]


RESULT_CASES = [
    # mode, results, previous results, reported?
    (("failing",), FAILURE, None, True),
    (("failing",), SUCCESS, None, False),
    (("passing",), SUCCESS, None, True),
    (("passing",), WARNINGS, None, False),
    (("warnings",), WARNINGS, None, True),
    ("warnings", FAILURE, None, True),
    (("exception",), EXCEPTION, None, True),
    (("cancelled",), CANCELLED, None, True),
    ("all", CANCELLED, None, True),
    ("all", SUCCESS, FAILURE, True),
    (("change",), SUCCESS, FAILURE, True),
    (("change",), SUCCESS, SUCCESS, False),
    (("change",), FAILURE, None, False),
    (("problem",), FAILURE, SUCCESS, True),
    (("problem",), FAILURE, FAILURE, False),
    (("problem",), FAILURE, None, False),
    (("problem",), WARNINGS, SUCCESS, False),
]


@pytest.mark.parametrize(("mode", "results", "prev", "reported"), RESULT_CASES)
def test_mode_filter(mode: Any, results: int, prev: int | None, reported: bool) -> None:
    gen = reporters.BuildStatusGenerator(mode=mode)
    assert gen.is_message_needed_by_results(build(results, prev)) is reported


PROP_CASES = [
    # generator arguments, build arguments, reported?
    ({}, {}, True),
    ({"builders": ["b0"]}, {}, True),
    ({"builders": ["b1"]}, {}, False),
    ({"tags": ["linux"]}, {"tags": ["linux", "fast"]}, True),
    ({"tags": ["linux"]}, {"tags": ["windows"]}, False),
    ({"tags": []}, {"tags": ["linux"]}, False),
    ({"schedulers": ["force"]}, {}, True),
    ({"schedulers": ["nightly"]}, {}, False),
    ({"branches": ["main"]}, {}, True),
    ({"branches": ["main"]}, {"branch": "dev"}, False),
    ({"branches": ["main"], "builders": ["b0"]}, {"branch": "main"}, True),
]


@pytest.mark.parametrize(("gen_args", "build_args", "reported"), PROP_CASES)
@pytest.mark.parametrize("generator", [reporters.BuildStatusGenerator,
                                       reporters.BuildSetStatusGenerator,
                                       reporters.BuildStartEndStatusGenerator,
                                       reporters.BuildRequestGenerator])
def test_builder_tag_scheduler_branch_filters(generator: Any, gen_args: dict[str, Any],
                                              build_args: dict[str, Any],
                                              reported: bool) -> None:
    gen = generator(**gen_args)
    assert gen.is_message_needed_by_props(build(SUCCESS, **build_args)) is reported


def _brief(ctx: dict[str, Any]) -> dict[str, Any]:
    b = ctx["build"]
    return {"builder": b["builder"]["name"], "results": b["results"],
            "complete": b["complete"]}


def brief_push(*generators: Any) -> Any:
    return reporters.HttpStatusPush(_SERVER.url + "/hook", generators=list(generators))


_SERVER = RecordingHttpServer()


@pytest_twisted.async_yield_fixture
async def server() -> Any:
    _SERVER.requests.items.clear()
    _SERVER.start()
    yield _SERVER
    await _SERVER.stop()


def brief_formatter() -> Any:
    return reporters.MessageFormatterFunction(_brief, "json")


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_build_status_generator_reports_only_matching_builders_and_results(
        tmp_path: Path, server: RecordingHttpServer) -> None:
    push = brief_push(reporters.BuildStatusGenerator(
        mode=("failing",), builders=["b1", "b2"], message_formatter=brief_formatter()))
    cfg = master_config(push, builders=("b0", "b1", "b2"), fail=("b0", "b1"))
    async with running_master(tmp_path, cfg) as master:
        await force(master, builders=["b0", "b1", "b2"])
        await force(master, builders=["b1"])
        reqs = await server.wait_for(2)
    assert [r.json() for r in reqs] == [{"builder": "b1", "results": FAILURE,
                                         "complete": True}] * 2


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_report_new_adds_the_start_of_every_build(
        tmp_path: Path, server: RecordingHttpServer) -> None:
    push = brief_push(reporters.BuildStatusGenerator(
        mode=("failing",), report_new=True, message_formatter=brief_formatter()))
    async with running_master(tmp_path, master_config(push)) as master:
        await force(master)
        (_req,) = await server.wait_for(1)
        await force(master, builders=["b0"])
        reqs = await server.wait_for(2)
    assert [r.json() for r in reqs] == [{"builder": "b0", "results": None, "complete": False}] * 2


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_buildset_generator_merges_the_builds_of_a_buildset(
        tmp_path: Path, server: RecordingHttpServer) -> None:
    fmt = reporters.MessageFormatterFunction(lambda ctx: [ctx["build"]["builder"]["name"]],
                                             "json")
    push = brief_push(reporters.BuildSetStatusGenerator(mode="all", tags=["t"],
                                                        message_formatter=fmt))
    cfg = master_config(push, builders=("b0", "b1", "b2"), fail=("b1",),
                        tags={"b0": ["t"], "b1": ["t"]})
    async with running_master(tmp_path, cfg) as master:
        await force(master, builders=["b0", "b1", "b2"])
        (req,) = await server.wait_for(1)
    assert sorted(req.json()) == ["b0", "b1"]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_combined_buildset_generator_sends_one_message_per_buildset(
        tmp_path: Path, server: RecordingHttpServer) -> None:
    def combined(ctx: dict[str, Any]) -> dict[str, Any]:
        return {"results": ctx["buildset"]["results"],
                "builders": sorted(b["builderid"] for b in ctx["builds"])}

    push = brief_push(reporters.BuildSetCombinedStatusGenerator(
        reporters.MessageFormatterFunction(combined, "json")))
    cfg = master_config(push, builders=("b0", "b1"), fail=("b1",))
    async with running_master(tmp_path, cfg) as master:
        await force(master, builders=["b0", "b1"])
        (req,) = await server.wait_for(1)
        ids = sorted(b["builderid"] for b in await master.data.get(("builders",)))
    assert req.json() == {"results": FAILURE, "builders": ids}


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_start_end_and_request_generators_in_order(
        tmp_path: Path, server: RecordingHttpServer) -> None:
    def text(ctx: dict[str, Any]) -> str:
        b = ctx["build"]
        props = b["properties"]
        return (f"{b['builder']['name']} results={b['results']} complete={b['complete']} "
                f"buildername={props['buildername'][0]} branch={props['branch'][0]}")

    push = brief_push(
        reporters.BuildRequestGenerator(formatter=reporters.MessageFormatterFunction(
            lambda ctx: "pending " + text(ctx), "plain")),
        reporters.BuildStartEndStatusGenerator(
            start_formatter=reporters.MessageFormatterFunction(
                lambda ctx: "start " + text(ctx), "plain"),
            end_formatter=reporters.MessageFormatterFunction(
                lambda ctx: "end " + text(ctx), "plain")))
    # A plain-text body is sent as JSON string by HttpStatusPush.
    async with running_master(tmp_path, master_config(push)) as master:
        await force(master, branch="dev")
        reqs = await server.wait_for(3)
    assert [r.json() for r in reqs] == [
        "pending b0 results=None complete=False buildername=b0 branch=dev",
        "start b0 results=None complete=False buildername=b0 branch=dev",
        "end b0 results=0 complete=True buildername=b0 branch=dev",
    ]
