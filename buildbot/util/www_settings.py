"""The defaults of `c['www']`, shared by the configuration loader and the web server."""

from __future__ import annotations

from typing import Any


def default_www_settings() -> dict[str, Any]:
    """`c['www']` before the configuration's keys are merged in (a new dict each call).

    `auth`, `authz` and `avatar_methods` stay None here: the web server replaces them by
    NoAuth, an allow-all Authz and Gravatar (the configuration layer cannot build www
    objects). No port: no web server."""
    return {
        "port": None,
        "plugins": {},
        "auth": None,
        "authz": None,
        "avatar_methods": None,
        "logfileName": "http.log",
    }
