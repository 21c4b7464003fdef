"""PushoverNotifier: build notifications through the Pushover API."""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from buildbot import config
from buildbot.process.results import CANCELLED, EXCEPTION, FAILURE, SUCCESS, WARNINGS
from buildbot.reporters.base import ReporterBase
from buildbot.reporters.generators.build import BuildStatusGenerator
from buildbot.reporters.http_session import http_session
from buildbot.reporters.message import MessageFormatter
from buildbot.reporters.utils import merge_reports

log = Logger()

ENCODING = "utf8"

VALID_PARAMS = {"sound", "callback", "timestamp", "url", "url_title", "device", "retry",
                "expire", "html"}

PRIORITIES = {
    CANCELLED: "cancelled",
    EXCEPTION: "exception",
    FAILURE: "failing",
    SUCCESS: "passing",
    WARNINGS: "warnings",
}

DEFAULT_MSG_TEMPLATE = (
    'Buildbot detected a <a href="{{ build_url }}">{{ status_detected }}</a> of '
    "<i>{{ buildername }}</i> while building {{ projects }} on {{ workername }}.")


class PushoverNotifier(ReporterBase):
    """`reporters.PushoverNotifier(user_key, api_token, priorities=None, otherParams=None)`:
    POST `https://api.pushover.net/1/messages.json` (form parameters in the query)."""

    base_url = "https://api.pushover.net"

    def checkConfig(self, user_key: Any, api_token: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    priorities: Any = None, otherParams: Any = None,
                    generators: Any = None) -> None:
        super().checkConfig(generators=generators)
        if otherParams is not None and set(otherParams.keys()) - VALID_PARAMS:
            config.error("otherParams can be only 'sound', 'callback', 'timestamp', 'url', "
                         "'url_title', 'device', 'retry', 'expire', or 'html'")

    async def reconfigService(self, user_key: Any, api_token: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              priorities: Any = None, otherParams: Any = None,
                              generators: Any = None) -> None:
        user_key, api_token = await self.renderSecrets(user_key, api_token)
        await super().reconfigService(generators=generators)
        self.user_key = user_key
        self.api_token = api_token
        self.priorities = priorities or {}
        self.otherParams = otherParams or {}
        self._http = await http_session(self, self.base_url)

    def _create_default_generators(self) -> list[Any]:
        formatter = MessageFormatter(template_type="html", template=DEFAULT_MSG_TEMPLATE)
        return [BuildStatusGenerator(message_formatter=formatter)]

    def sendMessage(self, reports: list[dict[str, Any]]) -> Any:
        merged = merge_reports(reports)
        body = merged["body"]
        if isinstance(body, bytes):
            body = body.decode(ENCODING)
        msg: dict[str, Any] = {"message": body, "title": merged["subject"]}
        if merged["type"] == "html":
            msg["html"] = "1"
        priority_name = PRIORITIES.get(merged["results"]) if merged["worker"] is None \
            else "worker_missing"
        if priority_name in self.priorities:
            msg["priority"] = self.priorities[priority_name]
        return self.sendNotification(msg)

    def sendNotification(self, params: dict[str, Any]) -> Any:
        log.info("sending pushover notification")
        params.update({"user": self.user_key, "token": self.api_token})
        params.update(self.otherParams)
        return self._http.post("/1/messages.json", params=params)
