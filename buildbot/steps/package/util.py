"""Output observers shared by the package steps."""

from __future__ import annotations

import re
from collections.abc import Generator
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


def property_from_lines(step: Any, pattern: str, prop: str,
                        source: str) -> Generator[None, tuple[str, str], None]:
    """A line consumer (for LineConsumerLogObserver) setting the build property `prop` to
    group 1 of each line matching `pattern`, on any stream: the last match wins."""
    matcher = re.compile(pattern)
    while True:
        _stream, line = yield
        found = matcher.search(line)
        if found is not None:
            step.setProperty(prop, found.group(1), source)


def take_arguments(step: Any, required: dict[str, str], **given: Any) -> None:
    """Set each of `given` that is truthy on `step` (others keep the class default), then
    report a config error for each attribute of `required` still empty."""
    for attr, value in given.items():
        if value:
            setattr(step, attr, value)
    for attr, message in required.items():
        if not getattr(step, attr):
            config.error(message)


__all__ = ["WEObserver", "property_from_lines", "take_arguments"]
