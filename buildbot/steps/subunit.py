"""SubunitShellCommand: a shell command whose output is a subunit (v1) test stream."""

from __future__ import annotations

import io
import unittest
from typing import Any

from buildbot.process import logobserver
from buildbot.process.buildstep import BuildStep, ShellMixin, _result_suffix
from buildbot.process.results import FAILURE, SUCCESS


class SubunitLogObserver(logobserver.LogLineObserver, unittest.TestResult):
    """Feeds every stdout/stderr line to subunit's protocol parser and keeps the outcome
    as a `unittest.TestResult` (testsRun, failures, errors); malformed protocol lines go to
    `warningio`. Needs python-subunit (ImportError otherwise, as in the reference)."""

    def __init__(self) -> None:
        try:
            from subunit import TestProtocolServer
        except ImportError as e:
            raise ImportError("subunit is not importable, but is required for "
                              "SubunitLogObserver support.") from e
        logobserver.LogLineObserver.__init__(self)
        unittest.TestResult.__init__(self)
        self.warningio = io.BytesIO()
        self.protocol = TestProtocolServer(self, self.warningio)
        # Only filled where unittest has no addSkip; so never on Python 3, and the summary
        # therefore never counts skips, as in the reference.
        self.skips: list[Any] = []
        self.seen_tags: set[str] = set()

    def addSkip(self, test: Any, detail: Any) -> None:
        """unittest's addSkip under 4.3's parameter name: the skip goes to `skipped`."""
        super().addSkip(test, detail)

    def outLineReceived(self, line: str) -> None:
        self.protocol.lineReceived(line.encode("utf-8") + b"\n")

    errLineReceived = outLineReceived

    def stopTest(self, test: Any) -> None:
        super().stopTest(test)
        self.step.setProgress("tests", self.testsRun)

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        self.issue(test, err)

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self.issue(test, err)

    def issue(self, test: Any, err: Any) -> None:
        """A failing or erroring test."""
        self.step.setProgress("tests failed", len(self.failures) + len(self.errors))

    def tags(self, new_tags: Any, gone_tags: Any) -> None:
        self.seen_tags.update(new_tags)


class SubunitShellCommand(ShellMixin, BuildStep):
    """Run a command printing subunit; failed or erroring tests (or a failing command) fail
    the step, as does a run without tests with `failureOnNoTests`."""

    name = "shell"

    def __init__(self, failureOnNoTests: bool = False, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **self.setupShellMixin(kwargs))
        self.failureOnNoTests = failureOnNoTests
        # the observer counts tests as the output arrives, for progress and the summary
        self.progressMetrics = (*self.progressMetrics, "tests", "tests failed")
        self._observer = SubunitLogObserver()
        self.addLogObserver("stdio", self._observer)

    async def run(self) -> int:
        cmd = await self.makeRemoteShellCommand()
        await self.runCommand(cmd)
        await self.getLog("stdio").finish()
        obs = self._observer
        problems = "".join(f"{test.id()}\n{err}" for test, err in obs.errors + obs.failures)
        if problems:
            await self.addCompleteLog("problems", problems)
        warnings = obs.warningio.getvalue()
        if warnings:
            await self.addCompleteLog("warnings", warnings.decode("utf-8", "replace"))
        if cmd.didFail() or obs.failures or obs.errors:
            return FAILURE
        if not obs.testsRun and self.failureOnNoTests:
            return FAILURE
        return SUCCESS

    def getResultSummary(self) -> dict[str, str]:
        obs = self._observer
        failures, errors, total = len(obs.failures), len(obs.errors), obs.testsRun
        words = [self.name]
        if failures + errors == 0:
            words += [str(total), "test" if total == 1 else "tests", "passed"] if total \
                else ["no tests run"]
        else:
            words += ["Total", str(total), "test(s)"]
            for count, one, many in ((failures, "failure", "failures"),
                                     (errors, "error", "errors")):
                if count:
                    words += [str(count), one if count == 1 else many]
        if obs.skips:
            words += [str(len(obs.skips)), "skip" if len(obs.skips) == 1 else "skips"]
        return {"step": " ".join(words) + _result_suffix(self, " (max lines reached)")}


__all__ = ["SubunitLogObserver", "SubunitShellCommand"]
