"""Shell steps: ShellCommand and the steps built on it (configure, compile, test, properties
from command output, tree size, warning counting)."""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from buildbot import config
from buildbot.process import logobserver
from buildbot.process.buildstep import _COMMON_PARMS, BuildStep, ShellMixin
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS, statusToString, worst_status
from buildbot.steps.worker import CompositeStepMixin

# Arguments a plain ShellCommand accepts besides the common step arguments.
_SHELL_COMMAND_ARGS = (
    "command", "env", "want_stdout", "want_stderr", "timeout", "maxTime", "max_lines",
    "sigtermTime", "logfiles", "lazylogfiles", "usePTY", "logEnviron", "collectStdout",
    "collectStderr", "interruptSignal", "initialStdin", "decodeRC", "stdioLogName", "workdir",
)


class ShellCommand(ShellMixin, BuildStep):
    """Run a command on the worker; the result comes from its exit code (`decodeRC`)."""

    name = "shell"
    renderables = tuple(BuildStep.renderables) + tuple(
        a for a in ShellMixin._shellMixinArgs if a != "workdir")

    def __init__(self, **kwargs: Any) -> None:
        if self.is_exact_step_class(ShellCommand):
            if "command" not in kwargs:
                config.error("ShellCommand's `command' argument is not specified")
            bad = [k for k in kwargs if k not in _SHELL_COMMAND_ARGS and k not in _COMMON_PARMS]
            if bad:
                config.error(f"Invalid argument(s) passed to ShellCommand: {', '.join(bad)}")
        kwargs = self.setupShellMixin(kwargs)
        super().__init__(**kwargs)

    async def run(self) -> int:
        finished = await self.runCommand(await self.makeRemoteShellCommand())
        return int(finished.results())


class Configure(ShellCommand):
    """`./configure`; a failure halts the build."""

    name = "configure"
    haltOnFailure = True
    flunkOnFailure = True
    description: Any = "configuring"
    descriptionDone: Any = "configure"
    command: Any = ("./configure",)


class TreeSize(ShellMixin, BuildStep):
    """Measure the build directory with `du -s -k .` into the property `tree-size-KiB`."""

    name = "treesize"
    command: Any = ("du", "-s", "-k", ".")
    description: Any = ("measuring", "tree", "size")
    renderables = tuple(BuildStep.renderables) + tuple(
        a for a in ShellMixin._shellMixinArgs if a != "workdir")

    def __init__(self, **kwargs: Any) -> None:
        kwargs = self.setupShellMixin(kwargs)
        super().__init__(**kwargs)
        self.observer = logobserver.BufferLogObserver(wantStdout=True, wantStderr=True)
        self.addLogObserver("stdio", self.observer)

    async def run(self) -> int:
        cmd = await self.makeRemoteShellCommand()
        await self.runCommand(cmd)
        await self.getLog("stdio").finish()
        found = re.match(r"(\d+)", self.observer.getStdout())
        if found is None:
            self.descriptionDone = "treesize unknown"
            return FAILURE if cmd.didFail() else WARNINGS
        kib = int(found.group(1))
        self.setProperty("tree-size-KiB", kib, "treesize")
        self.descriptionDone = f"treesize {kib} KiB"
        return FAILURE if cmd.didFail() else SUCCESS


class SetPropertyFromCommand(ShellMixin, BuildStep):
    """Set a property from a command's output (`property`), or several through
    `extract_fn(rc, stdout, stderr) -> dict`."""

    name = "setproperty"
    renderables = tuple(BuildStep.renderables) + tuple(
        a for a in ShellMixin._shellMixinArgs if a != "workdir") + ("property",)

    def __init__(self, property: Any = None, extract_fn: Any = None, strip: bool = True,
                 includeStdout: bool = True, includeStderr: bool = False,
                 **kwargs: Any) -> None:
        kwargs = self.setupShellMixin(kwargs)  # its config errors come first, as in 4.3
        if (property is None) == (extract_fn is None):
            config.error("Exactly one of property and extract_fn must be set")
        super().__init__(**kwargs)
        self.property, self.extract_fn, self.strip = property, extract_fn, strip
        self.includeStdout = includeStdout
        # extract_fn always gets both streams
        self.includeStderr = True if extract_fn else includeStderr
        self.observer = logobserver.BufferLogObserver(wantStdout=self.includeStdout,
                                                      wantStderr=self.includeStderr)
        self.addLogObserver("stdio", self.observer)

    def property_changes(self, cmd: Any) -> dict[str, Any] | None:
        """The properties the finished command sets; None when a failed command must not set
        `property` (extract_fn decides on its own, from the exit code it is given)."""
        stdout = self.observer.getStdout()
        if not self.property:
            return dict(self.extract_fn(cmd.rc, stdout, self.observer.getStderr()))
        if cmd.didFail():
            return None
        return {self.property: stdout.strip() if self.strip else stdout}

    async def run(self) -> int:
        cmd = await self.makeRemoteShellCommand()
        try:
            await self.runCommand(cmd)
        finally:  # the observer has seen everything once the log is finished
            await self.getLog("stdio").finish()
        changes = self.property_changes(cmd)
        if changes is None:
            return FAILURE
        for name, value in changes.items():
            self.setProperty(name, value, "SetPropertyFromCommand Step")
        await self.addCompleteLog(
            "property changes", "\n".join(f"{k}: {v!r}" for k, v in sorted(changes.items())))
        if len(changes) > 1:
            self.descriptionDone = f"{len(changes)} properties set"
        elif changes:
            self.descriptionDone = f"property '{next(iter(changes))}' set"
        return FAILURE if cmd.didFail() else SUCCESS


