"""Visual Studio steps: the devenv/msdev/vcexpress compilers (VC6 ... VS2022) and MSBuild.

Every step runs one command line on a Windows worker, with INCLUDE, LIB and PATH extended by
the tool's directories under `installdir`, and counts the projects, compiled files, warnings
and errors of the output (logs "warnings" and "errors"). The version classes differ only in
their default install directory, their directory table and the command line they build.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from buildbot import config
from buildbot.process import buildstep
from buildbot.process.logobserver import LogLineObserver
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS, statusToString


class MSLogLineObserver(LogLineObserver):
    """Counts projects ("------ Build started ... ------" lines), .c/.cpp files, warnings
    (`: warning C1234:`) and errors (`error C1234 :`) of a Visual Studio output, copying
    the project, warning and error lines to the "warnings"/"errors" logs."""

    _project_re = re.compile(r"^(\d+>)?-{5}.+-{5}$")
    _file_re = re.compile(r"^(\d+>)?[^ ]+\.(cpp|c)$")
    _warning_re = re.compile(r" ?: warning [A-Z]+[0-9]+:")
    _error_re = re.compile(r" ?error ([A-Z]+[0-9]+)?\s?: ")

    def __init__(self, logwarnings: Any, logerrors: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.logwarnings = logwarnings
        self.logerrors = logerrors
        self.nbProjects = self.nbFiles = self.nbWarnings = self.nbErrors = 0

    def outLineReceived(self, line: str) -> None:
        line = line.rstrip("\r")
        if self._project_re.search(line):
            self.nbProjects += 1
            self.logwarnings.addStdout(line + "\n")
            self.logerrors.addStdout(line + "\n")
            self.step.setProgress("projects", self.nbProjects)
        elif self._file_re.search(line):
            self.nbFiles += 1
            self.step.setProgress("files", self.nbFiles)
        elif self._warning_re.search(line):
            self.nbWarnings += 1
            self.logwarnings.addStdout(line + "\n")
            self.step.setProgress("warnings", self.nbWarnings)
        elif self._error_re.search(line + "\n"):
            self.nbErrors += 1
            self.logerrors.addStderr(line + "\n")


# devenv-style switch for each `mode`; anything else builds.
_DEVENV_MODE = {"rebuild": "/Rebuild", "clean": "/Clean"}
_MSDEV_MODE = {"rebuild": "/REBUILD", "clean": "/CLEAN"}
_MSBUILD_TARGET = {"clean": "Clean", "build": "Build", "rebuild": "Rebuild"}


class VisualStudio(buildstep.ShellMixin, buildstep.BuildStep):
    """Abstract base: environment set-up, output counting, results and summary."""

    name = "compile"
    description: Any = "compiling"
    descriptionDone: Any = "compile"
    progressMetrics = (*buildstep.BuildStep.progressMetrics, "projects", "files", "warnings")
    renderables: Sequence[str] = ("projectfile", "config", "project", "mode")

    logobserver: MSLogLineObserver | None = None
    installdir: Any = None
    default_installdir: str | None = None
    mode: Any = "rebuild"
    projectfile: Any = None
    config: Any = None
    useenv = False
    project: Any = None
    PATH: Sequence[str] = ()
    INCLUDE: Sequence[str] = ()
    LIB: Sequence[str] = ()

    def __init__(self, installdir: Any = None, mode: Any = "rebuild", projectfile: Any = None,
                 config: Any = "release", useenv: bool = False, project: Any = None,
                 INCLUDE: list[str] | None = None, LIB: list[str] | None = None,
                 PATH: list[str] | None = None, **kwargs: Any) -> None:
        self.installdir = installdir
        self.mode = mode
        self.projectfile = projectfile
        self.config = config
        self.useenv = useenv
        self.project = project
        # explicit INCLUDE or LIB directories only reach the compiler through /USEENV
        if INCLUDE:
            self.INCLUDE, self.useenv = list(INCLUDE), True
        if LIB:
            self.LIB, self.useenv = list(LIB), True
        if PATH:
            self.PATH = list(PATH)
        kwargs = self.setupShellMixin(kwargs, prohibitArgs=["command"])
        super().__init__(**kwargs)

    # -- environment -----------------------------------------------------------------------
    def add_env_path(self, name: str, value: str) -> None:
        """Append `value` to the ';'-separated variable `name` of the step's environment."""
        current = self.env.get(name)
        prefix = "" if current is None else (current if current.endswith(";") else current + ";")
        self.env[name] = prefix + (value if value.endswith(";") else value + ";")

    def tool_directories(self) -> list[tuple[str, str]]:
        """(variable, directory) pairs of the tool itself, after the user's ones."""
        return []

    def setupEnvironment(self) -> None:
        # a copy: the dict given in master.cfg is shared by every build of the step
        self.env = dict(self.env or {})
        for var in ("PATH", "INCLUDE", "LIB"):
            for path in getattr(self, var):
                self.add_env_path(var, path)
        if not self.installdir:
            self.installdir = self.default_installdir
        for var, path in self.tool_directories():
            self.add_env_path(var, path)

    # -- command -----------------------------------------------------------------------------
    def build_command(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} is abstract")

    def devenv_command(self, program: str) -> list[str]:
        """`program <projectfile> /Rebuild|/Clean|/Build <config> [/UseEnv] [/Project p]`."""
        command = [program, self.projectfile, _DEVENV_MODE.get(self.mode, "/Build"),
                   self.config]
        if self.useenv:
            command.append("/UseEnv")
        if self.project is not None:
            command += ["/Project", self.project]
        return command

    # -- running -----------------------------------------------------------------------------
    async def setup_log_files(self) -> None:
        logwarnings = await self.addLog("warnings")
        logerrors = await self.addLog("errors")
        self.logobserver = MSLogLineObserver(logwarnings, logerrors)
        self.addLogObserver("stdio", self.logobserver)

    async def run(self) -> int:
        self.command = self.build_command()
        self.setupEnvironment()
        await self.setup_log_files()
        cmd = await self.makeRemoteShellCommand()
        await self.runCommand(cmd)
        await self.finish_logs()
        self.results = self.evaluate_result(cmd)
        return self.results

    async def finish_logs(self) -> None:
        for name in ("warnings", "errors"):
            await self.getLog(name).finish()

    def evaluate_result(self, cmd: Any) -> int:
        obs = self.logobserver
        assert obs is not None
        for name in ("projects", "files", "warnings", "errors"):
            self.setStatistic(name, getattr(obs, "nb" + name.capitalize()))
        if cmd.didFail() or obs.nbErrors:
            return FAILURE
        return WARNINGS if obs.nbWarnings else SUCCESS

    def getResultSummary(self) -> dict[str, str]:
        obs = self.logobserver
        if obs is None:  # skipped, or failed before the command
            return {"step": statusToString(self.results)}
        text = f"compile {obs.nbProjects} projects {obs.nbFiles} files"
        for count, label in ((obs.nbWarnings, "warnings"), (obs.nbErrors, "errors")):
            if count:
                text += f" {count} {label}"
        if self.results != SUCCESS:
            text += f" ({statusToString(self.results)})"
            if self.timed_out:
                text += " (timed out)"
        return {"step": text}


