"""Python tool steps: BuildEPYDoc, PyFlakes, PyLint and Sphinx, each reading its tool's output
into counts, logs, properties and a summary."""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any, ClassVar

from buildbot import config
from buildbot.process import logobserver
from buildbot.process.buildstep import BuildStep, ShellMixin
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS, statusToString
from buildbot.steps.issues import IssueCountingStep


def _done_words(step: Any) -> str:
    done = step.descriptionDone
    return " ".join(str(w) for w in done) if isinstance(done, (list, tuple)) else str(done)


def _with_result(step: Any, text: str) -> dict[str, str]:
    if step.results != SUCCESS:
        text += f" ({statusToString(step.results)})"
    return {"step": text}


class BuildEPYDoc(ShellMixin, BuildStep):
    """`make epydocs`; import errors, warnings and errors in the output are counted."""

    name = "epydoc"
    command: Any = ["make", "epydocs"]
    description: Any = "building epydocs"
    descriptionDone: Any = "epydoc"

    # (counter attribute, summary key, how a line is recognised)
    _COUNTED: ClassVar[tuple[tuple[str, str, Any], ...]] = (
        ("import_errors", "ierr", lambda line: line.startswith("Error importing ")),
        ("warnings", "warn", lambda line: "Warning: " in line),
        ("errors", "err", lambda line: "Error: " in line),
    )

    def __init__(self, **kwargs: Any) -> None:
        kwargs = self.setupShellMixin(kwargs)
        super().__init__(**kwargs)
        self.import_errors = self.warnings = self.errors = 0
        self.addLogObserver("stdio", logobserver.LineConsumerLogObserver(self._count_lines))

    def _count_lines(self) -> Generator[None, tuple[str, str], None]:
        while True:
            _, line = yield
            for attr, _, matches in self._COUNTED:
                if matches(line):
                    setattr(self, attr, getattr(self, attr) + 1)

    def getResultSummary(self) -> dict[str, str]:
        text = _done_words(self) + "".join(
            f" {key}={getattr(self, attr)}" for attr, key, _ in self._COUNTED
            if getattr(self, attr))
        return _with_result(self, text)

    async def run(self) -> int:
        cmd = await self.makeRemoteShellCommand()
        await self.runCommand(cmd)
        await self.getLog("stdio").finish()
        if cmd.didFail():
            return FAILURE
        # import errors alone do not make the step warn (as in the reference)
        return WARNINGS if self.warnings or self.errors else SUCCESS


# pyflakes message fragments -> category; the first match wins, anything else is "misc"
_PYFLAKES_KINDS = (
    ("imported but unused", "unused"),
    ("*' used; unable to detect undefined names", "import*"),
    ("undefined name", "undefined"),
    ("redefinition of unused", "redefs"),
    ("invalid syntax", "misc"),
)


class PyFlakes(IssueCountingStep):
    """`make pyflakes`: unused imports, undefined names, redefinitions, star imports and
    other messages counted into `pyflakes-<kind>` properties; undefined names and syntax
    errors fail the step, anything else warns."""

    name = "pyflakes"
    command: Any = ["make", "pyflakes"]
    description: Any = "running pyflakes"
    descriptionDone: Any = "pyflakes"
    flunkOnFailure = False
    issue_categories = tuple((k, k) for k in ("unused", "undefined", "redefs", "import*",
                                              "misc"))
    failing_categories = ("undefined",)
    property_prefix = "pyflakes"
    property_source = "pyflakes"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # pyflakes exits 1 for any message; the messages themselves decide the result
        kwargs["decodeRC"] = {0: SUCCESS, 1: WARNINGS}
        super().__init__(*args, **kwargs)
        self._hasSyntaxError = False
        self._in_preamble = True  # lines echoed by make before the first message

    def classify(self, stream: str, line: str) -> str | None:
        if stream == "h":
            return None
        if self._in_preamble:
            if ":" not in line:
                return None
            self._in_preamble = False
        for fragment, kind in _PYFLAKES_KINDS:
            if fragment in line:
                if fragment == "invalid syntax":
                    self._hasSyntaxError = True
                return kind
        return "misc"

    async def publish_issues(self) -> None:
        if self._hasSyntaxError:
            # the output is then only about the syntax error: no counts are published
            await self.addCompleteLog("syntax-error", "\n".join(self.summaries["misc"]))
            return
        await super().publish_issues()

    def command_verdict(self, cmd: Any) -> int | None:
        return FAILURE if cmd.didFail() or self._hasSyntaxError else None


_PYLINT_TYPES = "CRWEFI"
# pylint >= 2 default format: `path:line:col: C0114: text`
_PYLINT_COLUMN_RE = re.compile(rf"^(?P<path>[^:]+):(?P<line>\d+):\d+: *(?P<t>[{_PYLINT_TYPES}])"
                               r"(\d+)?:.+")
# --output-format=parseable: `path:line: [C0114(name), obj] text`
_PYLINT_PARSEABLE_RE = re.compile(rf"(?P<path>[^:]+):(?P<line>\d+): \[(?P<t>[{_PYLINT_TYPES}])"
                                  r"(\d+)?(\([a-z-]+\))?[,\]] .+")
# old default format: `C0114: line[, col]: text` (no path)
_PYLINT_OLD_RE = re.compile(rf"^(?P<t>[{_PYLINT_TYPES}])(\d+)?: *\d+(, *\d+)?:.+")


