"""End to end in headless Chromium: the stock UI shows real builders, builds and steps, and
its force dialog starts a build."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import SUCCESS
from tests.fixtures.master import running_master, wait_for_message
from tests.www.browser import chromium, chromium_path

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed")]


def _config() -> dict[str, Any]:
    return {
        "title": "UI",
        "workers": [worker.LocalWorker("local")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["runtests"])],
        "builders": [util.BuilderConfig(name="runtests", workernames=["local"],
                                        factory=util.BuildFactory([
                                            steps.ShellCommand(command=["echo", "compiling"],
                                                               name="compile-it"),
                                            steps.ShellCommand(command=["echo", "testing"],
                                                               name="test-it")]))],
        "www": {"port": "tcp:0:interface=127.0.0.1",
                "plugins": {"waterfall_view": {}, "console_view": {}, "grid_view": {}}},
    }


def text_has(*words: str) -> str:
    checks = " && ".join(f"document.body.innerText.includes({json.dumps(w)})" for w in words)
    return f"({checks}) && document.body.innerText"


@pytest_twisted.ensureDeferred
async def test_builders_and_build_pages_show_real_names(tmp_path: Path) -> None:
    async with running_master(tmp_path / "m", _config) as master:
        done = wait_for_message(master, ("buildsets", None, "complete"))
        await master.data.control("force", {"builderNames": ["runtests"], "owner": "me"},
                                  ("forceschedulers", "force"))
        await done
        builder = (await master.data.get(("builders",)))[0]
        base = f"http://127.0.0.1:{master.www.port_number}/"
        async with chromium() as browser:
            page = await browser.new_page()
            await page.navigate(base + "#/builders")
            await page.wait_for(text_has("runtests"), "the builders page")
            await page.navigate(base + f"#/builders/{builder['builderid']}/builds/1")
            text = await page.wait_for(text_has("compile-it", "test-it"),
                                       "the build page with its steps")
            assert "worker_preparation" in text
            await page.navigate(base + "#/workers")
            await page.wait_for(text_has("local"), "the workers page")


@pytest_twisted.ensureDeferred
async def test_force_dialog_starts_a_build(tmp_path: Path) -> None:
    async with running_master(tmp_path / "m", _config) as master:
        builder = (await master.data.get(("builders",)))[0]
        base = f"http://127.0.0.1:{master.www.port_number}/"
        async with chromium() as browser:
            page = await browser.new_page()
            await page.navigate(base + f"#/builders/{builder['builderid']}")
            clicked = await page.wait_for(
                "(() => { const b = [...document.querySelectorAll('button')]"
                ".find(b => b.innerText.trim() === 'force'); if (b) { b.click(); return true; }"
                " return false; })()", "the force button")
            assert clicked
            await page.wait_for(text_has("Start build"), "the force dialog")
            done = wait_for_message(master, ("buildsets", None, "complete"))
            await page.evaluate(
                "[...document.querySelectorAll('button')]"
                ".find(b => b.innerText.trim() === 'Start build').click()")
            _, buildset = await done
            assert buildset["results"] == SUCCESS
            builds = await master.data.get(("builds",))
            props = await master.data.get(("builds", builds[0]["buildid"], "properties"))
            props = props[0] if isinstance(props, list) else props
            assert props["reason"][0] == "force build"