def _under(root: str, table: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(var, root + sub) for var, sub in table]


class VC6(VisualStudio):
    """Visual C++ 6: `msdev <projectfile> /MAKE "<project> - <config>" /REBUILD ...`."""

    default_installdir = "C:\\Program Files\\Microsoft Visual Studio"

    def tool_directories(self) -> list[tuple[str, str]]:
        return _under(self.installdir, [
            ("PATH", "\\Common\\msdev98\\BIN"), ("PATH", "\\VC98\\BIN"),
            ("PATH", "\\Common\\TOOLS\\WINNT"), ("PATH", "\\Common\\TOOLS"),
            ("INCLUDE", "\\VC98\\INCLUDE"), ("INCLUDE", "\\VC98\\ATL\\INCLUDE"),
            ("INCLUDE", "\\VC98\\MFC\\INCLUDE"),
            ("LIB", "\\VC98\\LIB"), ("LIB", "\\VC98\\MFC\\LIB"),
        ])

    def build_command(self) -> list[str]:
        target = self.project if self.project is not None else "ALL"
        command = ["msdev", self.projectfile, "/MAKE", f"{target} - {self.config}",
                   _MSDEV_MODE.get(self.mode, "/BUILD")]
        if self.useenv:
            command.append("/USEENV")
        return command


