"""Steps for Twisted-style projects: Trial (the trial test runner, with test counting),
HLint (lore's lint over changed .xhtml files) and RemovePYCs."""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from buildbot.process import logobserver
from buildbot.process.buildstep import BuildStep, ShellMixin
from buildbot.process.results import FAILURE, SKIPPED, SUCCESS, WARNINGS
from buildbot.steps.shell import ShellCommand


def _plural(count: int, one: str, many: str) -> list[str]:
    return [str(count), one if count == 1 else many]


class HLint(ShellMixin, BuildStep):
    """`bin/lore -p --output lint` over the .xhtml files of the build's changes (outside
    sandbox/); every output line with a colon is a warning. Skipped without such files."""

    name = "hlint"
    description: Any = "running hlint"
    descriptionDone: Any = "hlint"
    warnOnWarnings = True
    warnOnFailure = True
    warnings = 0

    def __init__(self, python: Any = None, **kwargs: Any) -> None:
        kwargs = self.setupShellMixin(kwargs, prohibitArgs=["command"])
        super().__init__(**kwargs)
        self.python = python
        self.warningLines: list[str] = []
        self.addLogObserver("stdio", logobserver.LineConsumerLogObserver(self.logConsumer))

    def logConsumer(self) -> Generator[None, tuple[str, str], None]:
        while True:
            _, line = yield
            if ":" in line:
                self.warnings += 1
                self.warningLines.append(line)

    async def run(self) -> int:
        self.hlintFiles = sorted({f for f in self.build.allFiles()
                                  if f.endswith(".xhtml") and not f.startswith("sandbox/")})
        if not self.hlintFiles:
            return SKIPPED
        command = [self.python] if self.python else []
        command += ["bin/lore", "-p", "--output", "lint", *self.hlintFiles]
        cmd = await self.makeRemoteShellCommand(command=command)
        await self.runCommand(cmd)
        await self.getLog("stdio").finish()
        await self.addCompleteLog("warnings", "\n".join(self.warningLines))
        await self.addCompleteLog("files", "\n".join(self.hlintFiles) + "\n")
        if cmd.didFail():  # lint findings never change the exit code; a broken tool does
            return FAILURE
        self.descriptionDone = " ".join(_plural(self.warnings, "hlint", "hlints"))
        return WARNINGS if self.warnings else SUCCESS


# per-test line of the bwverbose reporter: `pkg.mod.Class.test ... [OK]`
_TRIAL_TEST_LINE = re.compile(r"^(?:Doctest: )?([\w.]+) \.\.\. \[([^\]]+)\]$")
_TRIAL_RAN = re.compile(r"Ran (\d+) tests")
# counters of the closing `PASSED (successes=3)` / `FAILED (failures=1, ...)` line
_TRIAL_COUNTERS = ("failures", "errors", "skips", "expectedFailures", "unexpectedSuccesses",
                   "successes")


class TrialTestCaseCounter(logobserver.LogLineObserver):
    """Counts the tests trial reports (`numTests`, for progress) and reads its closing
    counters into `counts` (`total` stays None if trial never said how many ran)."""

    def __init__(self) -> None:
        super().__init__()
        self.numTests = 0
        self.finished = False
        self.counts: dict[str, int | None] = {
            "total": None, "failures": 0, "errors": 0, "skips": 0, "expectedFailures": 0,
            "unexpectedSuccesses": 0}

    def outLineReceived(self, line: str) -> None:
        if line.startswith("=" * 40):
            self.finished = True  # the failure reports follow: no more per-test lines
        if not self.finished and _TRIAL_TEST_LINE.search(line.strip()):
            self.numTests += 1
            self.step.setProgress("tests", self.numTests)
        ran = _TRIAL_RAN.search(line)
        if ran:
            self.counts["total"] = int(ran.group(1))
        if line.startswith(("OK", "FAILED ", "PASSED")):
            for name in _TRIAL_COUNTERS:
                found = re.search(rf"\b{name}=(\d+)", line)
                if found:
                    self.counts[name] = int(found.group(1))


# (marker, whether the following line, the warning's source, belongs to it)
_TRIAL_WARNINGS = ((" exceptions.DeprecationWarning: ", False),
                   (" DeprecationWarning: ", True), (" UserWarning: ", True),
                   ("Warning: ", False))

UNSPECIFIED: Any = ()  # testpath=None is meaningful, so "not given" needs its own marker


