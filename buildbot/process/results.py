"""Result codes at the reference's import path (`buildbot.process.results`)."""

from __future__ import annotations

from buildbot.util.results import (
    ALL_RESULTS,
    CANCELLED,
    EXCEPTION,
    FAILURE,
    RETRY,
    SKIPPED,
    SUCCESS,
    WARNINGS,
    MultipleResults,
    ResultComputingConfigMixin,
    Results,
    computeResultAndTermination,
    statusToString,
    worst,
    worst_status,
)

__all__ = [
    "ALL_RESULTS", "MultipleResults", "CANCELLED", "EXCEPTION", "FAILURE", "RETRY", "SKIPPED", "SUCCESS", "WARNINGS",
    "ResultComputingConfigMixin", "Results", "computeResultAndTermination", "statusToString",
    "worst", "worst_status",
]
