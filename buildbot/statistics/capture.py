"""Captures: which values a StatsService records, and from which events.

Property, time and duration captures read each finished build (mq
`builders.*.builds.*.finished`); data captures read what code posts with
`StatsService.yieldMetricsValue` (mq `stats-yieldMetricsValue.stats-yield-data`). Each value
goes to every backend that lists the capture, as `thd_postStatsValue(post_data, series_name,
{"builder_name": ..., "build_number": "<n>"})`.
"""

from __future__ import annotations

import abc
import datetime
import re
from collections.abc import Callable
from typing import Any

from twisted.internet import defer, threads

from buildbot import config
from buildbot.errors import CaptureCallbackError
from buildbot.util.deferred import as_deferred

BUILD_FINISHED = ("builders", None, "builds", None, "finished")
YIELDED_DATA = ("stats-yieldMetricsValue", "stats-yield-data")
DURATION_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600}


class Capture(abc.ABC):
    """Base of captures: `routingKey` to consume, `consume(routingKey, msg)` to handle one
    message; the StatsService fills `parent_svcs` (backends) and `master`."""

    def __init__(self, routingKey: tuple[str | None, ...], callback: Callable[..., Any]) -> None:
        self.routingKey = routingKey
        self._callback = callback
        self.parent_svcs: list[Any] = []
        self.master: Any = None

    def consume(self, routingKey: Any, msg: dict[str, Any]) -> defer.Deferred[None]:
        """Handle one message (a Deferred, as 4.3's consumers return)."""
        return as_deferred(self._consume)(msg)

    @abc.abstractmethod
    async def _consume(self, msg: dict[str, Any]) -> None:
        """Compute the values of `msg` and store them."""

    def _builder_name_matches(self, builder_info: dict[str, Any]) -> bool:
        name = getattr(self, "_builder_name", None)
        return name is None or name == builder_info["name"]

    def _defaultContext(self, msg: dict[str, Any], builder_name: str) -> dict[str, str]:
        return {"builder_name": builder_name, "build_number": str(msg["number"])}

    async def _builder(self, builderid: int) -> dict[str, Any] | None:
        info = await self.master.data.get(("builders", builderid))
        return info if info is not None and self._builder_name_matches(info) else None

    async def _store(self, post_data: Any, series_name: str, context: dict[str, Any]) -> None:
        # backends block (network clients): each write runs in a thread
        for svc in self.parent_svcs:
            await threads.deferToThread(svc.thd_postStatsValue, post_data, series_name, context)


# -- build properties ---------------------------------------------------------------------

def _property_value(props: dict[str, Any], name: str) -> Any:
    return props[name][0]  # (value, source)


class CapturePropertyBase(Capture):
    """The value of a build property (or of each property whose name matches the regex
    `property_name` when `regex=True`), series `<builder>-<property>`, field `name`/`value`."""

    def __init__(self, property_name: str, callback: Callable[..., Any] | None = None,
                 regex: bool = False) -> None:
        self._property_name = property_name
        self._regex = regex
        super().__init__(BUILD_FINISHED, callback or _property_value)

    async def _consume(self, msg: dict[str, Any]) -> None:
        builder = await self._builder(msg["builderid"])
        if builder is None:
            return
        props = await self.master.data.get(("builds", msg["buildid"], "properties"))
        names = [n for n in props if re.match(self._property_name, n)] if self._regex \
            else [self._property_name]
        for name in names:
            try:
                value = self._callback(props, name)
            except KeyError as e:
                raise CaptureCallbackError(
                    f"CaptureProperty failed. The property {name} not found for build number "
                    f"{msg['number']} on builder {builder['name']}.") from e
            await self._store({"name": name, "value": value}, f"{builder['name']}-{name}",
                              self._defaultContext(msg, builder["name"]))


class CaptureProperty(CapturePropertyBase):
    """A build property of the builder `builder_name`."""

    def __init__(self, builder_name: str, property_name: str,
                 callback: Callable[..., Any] | None = None, regex: bool = False) -> None:
        self._builder_name = builder_name
        super().__init__(property_name, callback, regex)


class CapturePropertyAllBuilders(CapturePropertyBase):
    """A build property, on every builder."""


# -- build times --------------------------------------------------------------------------

def _isoformat(when: datetime.datetime) -> str:
    return when.isoformat()


