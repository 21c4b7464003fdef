"""Result codes at the reference's import path (`buildbot.process.results`)."""

from __future__ import annotations

from buildbot.util.results import (
    CANCELLED,
    EXCEPTION,
    FAILURE,
    RETRY,
    SKIPPED,
    SUCCESS,
    WARNINGS,
    ResultComputingConfigMixin,
    Results,
    computeResultAndTermination,
    statusToString,
    worst,
    worst_status,
)

__all__ = [
    "CANCELLED", "EXCEPTION", "FAILURE", "RETRY", "SKIPPED", "SUCCESS", "WARNINGS",
    "ResultComputingConfigMixin", "Results", "computeResultAndTermination", "statusToString",
    "worst", "worst_status",
]
