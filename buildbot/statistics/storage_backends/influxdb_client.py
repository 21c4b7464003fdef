"""`InfluxStorageService`: statistics to InfluxDB 1.x through the `influxdb` client
(an optional dependency, as in 4.3: `pip install influxdb`)."""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from buildbot import config
from buildbot.statistics.storage_backends.base import StatsStorageBase

try:
    from influxdb import InfluxDBClient
except ImportError:
    InfluxDBClient = None

log = Logger()


class InfluxStorageService(StatsStorageBase):
    """Writes each captured value as one point: measurement = series name, fields = the
    value(s), tags = the build's context."""

    def __init__(self, url: str, port: int, user: str, password: str, db: str,
                 captures: list[Any], name: str = "InfluxStorageService") -> None:
        self._inited = False
        if InfluxDBClient is None:
            config.error("Python client for InfluxDB not installed.")
            return
        self.url, self.port, self.user, self.password, self.db = url, port, user, password, db
        self.name = name
        self.captures = captures
        self.client = InfluxDBClient(url, port, user, password, db)
        self._inited = True

    def thd_postStatsValue(self, post_data: dict[str, Any], series_name: str,
                           context: dict[str, Any] | None = None) -> None:
        if not self._inited:
            log.error("Service {name} not initialized", name=getattr(self, "name", "?"))
            return
        point: dict[str, Any] = {"measurement": series_name, "fields": post_data}
        if context:
            point["tags"] = context
        log.info("Sending data to InfluxDB: {point!r}", point=point)
        self.client.write_points([point])