class Trial(ShellMixin, BuildStep):
    """Run `trial --reporter=bwverbose ...` on `tests` (or on the .py files of the changes,
    with `testChanges`); the summary counts passed/failed/skipped tests."""

    name = "trial"
    progressMetrics = ("output", "tests", "test.log")
    logfiles: Any = {"test.log": "_trial_temp/test.log"}
    renderables = ("tests", "jobs")
    flunkOnFailure = True
    python: Any = None
    trial = "trial"
    trialMode: Any = ["--reporter=bwverbose"]
    trialArgs: Any = []
    jobs: Any = None
    testpath: Any = UNSPECIFIED
    testChanges = False
    recurse = False
    reactor: Any = None
    randomly = False
    tests: Any = None
    description: Any = "testing"
    descriptionDone: Any = "tests"

    def __init__(self, reactor: Any = UNSPECIFIED, python: Any = None, trial: Any = None,
                 testpath: Any = UNSPECIFIED, tests: Any = None, testChanges: Any = None,
                 recurse: Any = None, randomly: Any = None, trialMode: Any = None,
                 trialArgs: Any = None, jobs: Any = None, **kwargs: Any) -> None:
        kwargs = self.setupShellMixin(kwargs, prohibitArgs=["command"])
        super().__init__(**kwargs)
        given = {"python": python or None, "trial": trial or None, "trialMode": trialMode,
                 "trialArgs": trialArgs, "jobs": jobs, "testChanges": testChanges,
                 "recurse": recurse, "randomly": randomly, "tests": tests}
        for attr, value in given.items():
            if value is not None:
                setattr(self, attr, value)
        if isinstance(self.python, str):
            self.python = [self.python]
        # Errors here are ValueErrors, not config errors, as in the reference.
        if self.python is not None and any(" " in part for part in self.python):
            raise ValueError("python= value has spaces, probably an error")
        if " " in self.trial:
            raise ValueError("trial= value has spaces")
        if testpath is not UNSPECIFIED:
            self.testpath = testpath
        if self.testpath is UNSPECIFIED:
            raise ValueError("You must specify testpath= (it can be None)")
        if reactor is not UNSPECIFIED:
            self.reactor = reactor
        if isinstance(self.tests, str):
            self.tests = [self.tests]
        if not self.testChanges and self.tests is None:
            raise ValueError("Must either set testChanges= or provide tests=")
        if self.reactor:
            self.description = f"testing ({self.reactor})"
        self.observer = TrialTestCaseCounter()
        self.addLogObserver("stdio", self.observer)
        self.addLogObserver("stdio", logobserver.LineConsumerLogObserver(self.logConsumer))
        self.problems: list[str] = []
        self.warnings: dict[str, int] = {}
        self.text = "running"

    def _trial_command(self) -> list[Any]:
        command = [*(self.python or []), self.trial, *self.trialMode]
        for wanted, option in ((self.recurse, "--recurse"),
                               (self.reactor, f"--reactor={self.reactor}"),
                               (self.randomly, "--random=0")):
            if wanted:
                command.append(option)
        command += self.trialArgs
        if self.jobs is not None:
            command.append(f"--jobs={int(self.jobs)}")
        if self.testChanges:
            command += [f"--testmodule={f}" for f in self.build.allFiles() if f.endswith(".py")]
        else:
            command += self.tests
        return command

    def setup_python_path(self) -> None:
        """Put `testpath` first on the PYTHONPATH given to trial (a list: the worker joins
        it with its path separator)."""
        if self.testpath is None:
            return
        path = self.env.get("PYTHONPATH", self.testpath)
        path = [path] if isinstance(path, str) else list(path)
        if self.testpath not in path:
            path.insert(0, self.testpath)
        self.env = {**self.env, "PYTHONPATH": path}

    async def run(self) -> int:
        progress = logobserver.OutputProgressObserver("test.log")
        if self.jobs is not None:
            self.jobs = int(self.jobs)
            # each trial worker process writes its own logs
            self.logfiles = {}
            for i in range(self.jobs):
                for kind in ("test", "err", "out"):
                    self.logfiles[f"{kind}.{i}.log"] = f"_trial_temp/{i}/{kind}.log"
                self.addLogObserver(f"test.{i}.log", progress)
        else:
            self.addLogObserver("test.log", progress)
        command = self._trial_command()
        self.setup_python_path()
        cmd = await self.makeRemoteShellCommand(command=command)
        await self.runCommand(cmd)
        await self.getLog("stdio").finish()
        if self.problems:
            await self.addCompleteLog("problems", "\n".join(self.problems))
        if self.warnings:
            await self.addCompleteLog("warnings", "".join(sorted(self.warnings)))
        return self.build_results(cmd)

    def build_results(self, cmd: Any) -> int:
        """The result, with the description of the counts in `descriptionDone`."""
        counts = self.observer.counts
        total = counts["total"]
        words: list[str] = []
        if cmd.didFail():
            results = FAILURE
            if total is None:
                words += ["tests", "failed"]
            else:
                words.append("tests")
                for key, one, many in (("failures", "failure", "failures"),
                                       ("errors", "error", "errors")):
                    if counts[key]:
                        words += _plural(counts[key] or 0, one, many)
        elif total is None:
            results = FAILURE
            words += ["testlog", "unparseable"]
        else:
            results = SUCCESS
            words += [*_plural(total, "test", "tests"), "passed"] if total \
                else ["no tests", "run"]
        for key, one, many in (("skips", "skip", "skips"), ("expectedFailures", "todo", "todos")):
            if counts[key]:
                words += _plural(counts[key] or 0, one, many)
        if self.reactor:
            words.append(self.rtext("({})"))
        self.descriptionDone = " ".join(words)
        return results

    def rtext(self, fmt: str = "{}") -> str:
        """`fmt` around the reactor's name, without the word "reactor"."""
        return fmt.format(self.reactor).replace("reactor", "") if self.reactor else ""

    def logConsumer(self) -> Generator[None, tuple[str, str], None]:
        while True:
            _, line = yield
            for marker, with_source in _TRIAL_WARNINGS:
                if marker in line:
                    if with_source:
                        _, source = yield
                        warning = f"{line}\n{source}\n"
                    else:
                        warning = line
                    self.warnings[warning] = self.warnings.get(warning, 0) + 1
                    break
            if line.startswith(("=" * 60, "-" * 60)):
                # the failure reports: everything from here on is a problem
                while True:
                    self.problems.append(line)
                    _, line = yield


class RemovePYCs(ShellCommand):
    """Delete the .pyc files of the build directory (the reference's command, kept as is)."""

    name = "remove_pyc"
    command: Any = ["find", ".", "-name", "'*.pyc'", "-exec", "rm", "{}", ";"]
    description: Any = "removing .pyc files"
    descriptionDone: Any = "remove .pycs"


__all__ = ["HLint", "RemovePYCs", "Trial", "TrialTestCaseCounter"]
