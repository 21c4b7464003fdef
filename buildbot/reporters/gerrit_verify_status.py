"""GerritVerifyStatusPush: results through Gerrit's verify-status plugin REST API."""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

from twisted.logger import Logger

from buildbot.process.properties import Interpolate
from buildbot.process.results import (
    CANCELLED,
    EXCEPTION,
    FAILURE,
    RETRY,
    SKIPPED,
    SUCCESS,
    WARNINGS,
)
from buildbot.reporters.base import ReporterBase
from buildbot.reporters.generators.build import BuildStartEndStatusGenerator
from buildbot.reporters.http_session import http_session
from buildbot.reporters.message import MessageFormatterRenderable
from buildbot.reporters.utils import BuildReport

log = Logger()


def _as_timedelta(start: Any, end: Any) -> datetime.timedelta:
    if isinstance(start, datetime.datetime) and isinstance(end, datetime.datetime):
        return end - start
    return datetime.timedelta(seconds=float(end) - float(start))


class GerritVerifyStatusPush(ReporterBase):
    """`reporters.GerritVerifyStatusPush(baseURL, auth, verification_name=None, ...)`: POST
    `/a/changes/<change>/revisions/<rev>/verify-status~verifications` for each Gerrit change
    of the build (`gerrit_changes` property, or the Gerrit event properties)."""

    name: str | None = "GerritVerifyStatusPush"
    RESULTS_TABLE: ClassVar[dict[int, int]] = {
        SUCCESS: 1, WARNINGS: 1, FAILURE: -1, SKIPPED: 0, EXCEPTION: 0, RETRY: 0,
        CANCELLED: 0,
    }
    DEFAULT_RESULT = -1

    def checkConfig(self, baseURL: str, auth: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    verification_name: Any = None, abstain: Any = False, category: Any = None,
                    reporter: Any = None, verbose: bool = False, debug: Any = None,
                    verify: Any = None, generators: Any = None, **kwargs: Any) -> None:
        super().checkConfig(generators=generators, **kwargs)

    async def reconfigService(self, baseURL: str, auth: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              verification_name: Any = None, abstain: Any = False,
                              category: Any = None, reporter: Any = None,
                              verbose: bool = False, debug: Any = None, verify: Any = None,
                              generators: Any = None, **kwargs: Any) -> None:
        auth = await self.renderSecrets(auth)
        self.verbose = verbose
        await super().reconfigService(generators=generators, **kwargs)
        self._http = await http_session(self, baseURL, auth=auth, debug=debug, verify=verify)
        self._verification_name = verification_name or Interpolate("%(prop:buildername)s")
        self._reporter = reporter or "buildbot"
        self._abstain = abstain
        self._category = category
        self._verbose = verbose

    def _create_default_generators(self) -> list[Any]:
        return [BuildStartEndStatusGenerator(
            start_formatter=MessageFormatterRenderable("Build started."),
            end_formatter=MessageFormatterRenderable("Build done."))]

    def createStatus(self, change_id: Any, revision_id: Any, name: str, value: int,
                     abstain: Any = None, rerun: Any = None, comment: Any = None,
                     url: Any = None, reporter: Any = None, category: Any = None,
                     duration: Any = None) -> Any:
        """POST one verification (value -1 fail, 0 unstable, 1 pass)."""
        payload: dict[str, Any] = {"name": name, "value": value}
        for key, val in (("abstain", abstain), ("rerun", rerun), ("comment", comment),
                         ("url", url), ("reporter", reporter), ("category", category),
                         ("duration", duration)):
            if val is not None:
                payload[key] = val
        if self._verbose:
            log.debug("Sending Gerrit status for {change_id}/{revision_id}: data={data}",
                      change_id=change_id, revision_id=revision_id, data=payload)
        return self._http.post(f"/a/changes/{change_id}/revisions/{revision_id}/"
                               "verify-status~verifications", json=payload)

    def formatDuration(self, duration: datetime.timedelta) -> str:
        """"1 day 2h 3m 4s", "2h 3m 4s" or "3m 4s"."""
        minutes, seconds = divmod(duration.seconds, 60)
        hours, minutes = divmod(minutes, 60)
        clock = f"{minutes}m {seconds}s"
        if hours or duration.days:
            clock = f"{hours}h {clock}"
        if duration.days:
            plural = "s" if duration.days > 1 else ""
            clock = f"{duration.days} day{plural} {clock}"
        return clock

    @staticmethod
    def getGerritChanges(props: Any) -> Any:
        """`[{"change_id", "revision_id"}]` of the build (overridable)."""
        if "gerrit_changes" in props:
            return props.getProperty("gerrit_changes")
        if "event.change.number" in props:
            return [{"change_id": props.getProperty("event.change.number"),
                     "revision_id": props.getProperty("event.patchSet.number")}]
        return []

    async def sendMessage(self, reports: list[dict[str, Any]]) -> None:
        report = BuildReport.first_of(self.master, reports)
        build, props, comment = report.build, report.props, report.body
        value, duration = 0, "pending"  # a build still running
        if build["complete"]:
            value = self.RESULTS_TABLE.get(build["results"], self.DEFAULT_RESULT)
            duration = self.formatDuration(_as_timedelta(build["started_at"],
                                                         build["complete_at"]))
        name, reporter, category, abstain = [
            await report.render(setting) for setting in
            (self._verification_name, self._reporter, self._category, self._abstain)]
        changes = await report.render(self.getGerritChanges(props))
        for change in changes:
            try:
                await self.createStatus(change["change_id"], change["revision_id"], name, value,
                                        abstain=abstain, rerun=None, comment=comment,
                                        url=build["url"], reporter=reporter,
                                        category=category, duration=duration)
            except Exception:  # noqa: BLE001  (one failed status must not stop the others)
                log.failure("Failed to send status!")
