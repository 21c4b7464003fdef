"""Reconfiguring reporters on a running master: rotated secrets, new generators, removal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import reporters, secrets, util
from buildbot.process.results import FAILURE
from tests.fixtures.master import running_master
from tests.reporters.builds import force, master_config, secrets_dir
from tests.reporters.remote_services import RecordingHttpServer


@pytest_twisted.async_yield_fixture
async def server() -> Any:
    srv = RecordingHttpServer(lambda req: (200, {"id": 5}))
    srv.start()
    yield srv
    await srv.stop()


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_rotated_secret_is_used_after_reconfig(tmp_path: Path,
                                                     server: RecordingHttpServer) -> None:
    sdir = secrets_dir(tmp_path, gl="old-token")

    def cfg() -> dict[str, Any]:
        push = reporters.GitLabStatusPush(token=util.Secret("gl"), baseURL=server.url,
                                          generators=[reporters.BuildStatusGenerator(
                                              mode="all")])
        return master_config(push, secretsProviders=[secrets.SecretInAFile(dirname=sdir)])

    async with running_master(tmp_path, cfg) as master:
        before = master.service_manager.namedServices["GitLabStatusPush"]
        await force(master, repository="https://gl.example.org/g/r.git", revision="a1")
        await server.wait_for(2)  # project lookup, status
        secrets_dir(tmp_path, gl="new-token")
        await master.reconfig()
        assert master.service_manager.namedServices["GitLabStatusPush"] is before
        await force(master, repository="https://gl.example.org/g/r.git", revision="a2")
        reqs = await server.wait_for(4)
    assert [(r.method, r.headers["private-token"]) for r in reqs] == [
        ("GET", "old-token"), ("POST", "old-token"),
        ("GET", "new-token"), ("POST", "new-token")]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_new_generators_apply_without_restarting_the_reporter(
        tmp_path: Path, server: RecordingHttpServer) -> None:
    generators: list[Any] = []

    def cfg() -> dict[str, Any]:
        push = reporters.HttpStatusPush(server.url + "/hook", generators=list(generators) or None)
        return master_config(push, builders=("ok", "bad"), fail=("bad",))

    async with running_master(tmp_path, cfg) as master:
        push = master.service_manager.namedServices["HttpStatusPush"]
        await force(master, builders=["ok"])
        assert len(await server.wait_for(2)) == 2  # default: build start and end
        consumers = master.mq.impl.consumer_count()

        generators.append(reporters.BuildStatusGenerator(
            mode="failing", message_formatter=reporters.MessageFormatterFunction(
                lambda ctx: {"failed": ctx["build"]["builder"]["name"]}, "json")))
        await master.reconfig()
        assert master.service_manager.namedServices["HttpStatusPush"] is push
        assert master.mq.impl.consumer_count() == consumers - 1  # builds/*/new no longer wanted
        await force(master, builders=["ok"])
        bs = await force(master, builders=["bad"])
        reqs = await server.wait_for(3)
    assert bs["results"] == FAILURE
    assert reqs[2].json() == {"failed": "bad"}
    assert len(server.requests.items) == 3


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_removed_reporter_stops_consuming(tmp_path: Path,
                                                server: RecordingHttpServer) -> None:
    services: list[Any] = [reporters.HttpStatusPush(server.url + "/hook")]

    def cfg() -> dict[str, Any]:
        return master_config(*services)

    async with running_master(tmp_path, cfg) as master:
        with_reporter = master.mq.impl.consumer_count()
        services.clear()
        await master.reconfig()
        assert "HttpStatusPush" not in master.service_manager.namedServices
        assert master.mq.impl.consumer_count() == with_reporter - 2
        await force(master)
    assert server.requests.items == []
