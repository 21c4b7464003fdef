"""End to end: the stock UI (buildbot-www 4.3 and view plugins) in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_twisted

from tests.fixtures.master import running_master
from tests.www.browser import chromium, chromium_path

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed")]


def _config() -> dict[str, object]:
    return {"multiMaster": True, "title": "E2E",
            "www": {"port": "tcp:0:interface=127.0.0.1",
                    "plugins": {"waterfall_view": {}, "console_view": {}, "grid_view": {}}}}


@pytest_twisted.ensureDeferred
async def test_ui_loads_with_plugins_and_live_connection(tmp_path: Path) -> None:
    async with running_master(tmp_path / "m", _config) as master:
        base = f"http://127.0.0.1:{master.www.port_number}/"
        async with chromium() as browser:
            page = await browser.new_page()
            await page.navigate(base)
            config = await page.wait_for("window.buildbotFrontendConfig", "the injected config")
            assert config["title"] == "E2E"
            assert set(config["plugins"]) == {"waterfall_view", "console_view", "grid_view"}
            # the React app rendered its navigation, including the plugins' menu entries
            text = await page.wait_for(
                "document.body.innerText.includes('Waterfall View') && document.body.innerText",
                "the UI with the waterfall plugin's menu entry")
            assert "Builds" in text
            await page.navigate(base + "#/waterfall")
            await page.wait_for("location.hash === '#/waterfall'", "the waterfall route")
            assert master.www.ws.connections, "the UI opened no WebSocket"
