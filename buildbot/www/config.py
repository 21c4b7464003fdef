# mypy: disable-error-code="no-untyped-call"
# (twisted.web and twisted.cred are unannotated)
"""The UI entry page `/` (with the injected frontend configuration) and `GET /config`."""

from __future__ import annotations

import json
import platform
from typing import Any

import twisted
from twisted.logger import Logger
from twisted.web import server

import buildbot
from buildbot.util.internal import differs_internally, internal_function
from buildbot.www.resource import AsyncResource, HttpError, finish

log = Logger()

# Keys of c['www'] that never reach the browser.
PRIVATE_KEYS = frozenset({"change_hook_dialects", "custom_templates_dir"})

# The UI's theme colours (c['www']['theme'] overrides them), all of the sidebar: CSS
# variable `bb-sidebar-<part>` and its default.
_SIDEBAR_COLOURS = {
    "background-color": "#30426a",
    "header-background-color": "#273759",
    "header-text-color": "#fff",
    "title-text-color": "#627cb7",
    "footer-background-color": "#273759",
    "button-text-color": "#b2bfdc",
    "button-hover-background-color": "#1b263d",
    "button-hover-text-color": "#fff",
    "button-current-background-color": "#273759",
    "button-current-text-color": "#b2bfdc",
    "stripe-hover-color": "#e99d1a",
    "stripe-current-color": "#8c5e10",
}
THEME_VARIABLES = tuple((f"bb-sidebar-{part}", colour)
                        for part, colour in _SIDEBAR_COLOURS.items())

CONFIG_PLACEHOLDER = " <!-- BUILDBOT_CONFIG_PLACEHOLDER -->"
THEME_BEGIN = "<!-- BUILDBOT_THEME_CSS_PLACEHOLDER_BEGIN -->"
THEME_END = "<!-- BUILDBOT_THEME_CSS_PLACEHOLDER_END -->"


def environment_versions() -> list[list[str]]:
    return [["Python", platform.python_version()], ["Buildbot", buildbot.version],
            ["Twisted", twisted.__version__],
            # shown by the UI's About page as "<name> version: <value>"
            [buildbot.project, buildbot.identity.removeprefix(f"{buildbot.project} ")]]


def _to_json(obj: Any) -> Any:
    """Objects in the frontend config: their `getConfigDict()`, else a placeholder text."""
    get = getattr(obj, "getConfigDict", None)
    if callable(get):
        return get()
    return f"'{type(obj).__module__}.{type(obj).__qualname__}' not yet IConfigured"


def frontend_config(www_config: dict[str, Any], master_config: Any,
                    auth: Any, avatar_methods: Any) -> dict[str, Any]:
    """The configuration object the UI reads (without the per-request `user`)."""
    out: dict[str, Any] = {}
    for key, value in www_config.items():
        if key in PRIVATE_KEYS:
            continue
        out[key] = value
    out["auth"] = auth
    out["avatar_methods"] = avatar_methods
    if out.get("authz") is None:
        out["authz"] = {}
    out["versions"] = environment_versions() + [list(v) for v in www_config.get("versions") or []]
    out["buildbotURL"] = getattr(master_config, "buildbotURL", "http://localhost:8080/")
    out["title"] = getattr(master_config, "title", "Buildbot")
    out["titleURL"] = getattr(master_config, "titleURL", "http://buildbot.net/")
    out["multiMaster"] = bool(getattr(master_config, "multiMaster", False))
    # Serialize once now: objects become their config dicts, so per-request work is a copy.
    return json.loads(json.dumps(out, default=_to_json))  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any


def config_json(config: dict[str, Any]) -> str:
    """JSON text of the config for embedding: ASCII only (non-ASCII as \\uXXXX), and no
    `</` so that nothing in it can close the script element."""
    return json.dumps(config, ensure_ascii=True).replace("</", "<\\/")


def theme_css(www_config: dict[str, Any]) -> str:
    theme = www_config.get("theme") or {}
    lines = "".join(f"\n        --{name}: {theme.get(name, default)};"
                    for name, default in THEME_VARIABLES)
    return f"<style>\n      :root {{{lines}\n      }}\n    </style>"


def render_index(template: str, config: dict[str, Any], www_config: dict[str, Any]) -> str:
    script = (' <script id="bb-config">\n    window.buildbotFrontendConfig = '
              f"{config_json(config)};\n</script>")
    page = template.replace(CONFIG_PLACEHOLDER, script)
    start = page.find(THEME_BEGIN)
    end = page.find(THEME_END, start)
    if start >= 0 and end >= 0:
        page = page[:start] + theme_css(www_config) + page[end + len(THEME_END):]
    return page


class IndexResource(AsyncResource):
    """`/`: the UI page with the configuration injected; runs the auth plugin's auto-login."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> int:
        return self.render_async(request, self._render)

    async def _render(self, request: server.Request) -> None:
        www = self.www
        if request.postpath and request.postpath != [b""]:
            raise HttpError(404, "No Such Resource")
        warning = None
        request.getSession()
        try:
            await www.maybe_auto_login(request)
        except HttpError as e:
            warning = e.message
        except Exception as e:  # a broken auth plugin must not keep the UI from loading  # noqa: BLE001
            log.failure("auto-login failed")
            warning = str(e)
        config = dict(www.frontend_config)
        config["user"] = www.user_info(request)
        if warning is not None:
            config["on_load_warning"] = warning
        body = render_index(www.index_template, config, www.www_config).encode("ascii",
                                                                             "xmlcharrefreplace")
        request.setHeader(b"content-type", b"text/html")
        request.setHeader(b"cache-control", b"public,max-age=0")
        request.setHeader(b"content-length", str(len(body)).encode())
        finish(request, body)


class ConfigResource(AsyncResource):
    """`GET /config`: the same configuration as JSON (for a UI served by a proxy)."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> int:
        return self.render_async(request, self._render)

    async def _render(self, request: server.Request) -> None:
        config = dict(self.www.frontend_config)
        config["user"] = self.www.user_info(request)
        body = json.dumps(config).encode()
        request.setHeader(b"content-type", b"application/json")
        request.setHeader(b"cache-control", b"public,max-age=0")
        request.setHeader(b"content-length", str(len(body)).encode())
        finish(request, body)


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
def get_environment_versions() -> list[tuple[str, str]]:
    """(component, version) pairs shown on the web UI's About page."""
    return [(name, version) for name, version in environment_versions()]
_INTERNAL_WHY = "the web service builds its resources itself (buildbot.www.service)"
get_www_frontend_config_dict = internal_function(
    __name__, "get_www_frontend_config_dict", _INTERNAL_WHY)
replace_placeholder_range = internal_function(__name__, "replace_placeholder_range", _INTERNAL_WHY)
serialize_www_frontend_config_dict_to_json = internal_function(
    __name__, "serialize_www_frontend_config_dict_to_json", _INTERNAL_WHY)
serialize_www_frontend_theme_to_css = internal_function(
    __name__, "serialize_www_frontend_theme_to_css", _INTERNAL_WHY)
for _cls in (ConfigResource, IndexResource,):
    differs_internally(_INTERNAL_WHY)(_cls)
