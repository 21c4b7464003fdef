"""HttpStatusPush: POSTs each report's body as JSON to one URL (by default the build dict,
when builds start and finish)."""

from __future__ import annotations

from typing import Any, ClassVar

from twisted.logger import Logger

from buildbot.reporters.base import ReporterBase
from buildbot.reporters.generators.build import BuildStatusGenerator
from buildbot.reporters.http_session import http_session
from buildbot.reporters.message import MessageFormatterFunction

log = Logger()


class HttpStatusPush(ReporterBase):
    """`reporters.HttpStatusPush(serverUrl, auth=None, headers=None, ...)`."""

    name: str | None = "HttpStatusPush"
    secrets: ClassVar[list[str]] = ["auth"]

    def checkConfig(self, serverUrl: str, auth: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    headers: Any = None, debug: Any = None, verify: Any = None,
                    cert: Any = None, skip_encoding: bool = False, generators: Any = None,
                    **kwargs: Any) -> None:
        super().checkConfig(generators=generators, **kwargs)

    async def reconfigService(self, serverUrl: str, auth: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              headers: Any = None, debug: Any = None, verify: Any = None,
                              cert: Any = None, skip_encoding: bool = False,
                              generators: Any = None, **kwargs: Any) -> None:
        self.cert = cert
        await super().reconfigService(generators=generators, **kwargs)
        self.serverUrl = serverUrl
        # 4.3 passes renderable header values through unrendered (a broken header); here
        # `util.Secret`/`Interpolate('%(secret:x)s')` values are rendered like `auth`
        headers = await self.renderSecrets(headers)
        # The URL is used as given (4.3 refuses one ending in '/' with an AssertionError).
        self._http = await http_session(self, "", auth=auth, headers=headers, debug=debug,
                                        verify=verify, cert=cert, skip_encoding=skip_encoding)

    def _create_default_generators(self) -> list[Any]:
        formatter = MessageFormatterFunction(lambda context: context["build"], "json")
        return [BuildStatusGenerator(message_formatter=formatter, report_new=True)]

    def is_status_2xx(self, code: int) -> bool:
        return code // 100 == 2

    async def sendMessage(self, reports: list[dict[str, Any]]) -> None:
        response = await self._http.post(self.serverUrl, json=reports[0]["body"])
        if not self.is_status_2xx(response.code):
            content = await response.content()
            log.info("{code}: unable to upload status: {content}", code=response.code,
                     content=content)