class VC7(VisualStudio):
    """Visual Studio .NET 2003: `devenv.com <projectfile> /Rebuild <config> ...`."""

    default_installdir = "C:\\Program Files\\Microsoft Visual Studio .NET 2003"

    def tool_directories(self) -> list[tuple[str, str]]:
        return _under(self.installdir, [
            ("PATH", "\\Common7\\IDE"), ("PATH", "\\VC7\\BIN"), ("PATH", "\\Common7\\Tools"),
            ("PATH", "\\Common7\\Tools\\bin"),
            ("INCLUDE", "\\VC7\\INCLUDE"), ("INCLUDE", "\\VC7\\ATLMFC\\INCLUDE"),
            ("INCLUDE", "\\VC7\\PlatformSDK\\include"), ("INCLUDE", "\\SDK\\v1.1\\include"),
            ("LIB", "\\VC7\\LIB"), ("LIB", "\\VC7\\ATLMFC\\LIB"),
            ("LIB", "\\VC7\\PlatformSDK\\lib"), ("LIB", "\\SDK\\v1.1\\lib"),
        ])

    def build_command(self) -> list[str]:
        return self.devenv_command("devenv.com")


VS2003 = VC7


class VC8(VC7):
    """Visual Studio 2005 and later devenv versions; `arch="x64"` adds the amd64 tools."""

    default_installdir = "C:\\Program Files\\Microsoft Visual Studio 8"
    renderables = ("arch",)
    arch: Any = None

    def __init__(self, arch: Any = "x86", **kwargs: Any) -> None:
        self.arch = arch
        super().__init__(**kwargs)

    def tool_directories(self) -> list[tuple[str, str]]:
        x64 = self.arch == "x64"
        lib = "\\amd64" if x64 else ""
        return _under(self.installdir, [
            ("PATH", "\\Common7\\IDE"),
            *([("PATH", "\\VC\\BIN\\x86_amd64")] if x64 else []),
            ("PATH", "\\VC\\BIN"), ("PATH", "\\Common7\\Tools"),
            ("PATH", "\\Common7\\Tools\\bin"), ("PATH", "\\VC\\PlatformSDK\\bin"),
            ("PATH", "\\SDK\\v2.0\\bin"), ("PATH", "\\VC\\VCPackages"),
        ]) + [("PATH", "${PATH}")] + _under(self.installdir, [
            ("INCLUDE", "\\VC\\INCLUDE"), ("INCLUDE", "\\VC\\ATLMFC\\include"),
            ("INCLUDE", "\\VC\\PlatformSDK\\include"),
            ("LIB", "\\VC\\LIB" + lib), ("LIB", "\\VC\\ATLMFC\\LIB" + lib),
            ("LIB", "\\VC\\PlatformSDK\\lib" + lib), ("LIB", "\\SDK\\v2.0\\lib" + lib),
        ])


VS2005 = VC8


class VCExpress9(VC8):
    """Visual C++ 2008 Express: `vcexpress` instead of devenv."""

    def build_command(self) -> list[str]:
        return self.devenv_command("vcexpress")


class VC9(VC8):
    default_installdir = "C:\\Program Files\\Microsoft Visual Studio 9.0"


VS2008 = VC9


class VC10(VC9):
    default_installdir = "C:\\Program Files\\Microsoft Visual Studio 10.0"


VS2010 = VC10


class VC11(VC10):
    default_installdir = "C:\\Program Files\\Microsoft Visual Studio 11.0"


VS2012 = VC11


class VC12(VC11):
    default_installdir = "C:\\Program Files\\Microsoft Visual Studio 12.0"


VS2013 = VC12


class VC14(VC12):
    default_installdir = "C:\\Program Files (x86)\\Microsoft Visual Studio 14.0"


VS2015 = VC14


# These three defaults carry doubled backslashes in 4.3 (raw strings); kept as the surface.
class VC141(VC14):
    default_installdir = r"C:\\Program Files (x86)\\Microsoft Visual Studio\\2017\\Community"


VS2017 = VC141


class VS2019(VS2017):
    default_installdir = r"C:\\Program Files (x86)\\Microsoft Visual Studio\\2019\\Community"


class VS2022(VS2017):
    default_installdir = r"C:\\Program Files (x86)\\Microsoft Visual Studio\\2022\\Community"


def msbuild_arguments(mode: Any, project: Any, defines: Any) -> str:
    """The ` /t:...` target and ` /p:DefineConstants=...` parts of an msbuild command."""
    target = _MSBUILD_TARGET.get(mode)
    text = ""
    if project is not None:
        # a project is built (or rebuilt) by naming it alone
        text = f' /t:"{project}"' if target in (None, "Rebuild") else f' /t:"{project}:{target}"'
    elif target is not None:
        text = f" /t:{target}"
    if defines:
        text += f' /p:DefineConstants="{";".join(defines)}"'
    return text