_SUPPRESSION_COMMENT = re.compile(r"^\s*(#.*)?$")
_SUPPRESSION_LINE = re.compile(
    r"^\s*(.+?)\s*:\s*(.+?)\s*(?:[:]\s*([0-9]+)(?:-([0-9]+))?\s*)?$")


def parse_suppressions(text: str) -> list[tuple[str, str, int | None, int | None]]:
    """Suppression-file lines `FILE-RE : WARN-RE [: START[-END]]` (comments, blanks skipped);
    a single line number means a range of one line."""
    out: list[tuple[str, str, int | None, int | None]] = []
    for line in text.split("\n"):
        if _SUPPRESSION_COMMENT.match(line):
            continue
        m = _SUPPRESSION_LINE.match(line)
        if m is None:
            continue
        file_re, warn_re, start, end = m.groups()
        first = int(start) if start is not None else None
        last = int(end) if end is not None else first
        out.append((file_re, warn_re, first, last))
    return out


class WarningCountingShellCommand(ShellMixin, CompositeStepMixin, BuildStep):
    """A shell command whose output lines matching `warningPattern` are counted as warnings.

    Warnings make the step WARNINGS (FAILURE beyond `maxWarnCount`), are listed in a log
    "warnings (N)" and added to the build property `warnings-count`. Suppressions (a list of
    (file-re, warning-re, start, end), or a file on the worker) drop matching warnings; GNU
    make's "Entering/Leaving directory" lines track the directory of relative file names.
    """

    renderables = tuple(BuildStep.renderables) + tuple(
        a for a in ShellMixin._shellMixinArgs if a != "workdir") + (
        "suppressionFile", "suppressionList", "warningPattern", "directoryEnterPattern",
        "directoryLeavePattern", "maxWarnCount")

    warnCount = 0
    warningPattern: Any = "(?i).*warning[: ].*"
    directoryEnterPattern: Any = "make.*: Entering directory [\u2019\"`'](.*)[\u2019'`\"]"
    directoryLeavePattern: Any = "make.*: Leaving directory"
    suppressionFile: Any = None
    # 4.3 names for the suppression-file syntax (comment/empty lines, `file : re [: a[-b]]`)
    commentEmptyLineRe = _SUPPRESSION_COMMENT
    suppressionLineRe = _SUPPRESSION_LINE

    class Sentinel:
        """Type of the "argument not given" default of `warningPattern`."""

    _unset = Sentinel()

    def __init__(self, warningPattern: Any = _unset, warningExtractor: Any = None,
                 maxWarnCount: Any = None, directoryEnterPattern: Any = None,
                 directoryLeavePattern: Any = None, suppressionFile: Any = None,
                 suppressionList: Any = None, **kwargs: Any) -> None:
        # checked first: 4.3 reports it before any argument error of the shell mixin
        if self.is_exact_step_class(WarningCountingShellCommand) and not kwargs.get("command"):
            config.error("WarningCountingShellCommand's 'command' argument is not specified")
        super().__init__(**self.setupShellMixin(kwargs))
        # A given value replaces the class default; an empty one keeps it. warningPattern is
        # the exception: an explicit None turns warning counting off.
        given = {"directoryEnterPattern": directoryEnterPattern,
                 "directoryLeavePattern": directoryLeavePattern,
                 "suppressionFile": suppressionFile}
        given = {attr: value for attr, value in given.items() if value}
        if warningPattern is not WarningCountingShellCommand._unset:
            given["warningPattern"] = warningPattern
        for attr, value in given.items():
            setattr(self, attr, value)
        # a list of (file-re, warning-re, start, end) tuples given in master.cfg; the compiled
        # form, with those of suppressionFile, goes to `suppressions` when the step runs
        self.suppressionList = suppressionList
        self.warningExtractor = (warningExtractor or
                                 WarningCountingShellCommand.warnExtractWholeLine)
        self.maxWarnCount = maxWarnCount
        self.suppressions: list[tuple[Any, Any, int | None, int | None]] = []
        self.directoryStack: list[str] = []
        self.warnCount = 0
        self.loggedWarnings: list[str] = []
        if self.warningPattern is not None:
            self.addLogObserver(
                "stdio", logobserver.LineConsumerLogObserver(self.warningLogConsumer))

    def addSuppression(self, suppressionList: list[Any]) -> None:
        """Add (FILE-RE, WARN-RE, START, END) patterns of warnings not to count; None
        matches anything, START and END bound the line number inclusively."""
        for file_re, warn_re, start, end in suppressionList:
            if isinstance(file_re, str):
                file_re = re.compile(file_re)
            if isinstance(warn_re, str):
                warn_re = re.compile(warn_re)
            self.suppressions.append((file_re, warn_re, start, end))

    def warnExtractWholeLine(self, line: str, match: Any) -> tuple[Any, Any, str]:
        """Warning extractor: no file or line number, the whole line as text."""
        return (None, None, line)

    def warnExtractFromRegexpGroups(self, line: str, match: Any) -> tuple[Any, Any, Any]:
        """Warning extractor: file, line number and text are groups 1-3 of the pattern."""
        line_no = match.group(2)
        return (match.group(1), int(line_no) if line_no is not None else None, match.group(3))

    def warningLogConsumer(self) -> Generator[None, tuple[str, str], None]:
        """Line consumer for the stdio log (see LineConsumerLogObserver)."""
        wre = re.compile(self.warningPattern) if isinstance(self.warningPattern, str) \
            else self.warningPattern
        enter_re = self.directoryEnterPattern
        if isinstance(enter_re, str):
            enter_re = re.compile(enter_re)
        leave_re = self.directoryLeavePattern
        if isinstance(leave_re, str):
            leave_re = re.compile(leave_re)
        self.loggedWarnings = []
        while True:
            _, line = yield
            if enter_re is not None:
                m = enter_re.search(line)
                if m:
                    self.directoryStack.append(m.group(1))
                    continue
            if leave_re is not None and self.directoryStack and leave_re.search(line):
                self.directoryStack.pop()
                continue
            m = wre.match(line)
            if m:
                self.maybeAddWarning(self.loggedWarnings, line, m)

    def maybeAddWarning(self, warnings: list[str], line: str, match: Any) -> None:
        """Count the warning on `line` unless a suppression matches it."""
        if self.suppressions:
            file, line_no, text = self.warningExtractor(self, line, match)
            line_no = line_no and int(line_no)
            if file and self.directoryStack:
                file = "/".join(self.directoryStack) + "/" + file
            for file_re, warn_re, start, end in self.suppressions:
                if file is not None and file_re is not None and not file_re.match(file):
                    continue
                if warn_re is not None and not warn_re.search(text):
                    continue
                if start is not None and end is not None and not (
                        line_no is not None and start <= line_no <= end):
                    continue
                return
        warnings.append(line)
        self.warnCount += 1

    async def setup_suppression(self) -> None:
        if self.suppressionList is not None:
            self.addSuppression(self.suppressionList)
        if self.suppressionFile is not None:
            data = await self.getFileContentFromWorker(self.suppressionFile,
                                                       abandonOnFailure=True)
            self.addSuppression(parse_suppressions(data or ""))

    async def run(self) -> int:
        await self.setup_suppression()
        cmd = await self.makeRemoteShellCommand()
        try:
            await self.runCommand(cmd)
        finally:  # counted warnings are final only once stdio is finished
            await self.finish_logs()
        await self.createSummary()
        return self.evaluateCommand(cmd)

    async def finish_logs(self) -> None:
        await self.getLog("stdio").finish()

    async def createSummary(self) -> None:
        """Log the warnings and add their count to statistics and `warnings-count`."""
        if self.warnCount:
            await self.addCompleteLog(f"warnings ({self.warnCount})",
                                      "\n".join(self.loggedWarnings) + "\n")
        self.setStatistic("warnings", self.getStatistic("warnings", 0) + self.warnCount)
        self.setProperty("warnings-count", self.getProperty("warnings-count", 0) + self.warnCount,
                         "WarningCountingShellCommand")

    def evaluateCommand(self, cmd: Any) -> int:
        result: int = cmd.results()
        if self.maxWarnCount is not None and self.warnCount > self.maxWarnCount:
            return worst_status(result, FAILURE) or FAILURE
        if self.warnCount:
            return worst_status(result, WARNINGS) or WARNINGS
        return result