class PyLint(IssueCountingStep):
    """Runs pylint (give the command); messages are counted per type into `pylint-<type>`
    properties and, with `store_results`, stored as a `code_issue` test result set.
    Errors and fatal messages, or an exit code with the fatal/error/usage bits, fail."""

    name = "pylint"
    description: Any = "running pylint"
    descriptionDone: Any = "pylint"

    # pylint's exit code is a bit set, one bit per message type, plus usage errors
    RC_OK, RC_FATAL, RC_ERROR, RC_WARNING = 0, 1, 2, 4
    RC_REFACTOR, RC_CONVENTION, RC_USAGE = 8, 16, 32

    # sorted by type letter, as the reference reports them
    issue_categories = (("C", "convention"), ("E", "error"), ("F", "fatal"), ("I", "info"),
                        ("R", "refactor"), ("W", "warning"))
    failing_categories = ("F", "E")
    property_prefix = "pylint"
    property_source = "Pylint"

    def __init__(self, store_results: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._store_results = store_results
        self._result_setid: int | None = None
        self._where: tuple[str | None, int | None] = (None, None)

    def classify(self, stream: str, line: str) -> str | None:
        if stream == "h":
            return None
        for pattern in (_PYLINT_COLUMN_RE, _PYLINT_PARSEABLE_RE):
            m = pattern.match(line)
            if m:
                self._where = (m.group("path"), int(m.group("line")))
                return m.group("t")
        m = _PYLINT_OLD_RE.match(line)
        if m:
            self._where = (None, None)
            return m.group("t")
        return None

    def issue_found(self, key: str, line: str) -> None:
        path, line_no = self._where
        if self._store_results and path is not None and self._result_setid is not None:
            self.addTestResult(self._result_setid, line, test_name=None, test_code_path=path,
                               line=line_no)

    async def addTestResultSets(self) -> None:
        if self._store_results:
            self._result_setid = await self.addTestResultSet("Pylint warnings", "code_issue",
                                                             "message")

    def command_verdict(self, cmd: Any) -> int | None:
        if (cmd.rc or 0) & (self.RC_FATAL | self.RC_ERROR | self.RC_USAGE):
            return FAILURE
        return None


# lines by which sphinx-build says it got to the end
_SPHINX_DONE = ("build succeeded", "no targets are out of date.")
# sphinx colours its output when its environment asks for it (FORCE_COLOR, a terminal): the
# success line is then wrapped in escape sequences
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_SPHINX_MARKS = ("WARNING", "ERROR", "SEVERE")


class Sphinx(ShellMixin, BuildStep):
    """`sphinx-build [-b builder] [-t tag]... [-D k=v]... [-E] [-W] SOURCEDIR BUILDDIR`;
    lines with WARNING/ERROR/SEVERE are warnings; without sphinx's success line the step
    fails."""

    name = "sphinx"
    description: Any = "running sphinx"
    descriptionDone: Any = "sphinx"
    haltOnFailure = True

    def __init__(self, sphinx_sourcedir: Any = ".", sphinx_builddir: Any = None,
                 sphinx_builder: Any = None, sphinx: Any = "sphinx-build", tags: Any = None,
                 defines: Any = None, strict_warnings: bool = False, mode: str = "incremental",
                 **kwargs: Any) -> None:
        if sphinx_builddir is None:
            config.error("Sphinx argument sphinx_builddir is required")
        if mode not in ("incremental", "full"):
            # the reference's message, missing space included
            config.error("Sphinx argument mode has to be 'incremental' or'full' is required")
        kwargs = self.setupShellMixin(kwargs)
        super().__init__(**kwargs)
        self.success = False
        self.warnings: list[str] = []
        self.command = self._sphinx_command(sphinx, sphinx_builder, tags or [], defines or {},
                                            mode, strict_warnings, sphinx_sourcedir,
                                            sphinx_builddir)
        self.addLogObserver("stdio", logobserver.LineConsumerLogObserver(self._read_output))

    @staticmethod
    def _sphinx_command(sphinx: Any, builder: Any, tags: list[Any], defines: dict[str, Any],
                        mode: str, strict: bool, sourcedir: Any, builddir: Any) -> list[Any]:
        command = [sphinx]
        if builder is not None:
            command += ["-b", builder]
        for tag in tags:
            command += ["-t", tag]
        for key in sorted(defines):
            value = defines[key]
            if value is None:
                command += ["-D", key]
            elif isinstance(value, bool):
                command += ["-D", f"{key}={int(value)}"]
            else:
                command += ["-D", f"{key}={value}"]
        if mode == "full":
            command.append("-E")  # ignore the saved environment
        if strict:
            command.append("-W")  # warnings become errors
        return [*command, sourcedir, builddir]

    def _read_output(self) -> Generator[None, tuple[str, str], None]:
        quoted_next = False  # the line after "Warning, treated as error:" is the warning
        while True:
            _, line = yield
            line = _ANSI_ESCAPE.sub("", line)
            if line.startswith(_SPHINX_DONE):
                self.success = True
            elif line.startswith("Warning, treated as error:"):
                quoted_next = True
            elif quoted_next:
                self.warnings.append(line)
                quoted_next = False
            else:
                # a line naming several levels is counted once per level, as in 4.3
                self.warnings += [line for mark in _SPHINX_MARKS if mark in line]

    def getResultSummary(self) -> dict[str, str]:
        return _with_result(self, f"{self.name} {len(self.warnings)} warnings")

    async def run(self) -> int:
        cmd = await self.makeRemoteShellCommand()
        await self.runCommand(cmd)
        await self.getLog("stdio").finish()
        if self.warnings:
            await self.addCompleteLog("warnings", "\n".join(self.warnings))
        self.setStatistic("warnings", len(self.warnings))
        if not self.success:
            return FAILURE
        return WARNINGS if self.warnings else SUCCESS


__all__ = ["BuildEPYDoc", "PyFlakes", "PyLint", "Sphinx"]
