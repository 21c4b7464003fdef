"""`buildbot dev-proxy`: serve the locally installed web UI against a remote master's API.

For web UI development: the pages come from the installed `buildbot-www` packages, while
REST and WebSocket requests go to `--buildbot_url`.
"""

from __future__ import annotations

from typing import Any

from buildbot.scripts import base


class DevProxyOptions(base.BasedirOptions):
    """Options of `buildbot dev-proxy`."""

    synopsis = "Usage:    buildbot dev-proxy [options]"
    optFlags = [
        ["unsafe_ssl", None, "Do not verify the remote master's TLS certificate"],
    ]
    optParameters = [
        ["port", "p", 8011, "Local HTTP port to serve on", int],
        ["plugins", None, None,
         "UI plugins configuration as JSON, e.g. '{\"waterfall_view\": {}}'"],
        ["auth_cookie", None, None,
         "Session cookie (TWISTED_SESSION) to authenticate to the remote master with"],
        ["buildbot_url", "b", "https://buildbot.buildbot.net",
         "URL of the remote master (http or https)"],
    ]


def devproxy(config: dict[str, Any]) -> int:
    """Entry point of `buildbot dev-proxy`."""
    print("dev-proxy is not available in this version of buildbot")
    return 1