class Compile(WarningCountingShellCommand):
    """`make all`, counting warnings; a failure halts the build."""

    name = "compile"
    haltOnFailure = True
    flunkOnFailure = True
    description: Any = ("compiling",)
    descriptionDone: Any = ("compile",)
    command: Any = ("make", "all")


class Test(WarningCountingShellCommand):
    """`make test`; a failure also warns; `setTestResults` feeds the summary."""

    name = "test"
    warnOnFailure = True
    description: Any = ("testing",)
    descriptionDone: Any = ("test",)
    command: Any = ("make", "test")

    def setTestResults(self, total: int = 0, failed: int = 0, passed: int = 0,
                       warnings: int = 0) -> None:
        """Add to the test counters (statistics `tests-total`, `-failed`, `-passed`,
        `-warnings`)."""
        for name, value in (("total", total), ("failed", failed), ("warnings", warnings),
                            ("passed", passed)):
            key = f"tests-{name}"
            self.setStatistic(key, self.getStatistic(key, 0) + value)

    def _test_counts_text(self) -> str:
        # "12 tests 10 passed 2 failed": each non-zero count, the total derived from the
        # others when not recorded
        def count(name: str) -> Any:
            return self.getStatistic(f"tests-{name}", 0)

        derived_total = count("failed") + count("passed") + count("warnings")
        labelled = [(count("total") or derived_total, "tests"), (count("passed"), "passed"),
                    (count("warnings"), "warnings"), (count("failed"), "failed")]
        return " ".join(f"{n} {label}" for n, label in labelled if n)

    def getResultSummary(self) -> dict[str, str]:
        text = self._test_counts_text() if self.hasStatistic("tests-total") else ""
        if not text:
            return super().getResultSummary()
        if self.results != SUCCESS:
            text += f" ({statusToString(self.results)})"
            text += " (timed out)" if self.timed_out else ""
        return {"step": text}


