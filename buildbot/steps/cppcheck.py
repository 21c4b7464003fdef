"""Cppcheck: the cppcheck static analyser, its messages counted per severity."""

from __future__ import annotations

import re
from typing import Any

from buildbot.process.results import SUCCESS
from buildbot.steps.issues import IssueCountingStep

_SEVERITIES = ("error", "warning", "style", "performance", "portability", "information")
# `[file:line]: (severity) text`, or without the location
_MESSAGE_RE = re.compile(rf"(?:\[.+\]: )?\((?P<severity>{'|'.join(_SEVERITIES)})\) .+")

# argument -> default (lists are copied per step)
_CPPCHECK_ARGS: dict[str, Any] = {"binary": "cppcheck", "source": ["."], "enable": [],
                                  "inconclusive": False, "extra_args": []}


class Cppcheck(IssueCountingStep):
    """`cppcheck SOURCE... [--enable=a,b] [--inconclusive] EXTRA...`: messages counted into
    `cppcheck-<severity>` properties; errors fail the step, other messages warn."""

    name = "cppcheck"
    description: Any = ["running", "cppcheck"]
    descriptionDone: Any = ["cppcheck"]
    renderables = ("binary", "source", "extra_args")
    flunkingIssues = ("error",)
    MESSAGES = _SEVERITIES
    issue_categories = tuple((s, s) for s in _SEVERITIES)
    failing_categories = ("error",)
    property_prefix = "cppcheck"
    property_source = "Cppcheck"
    summary_notes_timeout = True
    binary: Any
    source: Any
    enable: Any
    inconclusive: Any
    extra_args: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for arg, default in _CPPCHECK_ARGS.items():
            value = kwargs.pop(arg, default)
            setattr(self, arg, list(value) if value is default and isinstance(value, list)
                    else value)
        super().__init__(*args, **kwargs)

    def setup_shell_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return self.setupShellMixin(kwargs, prohibitArgs=["command"])

    def classify(self, stream: str, line: str) -> str | None:
        m = _MESSAGE_RE.match(line)
        return m.group("severity") if m else None

    async def make_command(self) -> Any:
        command = [self.binary, *self.source]
        if self.enable:
            command.append(f"--enable={','.join(self.enable)}")
        if self.inconclusive:
            command.append("--inconclusive")
        command += self.extra_args
        return await self.makeRemoteShellCommand(command=command)

    def command_verdict(self, cmd: Any) -> int | None:
        results = cmd.results()
        return None if results == SUCCESS else results


__all__ = ["Cppcheck"]
