"""PushjetNotifier: build notifications through a Pushjet server."""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from buildbot.process.results import CANCELLED, EXCEPTION, FAILURE, SUCCESS, WARNINGS
from buildbot.reporters.base import ReporterBase
from buildbot.reporters.generators.build import BuildStatusGenerator
from buildbot.reporters.http_session import http_session
from buildbot.reporters.message import MessageFormatter
from buildbot.reporters.pushover import DEFAULT_MSG_TEMPLATE
from buildbot.reporters.utils import merge_reports

log = Logger()

ENCODING = "utf8"

LEVELS = {
    CANCELLED: "cancelled",
    EXCEPTION: "exception",
    FAILURE: "failing",
    SUCCESS: "passing",
    WARNINGS: "warnings",
}


class PushjetNotifier(ReporterBase):
    """`reporters.PushjetNotifier(secret, levels=None, base_url='https://api.pushjet.io')`:
    POST `<base_url>/message` (form-encoded)."""

    def checkConfig(self, secret: Any, levels: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    base_url: str = "https://api.pushjet.io", generators: Any = None) -> None:
        super().checkConfig(generators=generators)

    async def reconfigService(self, secret: Any, levels: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              base_url: str = "https://api.pushjet.io",
                              generators: Any = None) -> None:
        secret = await self.renderSecrets(secret)
        await super().reconfigService(generators=generators)
        self.secret = secret
        self.levels = levels or {}
        self._http = await http_session(self, base_url)

    def _create_default_generators(self) -> list[Any]:
        formatter = MessageFormatter(template_type="html", template=DEFAULT_MSG_TEMPLATE)
        return [BuildStatusGenerator(message_formatter=formatter)]

    def sendMessage(self, reports: list[dict[str, Any]]) -> Any:
        merged = merge_reports(reports)
        body = merged["body"]
        if isinstance(body, bytes):
            body = body.decode(ENCODING)
        msg: dict[str, Any] = {"message": body, "title": merged["subject"]}
        level_name = LEVELS.get(merged["results"]) if merged["worker"] is None \
            else "worker_missing"
        level = self.levels.get(level_name)
        if level is not None:
            msg["level"] = level
        return self.sendNotification(msg)

    def sendNotification(self, params: dict[str, Any]) -> Any:
        log.info("sending pushjet notification")
        params.update({"secret": self.secret})
        return self._http.post("/message", data=params)