class PerlModuleTestObserver(logobserver.LogLineObserver):
    """Reads `prove` output: test and failure counts, warnings, the overall verdict.

    Older Test::Harness prints "N/M subtests failed" and "Files=F, Tests=T,"; newer ones a
    "Test Summary Report" followed by one "(... Tests: T Failed: N)" line per failing file,
    the totals and "Result: FAIL". Once the report header is seen only the newer form is
    read.
    """

    failedRe = re.compile(r"Tests: \d+ Failed: (\d+)\)")
    testsRe = re.compile(r"Files=\d+, Tests=(\d+)")
    oldFailureCountsRe = re.compile(r"(\d+)/(\d+) subtests failed")
    oldSuccessCountsRe = re.compile(r"Files=\d+, Tests=(\d+),")

    def __init__(self, warningPattern: Any) -> None:
        super().__init__()
        self.warningPattern = re.compile(warningPattern) if warningPattern else None
        self.rc, self.total, self.failed, self.warnings = SUCCESS, 0, 0, 0
        self.newStyle = False  # the "Test Summary Report" form
        self.complete = False

    def outLineReceived(self, line: str) -> None:
        if self.warningPattern is not None and self.warningPattern.match(line):
            self.warnings += 1
        if self.newStyle:
            self._read_summary_report(line)
        else:
            self.newStyle = line.startswith("Test Summary Report")
            self._read_legacy_summary(line)

    def _read_summary_report(self, line: str) -> None:
        per_file = self.failedRe.search(line)
        if per_file:
            self.failed += int(per_file.group(1))
        if line.startswith("Result: FAIL") or (per_file and self.failed):
            self.rc = FAILURE
        totals = self.testsRe.search(line)
        if totals:
            self.total = int(totals.group(1))

    def _read_legacy_summary(self, line: str) -> None:
        failures = self.oldFailureCountsRe.search(line)
        if failures:
            self.failed, self.total = int(failures.group(1)), int(failures.group(2))
            self.rc = FAILURE
        totals = self.oldSuccessCountsRe.search(line)
        if totals:
            self.total = int(totals.group(1))


class PerlModuleTest(Test):
    """`prove --lib lib -r t`, with counts read from its output."""

    command: Any = ("prove", "--lib", "lib", "-r", "t")
    total = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.observer = PerlModuleTestObserver(warningPattern=self.warningPattern)
        self.addLogObserver("stdio", self.observer)

    def evaluateCommand(self, cmd: Any) -> int:
        seen = self.observer
        if seen.total:  # counts are published only when prove printed a total
            self.setTestResults(total=seen.total, failed=seen.failed,
                                passed=seen.total - seen.failed, warnings=seen.warnings)
        # warnings only lower a success
        return WARNINGS if seen.rc == SUCCESS and seen.warnings else seen.rc


__all__ = [
    "Compile", "Configure", "PerlModuleTest", "SetPropertyFromCommand", "ShellCommand", "Test",
    "TreeSize", "WarningCountingShellCommand",
]