class _MsBuildMixin:
    """`platform` (mandatory, e.g. "Win32") and `defines` shared by the MsBuild steps."""

    platform: Any = None
    defines: Any = None
    vcenv_bat = ""

    def describe_project(self, done: bool = False) -> str:
        step: Any = self
        project = step.project if step.project is not None else "solution"
        return f"{project} for {step.config}|{step.platform}"

    def msbuild_tail(self) -> str:
        step: Any = self
        return (f'msbuild "{step.projectfile}" /p:Configuration="{step.config}" '
                f'/p:Platform="{step.platform}" /maxcpucount'
                + msbuild_arguments(step.mode, step.project, step.defines))

    def check_platform(self) -> None:
        if self.platform is None:
            config.error('platform is mandatory. Please specify a string such as "Win32"')


class MsBuild4(_MsBuildMixin, VisualStudio):
    """MSBuild of Visual Studio 2012, set up by `vcvarsall.bat` from `%VS110COMNTOOLS%`."""

    renderables = ("platform",)
    description: Any = "building"
    vcenv_bat = r"${VS110COMNTOOLS}..\..\VC\vcvarsall.bat"

    def __init__(self, platform: Any, defines: Any = None, **kwargs: Any) -> None:
        self.platform = platform
        self.defines = defines
        super().__init__(**kwargs)

    def setupEnvironment(self) -> None:
        super().setupEnvironment()
        self.env["VCENV_BAT"] = self.vcenv_bat

    def getCurrentSummary(self) -> dict[str, str]:
        return {"step": "building " + self.describe_project()}

    def getResultSummary(self) -> dict[str, str]:
        return {"step": "built " + self.describe_project()}

    def build_command(self) -> str:
        self.check_platform()
        self.updateSummary()
        return '"%VCENV_BAT%" x86 && ' + self.msbuild_tail()


MsBuild = MsBuild4


class MsBuild12(MsBuild4):
    vcenv_bat = r"${VS120COMNTOOLS}..\..\VC\vcvarsall.bat"


class MsBuild14(MsBuild4):
    vcenv_bat = r"${VS140COMNTOOLS}..\..\VC\vcvarsall.bat"


class MsBuild141(_MsBuildMixin, VisualStudio):
    """MSBuild of Visual Studio 2017 and later, found with `vswhere.exe` in `version_range`."""

    renderables = ("platform",)
    vcenv_bat = r"\VC\Auxiliary\Build\vcvarsall.bat"
    version_range = "[15.0,16.0)"

    def __init__(self, platform: Any, defines: Any = None, **kwargs: Any) -> None:
        self.platform = platform
        self.defines = defines
        super().__init__(**kwargs)

    def setupEnvironment(self) -> None:
        super().setupEnvironment()
        self.env["VCENV_BAT"] = self.vcenv_bat
        for path in ("C:\\Program Files (x86)\\Microsoft Visual Studio\\Installer\\",
                     "C:\\Program Files\\Microsoft Visual Studio\\Installer\\", "${PATH}"):
            self.add_env_path("PATH", path)

    def build_command(self) -> str:
        self.check_platform()
        self.description = "building " + self.describe_project()
        self.descriptionDone = "built " + self.describe_project()
        self.updateSummary()
        return ("FOR /F \"tokens=*\" %%I in ('vswhere.exe -version "
                f"\"{self.version_range}\" -products * -property installationPath') "
                ' do "%%I\\%VCENV_BAT%" x86 && ' + self.msbuild_tail())


MsBuild15 = MsBuild141


class MsBuild16(MsBuild141):
    version_range = "[16.0,17.0)"


class MsBuild17(MsBuild141):
    version_range = "[17.0,18.0)"


__all__ = [
    "VC6",
    "VC7",
    "VC8",
    "VC9",
    "VC10",
    "VC11",
    "VC12",
    "VC14",
    "VC141",
    "VS2003",
    "VS2005",
    "VS2008",
    "VS2010",
    "VS2012",
    "VS2013",
    "VS2015",
    "VS2017",
    "VS2019",
    "VS2022",
    "MSLogLineObserver",
    "MsBuild",
    "MsBuild4",
    "MsBuild12",
    "MsBuild14",
    "MsBuild15",
    "MsBuild16",
    "MsBuild17",
    "MsBuild141",
    "VCExpress9",
    "VisualStudio",
]
