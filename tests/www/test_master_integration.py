"""The web layer on a real master (real db, mq, data layer and resource types)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pytest_twisted

from tests.fixtures.master import running_master
from tests.www.harness import WsClient, http

pytestmark = pytest.mark.integration


def _config() -> dict[str, object]:
    return {"multiMaster": True, "www": {"port": "tcp:0:interface=127.0.0.1",
                                         "plugins": {"waterfall_view": {}}}}


@pytest_twisted.ensureDeferred
async def test_ui_rest_and_websocket_on_a_real_master(tmp_path: Path) -> None:
    async with running_master(tmp_path / "m", _config) as master:
        base = f"http://127.0.0.1:{master.www.port_number}/"
        page = await http.get(base)
        assert page.code == 200 and b"window.buildbotFrontendConfig" in page.body
        res = await http.get(base + "api/v2/masters", headers={"Accept": "application/json"})
        body = json.loads(res.body)
        assert body["meta"]["total"] == 1 and body["masters"][0]["active"] is True
        spec = json.loads((await http.get(base + "api/v2/application.spec")).body)
        assert len(spec["specs"]) > 100
        root = json.loads((await http.get(base + "api/v2")).body)
        assert {"name": "builders"} in root["rootlinks"]
        for path in ("builders", "builds", "buildrequests", "changes", "workers", "schedulers",
                     "forceschedulers", "projects", "codebases", "sourcestamps", "buildsets",
                     "changesources", "test_result_sets"):
            res = await http.get(base + f"api/v2/{path}?limit=5")
            assert res.code == 200, (path, res.body[:200])
        ws = await WsClient.connect(base.replace("http", "ws") + "ws")
        assert (await ws.call(cmd="startConsuming", path="changes/*/*", _id=1))["code"] == 200
        await master.data.updates.addChange(author="me", comments="c", revision="r1",
                                            files=["f"], branch="main")
        event = await ws.next("the new change event")
        assert event["k"].startswith("changes/") and event["m"]["author"] == "me"
        res = json.loads((await http.get(base + "api/v2/changes")).body)
        assert res["changes"][0]["revision"] == "r1"
        await ws.close()


@pytest_twisted.ensureDeferred
async def test_raw_log_of_a_real_build_is_streamed(tmp_path: Path) -> None:
    async with running_master(tmp_path / "m", _config) as master:
        up = master.data.updates
        builderid = await up.findBuilderId("b1")
        workerid = await up.findWorkerId("w1")
        _, brids = await up.addBuildset(waited_for=False, builderids=[builderid],
                                           sourcestamps=[{"codebase": "", "repository": "r",
                                                          "branch": "main", "revision": "x",
                                                          "project": ""}])
        buildid, _ = await up.addBuild(builderid, brids[builderid], workerid)
        stepid, _, _ = await up.addStep(buildid, "compile")
        logid = await up.addLog(stepid, "stdio", "s")
        for i in range(20):
            await up.appendLog(logid, "".join(f"oline {i}-{j}\n" for j in range(1000)))
        await up.finishLog(logid)
        base = f"http://127.0.0.1:{master.www.port_number}/"
        res = await http.get(base + f"api/v2/logs/{logid}/raw")
        assert res.code == 200
        assert res.headers.getRawHeaders("content-disposition")[0].startswith(
            "attachment; filename=b1_build_1_step_compile_log_stdio")
        lines = res.body.decode().splitlines()
        assert lines[0] == "Builder: b1" and lines[-1] == "line 19-999"
        assert len([ln for ln in lines if ln.startswith("line ")]) == 20000
        chunk = json.loads((await http.get(base + f"api/v2/logs/{logid}/contents?offset=5&limit=2")).body)
        assert chunk["logchunks"][0]["content"] == "oline 0-5\noline 0-6\n"


@pytest_twisted.ensureDeferred
async def test_change_hooks_store_real_changes(tmp_path: Path) -> None:
    import hashlib
    import hmac

    from tests.www.test_hooks import PUSH

    def config() -> dict[str, object]:
        return {"multiMaster": True, "www": {
            "port": "tcp:0:interface=127.0.0.1",
            "change_hook_dialects": {"base": True, "github": {"secret": "s", "strict": True}}}}

    async with running_master(tmp_path / "m", config) as master:
        base = f"http://127.0.0.1:{master.www.port_number}/"
        res = await http.post(base + "change_hook/base", data=b"author=me&comments=c&revision=r0"
                              b"&when_timestamp=1700000000.5&files=%5B%22a%22%5D",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert (res.code, res.body) == (200, b"1 change found")
        body = json.dumps(PUSH).encode()
        sig = "sha1=" + hmac.new(b"s", body, hashlib.sha1).hexdigest()
        bad = await http.post(base + "change_hook/github", data=body, headers={
            "Content-Type": "application/json", "X-GitHub-Event": "push",
            "X-Hub-Signature": "sha1=" + "0" * 40})
        assert bad.code == 400
        res = await http.post(base + "change_hook/github", data=body, headers={
            "Content-Type": "application/json", "X-GitHub-Event": "push",
            "X-Hub-Signature": sig})
        assert res.code == 200, res.body
        changes = json.loads((await http.get(base + "api/v2/changes?order=changeid")).body)
        got = sorted((c["revision"], c["author"], c["when_timestamp"], c["files"])
                     for c in changes["changes"])
        assert got == [("abc123", "A <a@x>", 1704164645, ["new.py", "mod.py"]),
                       ("r0", "me", 1700000000, ["a"])]


@pytest_twisted.ensureDeferred
async def test_jsonrpc_control_on_real_resources(tmp_path: Path) -> None:
    from tests.www.harness import post_jsonrpc

    async with running_master(tmp_path / "m", _config) as master:
        up = master.data.updates
        builderid = await up.findBuilderId("b1")
        _, brids = await up.addBuildset(waited_for=False, builderids=[builderid],
                                        sourcestamps=[{"codebase": "", "repository": "r",
                                                       "branch": "main", "revision": "x",
                                                       "project": ""}])
        base = f"http://127.0.0.1:{master.www.port_number}/"
        url = base + f"api/v2/buildrequests/{brids[builderid]}"
        code, body = await post_jsonrpc(url, {"jsonrpc": "2.0", "method": "set_priority",
                                              "id": 1, "params": {"priority": 7}})
        assert (code, body) == (200, {"id": 1, "jsonrpc": "2.0", "result": None})
        br = json.loads((await http.get(url)).body)["buildrequests"][0]
        assert br["priority"] == 7
        code, body = await post_jsonrpc(base + "api/v2/builders/1", {
            "jsonrpc": "2.0", "method": "stop", "id": 2, "params": {}})
        assert (code, body["error"]["code"]) == (501, -32601)
