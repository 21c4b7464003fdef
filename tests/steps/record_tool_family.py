"""Record Buildbot 4.3.0's outcome of the tool-steps family build as JSON:

    /work/refvenv/bin/python tests/steps/record_tool_family.py > tests/steps/tool_family_4.3.json

It runs a real 4.3 master in this process (LocalWorker, SQLite) on `tool_family_config`,
forces one build and prints every step's name, results, state string, log names, URL
names, the text of the logs the steps write themselves, their test result sets, the build's state string and the compared properties. Not collected by pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from twisted.internet import defer, reactor, task

sys.path.insert(0, str(Path(__file__).parent))

import tool_family_config as fam


async def collect(master: Any, buildid: int) -> dict[str, Any]:
    build = await master.data.get(("builds", buildid))
    out_steps = []
    for s in await master.data.get(("builds", buildid, "steps")):
        logs = await master.data.get(("steps", s["stepid"], "logs"))
        texts = {}
        for lg in logs:
            if lg["name"] not in fam.UNCOMPARED_LOGS:
                content = await master.data.get(("logs", lg["logid"], "contents"))
                texts[lg["name"]] = content["content"]
        result_sets = []
        for rs in await master.data.get(("steps", s["stepid"], "test_result_sets")):
            results = await master.data.get(("test_result_sets", rs["test_result_setid"],
                                             "results"))
            result_sets.append({
                **{k: rs[k] for k in ("description", "category", "value_unit", "complete",
                                      "tests_passed", "tests_failed")},
                "results": sorted([r["value"], r["test_name"], r["test_code_path"], r["line"]]
                                  for r in results)})
        out_steps.append({"name": s["name"], "results": s["results"],
                          "state_string": s["state_string"],
                          "logs": [lg["name"] for lg in logs],
                          "urls": [u["name"] for u in s["urls"]], "texts": texts,
                          "test_result_sets": result_sets})
    build_data = {}
    for entry in await master.data.get(("builds", buildid, "data")):
        value = await master.data.get(("builds", buildid, "data", entry["name"], "value"))
        build_data[entry["name"]] = [entry["source"], json.loads(value["raw"])]
    props = await master.data.get(("builds", buildid, "properties"))
    return {"results": build["results"], "state_string": build["state_string"],
            "steps": out_steps, "build_data": build_data,
            "properties": {k: props[k][0] for k in fam.COMPARED_PROPERTIES if k in props}}


TRIGGERED_PROPERTIES = ("PY", "DB", "GLOBAL", "matrix_label", "virtual_builder_name",
                        "virtual_builder_tags")


async def triggered_builds(master: Any, parent_builder: str) -> list[Any]:
    """(builder name and tags, results, some properties) of the builds not of
    `parent_builder`, sorted."""
    builders = {b["builderid"]: b for b in await master.data.get(("builders",))}
    out = []
    for b in await master.data.get(("builds",)):
        builder = builders[b["builderid"]]
        if builder["name"] == parent_builder:
            continue
        props = await master.data.get(("builds", b["buildid"], "properties"))
        out.append([builder["name"], sorted(builder["tags"]), b["results"],
                    {k: props[k][0] for k in TRIGGERED_PROPERTIES if k in props}])
    return sorted(out, key=lambda e: e[0])


async def first_build_of(master: Any, builder: str) -> int:
    builders = {b["name"]: b["builderid"] for b in await master.data.get(("builders",))}
    builds = [b for b in await master.data.get(("builds",))
              if b["builderid"] == builders[builder]]
    return int(builds[0]["buildid"])


async def record() -> dict[str, Any]:
    from twisted.internet import endpoints

    from buildbot.master import BuildMaster

    basedir = Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, "-m", "buildbot.scripts.runner", "create-master", "-q",
                    str(basedir)], check=True)
    site_port = await endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        fam.http_site())
    closed = fam.closed_port()
    (basedir / "master.cfg").write_text(
        f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        f"import tool_family_config as fam\n"
        f"BuildmasterConfig = fam.family_config({site_port.getHost().port}, {closed})\n"
        f"BuildmasterConfig['db'] = {{'db_url': 'sqlite:///state.sqlite'}}\n")
    fam.prepare_worker_dir(basedir / "workers" / "local" / "b0")
    master = BuildMaster(str(basedir))
    await master.startService()
    try:
        for _ in range(100):  # the LocalWorker attaches asynchronously
            workers = await master.data.get(("workers",))
            if workers and workers[0]["connected_to"]:
                break
            await task.deferLater(reactor, 0.1, lambda: None)
        b0 = {b["name"]: b["builderid"] for b in await master.data.get(("builders",))}["b0"]
        done: defer.Deferred[Any] = defer.Deferred()

        def finished(key: Any, build: Any) -> None:
            if build["builderid"] == b0 and not done.called:  # not a triggered build
                done.callback(build)

        consumer = await master.mq.startConsuming(finished, ("builds", None, "finished"))
        await master.data.control("force", {"builderNames": ["b0"], "owner": "me"},
                                  ("forceschedulers", "force"))
        await done
        consumer.stopConsuming()
        outcome = await collect(master, await first_build_of(master, "b0"))
        outcome["triggered"] = await triggered_builds(master, "b0")
        return outcome
    finally:
        await master.stopService()
        await site_port.stopListening()


def main() -> None:
    async def run(_: Any) -> None:
        print(json.dumps(await record(), indent=1, sort_keys=True))

    task.react(lambda r: defer.ensureDeferred(run(r)))  # exits the process


if __name__ == "__main__":
    main()
