"""The stock UI: `/` with the injected config, `/config`, static files, plugins."""

from __future__ import annotations

import datetime
import json
import re

import pytest
import pytest_twisted

from buildbot.www.service import find_plugins
from tests.www.harness import WebConfig, WebMaster, http

SCRIPT_RE = re.compile(
    r' <script id="bb-config">\n    window.buildbotFrontendConfig = (.*?);\n</script>')


def _injected(page: str) -> dict[str, object]:
    m = SCRIPT_RE.search(page)
    assert m is not None, "no injected config in the page"
    return json.loads(m.group(1))  # type: ignore[no-any-return]  # JSON


@pytest_twisted.ensureDeferred
async def test_index_injects_config_and_theme(master: WebMaster) -> None:
    await master.start_www(theme={"bb-sidebar-background-color": "#123456"},
                           versions=[("Mine", "1.0")], title_extra_ignored=None,
                           cookie_expiration_time=datetime.timedelta(days=1))
    res = await http.get(master.url("/"))
    assert res.code == 200
    assert res.headers.getRawHeaders("content-type") == ["text/html"]
    assert res.headers.getRawHeaders("cache-control") == ["public,max-age=0"]
    page = res.body.decode("ascii")
    config = _injected(page)
    assert config["user"] == {"anonymous": True}
    assert config["auth"] == {"name": "NoAuth"}
    assert config["authz"] == {}
    assert config["avatar_methods"] == {"name": "gravatar"}
    assert config["buildbotURL"] == master.config.buildbotURL
    assert config["versions"][-1] == ["Mine", "1.0"]
    assert [v[0] for v in config["versions"][:3]] == ["Python", "Buildbot", "Twisted"]
    assert config["cookie_expiration_time"] == "'datetime.timedelta' not yet IConfigured"
    assert "change_hook_dialects" not in config
    assert "--bb-sidebar-background-color: #123456;" in page
    assert "--bb-sidebar-stripe-current-color: #8c5e10;" in page
    assert "BUILDBOT_THEME_CSS_PLACEHOLDER" not in page
    assert res.cookie() is not None


@pytest_twisted.ensureDeferred
async def test_config_json_and_non_ascii_title(master: WebMaster) -> None:
    await master.start_www(ui_default_config={"Builders.buildFetchLimit": 500})
    master.config.title = "Bâtisseur"
    await master.www.reconfigure(master.config)
    res = await http.get(master.url("config"))
    assert res.headers.getRawHeaders("content-type") == ["application/json"]
    config = await res.json()
    assert config["title"] == "Bâtisseur"
    assert config["ui_default_config"] == {"Builders.buildFetchLimit": 500}
    page = (await http.get(master.url("/"))).body
    assert b"B\\u00e2tisseur" in page
    page.decode("ascii")


@pytest_twisted.ensureDeferred
async def test_static_files_of_the_base_ui(master: WebMaster) -> None:
    await master.start_www()
    raw = await http.get(master.url("index.html"))
    assert b"<!-- BUILDBOT_CONFIG_PLACEHOLDER -->" in raw.body
    assert (await http.get(master.url("icon.svg"))).code == 200
    assert (await http.get(master.url("robots.txt"))).code == 200
    page = (await http.get(master.url("/"))).body.decode()
    found = re.search(r'src="\./(assets/[^"]+\.js)"', page)
    assert found is not None, "no script asset in the page"
    asset = found.group(1)
    res = await http.get(master.url(asset))
    assert res.code == 200 and len(res.body) > 1000
    assert (await http.get(master.url("nothing-here.txt"))).code == 404


@pytest.mark.parametrize("name", ["waterfall_view", "console_view", "grid_view"])
@pytest_twisted.ensureDeferred
async def test_configured_ui_plugins_are_served(master: WebMaster, name: str) -> None:
    await master.start_www(plugins={name: {}})
    res = await http.get(master.url(f"plugins/{name}/scripts.js"))
    assert res.code == 200 and len(res.body) > 100
    config = _injected((await http.get(master.url("/"))).body.decode())
    assert config["plugins"] == {name: {}}
    assert (await http.get(master.url("plugins/"))).code == 404


@pytest_twisted.ensureDeferred
async def test_unconfigured_plugins_are_not_served(master: WebMaster) -> None:
    await master.start_www()
    assert (await http.get(master.url("plugins/waterfall_view/scripts.js"))).code == 404


@pytest_twisted.ensureDeferred
async def test_missing_plugin_is_a_startup_error(master: WebMaster) -> None:
    from buildbot.www.service import WWWService

    service = WWWService(master)
    with pytest.raises(RuntimeError, match="could not find plugin nope; is it installed"):
        await service.reconfigure(WebConfig({"port": "tcp:0:interface=127.0.0.1",
                                             "plugins": {"nope": {}}}))


def test_installed_plugins_are_found() -> None:
    assert {"base", "waterfall_view", "console_view", "grid_view", "badges"} <= set(find_plugins())


@pytest.mark.slow  # the first import of the badges plugin (klein, CairoSVG) costs ~1 s of CPU
@pytest_twisted.ensureDeferred
async def test_plugin_application_attributes(master: WebMaster) -> None:
    app = find_plugins()["waterfall_view"].load()
    assert app.version == "4.3.0"
    assert app.static_dir.endswith("buildbot_waterfall_view/static")
    assert app.ui is True
    badges = find_plugins()["badges"].load()
    assert badges.ui is False


@pytest_twisted.ensureDeferred
async def test_badges_plugin_renders_svg(master: WebMaster) -> None:
    try:
        import cairocffi  # noqa: F401  (needs the system cairo library: Debian libcairo2)
    except (ImportError, OSError) as e:
        pytest.skip(f"cairo not available: {e}")
    master.builds.append({"buildid": 1, "number": 1, "builder": "lin", "complete": True,
                          "results": 2})
    await master.start_www(plugins={"badges": {"left_text": "CI"}})
    res = await http.get(master.url("plugins/badges/lin.svg"))
    assert res.code == 200, res.body[:300]
    assert res.headers.getRawHeaders("content-type") == ["image/svg+xml"]
    assert b"CI" in res.body and b"failure" in res.body
    png = await http.get(master.url("plugins/badges/lin.png"))
    assert png.body.startswith(b"\x89PNG")


@pytest_twisted.ensureDeferred
async def test_port_moves_on_reconfig_and_closes_on_stop(master: WebMaster) -> None:
    await master.start_www()
    first = master.www.port_number
    await master.reconfigure(port="tcp:0:interface=127.0.0.1")
    assert master.www.port_number == first  # same description: same listener
    await master.reconfigure(port=None)
    assert master.www.port_number is None
    await master.reconfigure(port="tcp:0:interface=127.0.0.1")
    assert master.www.port_number is not None


@pytest_twisted.ensureDeferred
async def test_access_log_written_under_basedir(master: WebMaster, tmp_path: object) -> None:
    import os

    await master.start_www(logfileName="http.log")
    await http.get(master.url("api/v2/things"))
    await master.stop()
    with open(os.path.join(master.basedir, "http.log")) as f:  # noqa: ASYNC230
        assert '"GET /api/v2/things HTTP/1.1" 200' in f.read()


@pytest_twisted.ensureDeferred
async def test_no_port_means_no_web_server_and_no_plugin_checks(master: WebMaster) -> None:
    from buildbot.www.service import WWWService

    service = WWWService(master)
    await service.reconfigure(WebConfig({"port": None, "plugins": {"not-installed": {}}}))
    assert service.site is None and service.port_number is None