class CaptureBuildTimes(Capture):
    """A value computed from a finished build's times, series `<builder>-build-times`, field
    `time_type` (start-time, end-time, duration)."""

    def __init__(self, builder_name: str | None, callback: Callable[..., Any],
                 time_type: str) -> None:
        self._builder_name = builder_name
        self._time_type = time_type
        super().__init__(BUILD_FINISHED, callback)

    @abc.abstractmethod
    def _retValParams(self, msg: dict[str, Any]) -> list[Any]:
        """The callback's arguments, from the build message."""

    def _err_msg(self, build_data: dict[str, Any], builder_name: str) -> str:
        return (f"{type(self).__name__} failed on build {build_data['number']} "
                f"on builder {builder_name}.")

    async def _consume(self, msg: dict[str, Any]) -> None:
        builder = await self._builder(msg["builderid"])
        if builder is None:
            return
        try:
            value = self._callback(*self._retValParams(msg))
        except Exception as e:  # reported with the build it failed on
            raise CaptureCallbackError(
                f"{self._err_msg(msg, builder['name'])} Exception raised: {type(e).__name__} "
                f"with message: {e}") from e
        await self._store({self._time_type: value}, f"{builder['name']}-build-times",
                          self._defaultContext(msg, builder["name"]))


class CaptureBuildStartTime(CaptureBuildTimes):
    """When the build started (ISO 8601 by default)."""

    def __init__(self, builder_name: str | None, callback: Callable[..., Any] | None = None
                 ) -> None:
        super().__init__(builder_name, callback or _isoformat, "start-time")

    def _retValParams(self, msg: dict[str, Any]) -> list[Any]:
        return [msg["started_at"]]


class CaptureBuildStartTimeAllBuilders(CaptureBuildStartTime):
    """When each build started, on every builder."""

    def __init__(self, callback: Callable[..., Any] | None = None) -> None:
        super().__init__(None, callback)


class CaptureBuildEndTime(CaptureBuildTimes):
    """When the build finished (ISO 8601 by default)."""

    def __init__(self, builder_name: str | None, callback: Callable[..., Any] | None = None
                 ) -> None:
        super().__init__(builder_name, callback or _isoformat, "end-time")

    def _retValParams(self, msg: dict[str, Any]) -> list[Any]:
        return [msg["complete_at"]]


class CaptureBuildEndTimeAllBuilders(CaptureBuildEndTime):
    """When each build finished, on every builder."""

    def __init__(self, callback: Callable[..., Any] | None = None) -> None:
        super().__init__(None, callback)


class CaptureBuildDuration(CaptureBuildTimes):
    """How long the build took, in `report_in` units (seconds, minutes or hours)."""

    def __init__(self, builder_name: str | None, report_in: str = "seconds",
                 callback: Callable[..., Any] | None = None) -> None:
        if report_in not in DURATION_UNITS:
            config.error(f"Error during initialization of class {type(self).__name__}. "
                         "`report_in` parameter must be one of 'seconds', 'minutes' or 'hours'")
        unit = DURATION_UNITS.get(report_in, 1)

        def duration(start: datetime.datetime, end: datetime.datetime) -> float:
            return max(end - start, datetime.timedelta(0)).total_seconds() / unit

        super().__init__(builder_name, callback or duration, "duration")

    def _retValParams(self, msg: dict[str, Any]) -> list[Any]:
        return [msg["started_at"], msg["complete_at"]]


class CaptureBuildDurationAllBuilders(CaptureBuildDuration):
    """How long each build took, on every builder."""

    def __init__(self, report_in: str = "seconds", callback: Callable[..., Any] | None = None
                 ) -> None:
        super().__init__(None, report_in, callback)


# -- data yielded by code -----------------------------------------------------------------

class CaptureDataBase(Capture):
    """What code posted with `StatsService.yieldMetricsValue(data_name, post_data, buildid)`
    (through `callback` if given), series `<builder>-<data_name>`."""

    def __init__(self, data_name: str, callback: Callable[..., Any] | None = None) -> None:
        self._data_name = data_name
        super().__init__(YIELDED_DATA, callback or (lambda post_data: post_data))

    async def _consume(self, msg: dict[str, Any]) -> None:
        build = msg["build_data"]
        if msg["data_name"] != self._data_name:
            return
        builder = await self._builder(build["builderid"])
        if builder is None:
            return
        try:
            value = self._callback(msg["post_data"])
        except Exception as e:
            raise CaptureCallbackError(
                f"CaptureData failed for build {build['number']} of builder {builder['name']}. "
                f"Exception generated: {type(e).__name__} with message {e}") from e
        await self._store(value, f"{builder['name']}-{self._data_name}",
                          self._defaultContext(build, builder["name"]))


class CaptureData(CaptureDataBase):
    """Data posted by builds of the builder `builder_name`."""

    def __init__(self, data_name: str, builder_name: str,
                 callback: Callable[..., Any] | None = None) -> None:
        self._builder_name = builder_name
        super().__init__(data_name, callback)


class CaptureDataAllBuilders(CaptureDataBase):
    """Data posted by builds of every builder."""
