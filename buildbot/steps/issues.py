"""A base for shell steps that sort the lines of their output into issue categories
(linters, static analysers): counts per category, one log per category found, properties
`<prefix>-<category>` and `<prefix>-total`, a summary `<done> cat=N ...`, and a result from
the failing categories.

Subclasses give the categories and `classify(stream, line)`; see PyLint, PyFlakes (python.py)
and Cppcheck (cppcheck.py).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, ClassVar

from buildbot.process import logobserver
from buildbot.process.buildstep import BuildStep, ShellMixin
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS, statusToString


class IssueCountingStep(ShellMixin, BuildStep):
    """Counts classified output lines; the command line comes from the subclass."""

    # (key, label) in reporting order: the label names the log, the property and the
    # summary word; `classify` returns keys.
    issue_categories: ClassVar[tuple[tuple[str, str], ...]] = ()
    # Keys of categories whose presence makes the step FAILURE rather than WARNINGS.
    failing_categories: ClassVar[tuple[str, ...]] = ()
    property_prefix: ClassVar[str] = ""
    property_source: ClassVar[str] = ""
    # Whether a timed-out step's summary says so (the reference's steps differ here).
    summary_notes_timeout: ClassVar[bool] = False

    def __init__(self, **kwargs: Any) -> None:
        kwargs = self.setup_shell_arguments(kwargs)
        super().__init__(**kwargs)
        self.counts: dict[str, int] = {key: 0 for key, _ in self.issue_categories}
        self.summaries: dict[str, list[str]] = {key: [] for key, _ in self.issue_categories}
        self.addLogObserver("stdio", logobserver.LineConsumerLogObserver(self._consume_lines))

    def setup_shell_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Take the shell arguments; steps building their own command prohibit `command`."""
        return self.setupShellMixin(kwargs)

    def classify(self, stream: str, line: str) -> str | None:
        """The category key of an output line, or None for a line that is no issue."""
        raise NotImplementedError

    def issue_found(self, key: str, line: str) -> None:
        """Called for every counted line (after counting)."""

    def _consume_lines(self) -> Generator[None, tuple[str, str], None]:
        while True:
            stream, line = yield
            key = self.classify(stream, line)
            if key is not None:
                self.counts[key] += 1
                self.summaries[key].append(line)
                self.issue_found(key, line)

    @property
    def total_issues(self) -> int:
        return sum(self.counts.values())

    async def make_command(self) -> Any:
        """The remote command to run (default: the step's `command`)."""
        return await self.makeRemoteShellCommand()

    async def run(self) -> int:
        cmd = await self.make_command()
        await self.runCommand(cmd)
        await self.getLog("stdio").finish()
        await self.publish_issues()
        return self.evaluate(cmd)

    async def publish_issues(self) -> None:
        """One log per category found, a property per category and the total."""
        for key, label in self.issue_categories:
            if self.counts[key]:
                await self.addCompleteLog(label, "\n".join(self.summaries[key]))
            self.setProperty(f"{self.property_prefix}-{label}", self.counts[key],
                             self.property_source)
        self.setProperty(f"{self.property_prefix}-total", self.total_issues,
                         self.property_source)

    def command_verdict(self, cmd: Any) -> int | None:
        """A result decided by the command alone (its exit code), or None to judge by issues."""
        return FAILURE if cmd.didFail() else None

    def evaluate(self, cmd: Any) -> int:
        verdict = self.command_verdict(cmd)
        if verdict is not None:
            return verdict
        if any(self.counts.get(key) for key in self.failing_categories):
            return FAILURE
        return WARNINGS if self.total_issues else SUCCESS

    def getResultSummary(self) -> dict[str, str]:
        done = self.descriptionDone
        words = [str(w) for w in done] if isinstance(done, (list, tuple)) else [str(done)]
        words += [f"{label}={self.counts[key]}" for key, label in self.issue_categories
                  if self.counts[key]]
        text = " ".join(words)
        if self.results != SUCCESS:
            text += f" ({statusToString(self.results)})"
            if self.summary_notes_timeout and self.timed_out:
                text += " (timed out)"
        return {"step": text}
