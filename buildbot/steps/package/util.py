"""Output observers shared by the package steps."""

from __future__ import annotations

import re
from typing import Any

from buildbot import config
from buildbot.process import logobserver


class WEObserver(logobserver.LogLineObserver):
    """Collects the `W: ` (warning) and `E: ` (error) lines of lintian/rpmlint output."""

    def __init__(self) -> None:
        super().__init__()
        self.warnings: list[str] = []
        self.errors: list[str] = []

    def outLineReceived(self, line: str) -> None:
        found = {"W: ": self.warnings, "E: ": self.errors}.get(line[:3])
        if found is not None:
            found.append(line)


class PropertyFromLine(logobserver.LogLineObserver):
    """Sets the build property `prop` to group 1 of the last stdout line matching
    `pattern`."""

    def __init__(self, pattern: str, prop: str, source: str) -> None:
        super().__init__()
        self._pattern = re.compile(pattern)
        self._prop, self._source = prop, source

    def outLineReceived(self, line: str) -> None:
        found = self._pattern.search(line)
        if found is not None:
            self.step.setProperty(self._prop, found.group(1), self._source)


def take_arguments(step: Any, required: dict[str, str], **given: Any) -> None:
    """Set each of `given` that is truthy on `step` (others keep the class default), then
    report a config error for each attribute of `required` still empty."""
    for attr, value in given.items():
        if value:
            setattr(step, attr, value)
    for attr, message in required.items():
        if not getattr(step, attr):
            config.error(message)


__all__ = ["PropertyFromLine", "WEObserver", "take_arguments"]
