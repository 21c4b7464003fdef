"""Output observers shared by the package steps."""

from __future__ import annotations

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


__all__ = ["WEObserver"]
