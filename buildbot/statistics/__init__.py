"""Build statistics (`buildbot.plugins.statistics`): a StatsService sends values captured
from finished builds (properties, times, durations) or yielded by steps to storage backends
such as InfluxDB."""

from __future__ import annotations

from buildbot.statistics.capture import (
    CaptureBuildDuration,
    CaptureBuildDurationAllBuilders,
    CaptureBuildEndTime,
    CaptureBuildEndTimeAllBuilders,
    CaptureBuildStartTime,
    CaptureBuildStartTimeAllBuilders,
    CaptureData,
    CaptureDataAllBuilders,
    CaptureProperty,
    CapturePropertyAllBuilders,
)
from buildbot.statistics.stats_service import StatsService
from buildbot.statistics.storage_backends.influxdb_client import InfluxStorageService

__all__ = [
    "CaptureBuildDuration", "CaptureBuildDurationAllBuilders", "CaptureBuildEndTime",
    "CaptureBuildEndTimeAllBuilders", "CaptureBuildStartTime", "CaptureBuildStartTimeAllBuilders",
    "CaptureData", "CaptureDataAllBuilders", "CaptureProperty", "CapturePropertyAllBuilders",
    "InfluxStorageService", "StatsService",
]
