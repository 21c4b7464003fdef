"""ZulipStatusPush: build start/end events to Zulip's Buildbot integration."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import quote

from twisted.logger import Logger

from buildbot import config
from buildbot.reporters.base import ReporterBase
from buildbot.reporters.generators.build import BuildStartEndStatusGenerator
from buildbot.reporters.http_session import http_session

log = Logger()


def _timestamp(value: Any) -> int:
    if isinstance(value, datetime.datetime):
        return int(value.timestamp())
    return int(value)


class ZulipStatusPush(ReporterBase):
    """`reporters.ZulipStatusPush(endpoint, token, stream=None)`: POST
    `/api/v1/external/buildbot?api_key=<token>[&stream=<stream>]` at start and end."""

    name: str | None = "ZulipStatusPush"

    def checkConfig(self, endpoint: Any, token: Any, stream: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    debug: Any = None, verify: Any = None) -> None:
        if not isinstance(endpoint, str):
            config.error("Endpoint must be a string")
        if not isinstance(token, str):
            config.error("Token must be a string")
        super().checkConfig(generators=[BuildStartEndStatusGenerator()])

    async def reconfigService(self, endpoint: str, token: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              stream: Any = None, debug: Any = None,
                              verify: Any = None) -> None:
        await super().reconfigService(generators=[BuildStartEndStatusGenerator()])
        self._http = await http_session(self, endpoint, debug=debug, verify=verify)
        self.token = token
        self.stream = stream

    async def sendMessage(self, reports: list[dict[str, Any]]) -> None:
        build = reports[0]["builds"][0]
        finished = bool(build["complete"])
        # Zulip's Buildbot integration: "new" carries the start time, "finished" the end
        # time and the results
        jsondata: dict[str, Any] = {
            "event": "finished" if finished else "new",
            "buildid": build["buildid"],
            "buildername": build["builder"]["name"],
            "url": build["url"],
            "project": build["properties"]["project"][0],
            "timestamp": _timestamp(build["complete_at" if finished else "started_at"]),
        }
        if finished:
            jsondata["results"] = build["results"]
        url = f"/api/v1/external/buildbot?api_key={quote(str(self.token), safe='')}"
        if self.stream is not None:
            url += f"&stream={quote(str(self.stream), safe='')}"
        response = await self._http.post(url, json=jsondata)
        if response.code != 200:
            content = await response.content()
            log.error("{code}: Error pushing build status to Zulip: {content}",
                      code=response.code, content=content)
