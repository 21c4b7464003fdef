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

    # What a line can be, tried in order; the first match wins:
    # (pattern, counter attribute, progress metric or None, [(log attribute, add method)]).
    _line_kinds: Sequence[tuple[re.Pattern[str], str, str | None, Sequence[tuple[str, str]]]] = (
        (re.compile(r"^(\d+>)?-{5}.+-{5}$"), "nbProjects", "projects",
         (("logwarnings", "addStdout"), ("logerrors", "addStdout"))),
        (re.compile(r"^(\d+>)?[^ ]+\.(cpp|c)$"), "nbFiles", "files", ()),
        (re.compile(r" ?: warning [A-Z]+[0-9]+:"), "nbWarnings", "warnings",
         (("logwarnings", "addStdout"),)),
        # the compiler gives no progress for errors
        (re.compile(r" ?error ([A-Z]+[0-9]+)?\s?: "), "nbErrors", None,
         (("logerrors", "addStderr"),)),
    )

    # class-level zeros and Nones, as 4.3 exposes them before any observer exists
    nbFiles = 0
    nbProjects = 0
    nbWarnings = 0
    nbErrors = 0
    logwarnings: Any = None
    logerrors: Any = None

    def __init__(self, logwarnings: Any, logerrors: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.logwarnings = logwarnings
        self.logerrors = logerrors

    def outLineReceived(self, line: str) -> None:
        text = line.rstrip("\r")  # Windows workers end lines with CRLF
        kind = next((k for k in self._line_kinds if k[0].search(text)), None)
        if kind is None:
            return
        _, counter, metric, copies = kind
        count = getattr(self, counter) + 1
        setattr(self, counter, count)
        for log_attr, method in copies:
            getattr(getattr(self, log_attr), method)(text + "\n")
        if metric is not None:
            self.step.setProgress(metric, count)


# devenv-style switch for each `mode`; anything else builds.
_DEVENV_MODE = {"rebuild": "/Rebuild", "clean": "/Clean"}
_MSDEV_MODE = {"rebuild": "/REBUILD", "clean": "/CLEAN"}
_MSBUILD_TARGET = {"clean": "Clean", "build": "Build", "rebuild": "Rebuild"}


class VisualStudio(buildstep.ShellMixin, buildstep.BuildStep):
    """Abstract base: environment set-up, output counting, results and summary.

    A subclass names its tool directories (`tool_directories`) and its command line
    (`build_command`); the base does the rest."""

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
        kwargs = self.setupShellMixin(kwargs, prohibitArgs=["command"])
        super().__init__(**kwargs)
        self.installdir, self.mode, self.config = installdir, mode, config
        self.projectfile, self.project = projectfile, project
        # extra INCLUDE or LIB directories only reach the compiler through /USEENV
        self.useenv = bool(useenv or INCLUDE or LIB)
        for var, dirs in (("PATH", PATH), ("INCLUDE", INCLUDE), ("LIB", LIB)):
            if dirs:  # an empty list keeps the class's own
                setattr(self, var, list(dirs))

    # -- environment -----------------------------------------------------------------------
    def add_env_path(self, name: str, value: str) -> None:
        """Append `value` to the ';'-separated variable `name` of the step's environment."""
        parts = [p for p in (self.env.get(name), value) if p is not None]
        self.env[name] = "".join(p if p.endswith(";") else p + ";" for p in parts)

    def tool_directories(self) -> list[tuple[str, str]]:
        """(variable, directory) pairs of the tool itself, after the user's ones."""
        return []

    def setupEnvironment(self) -> None:
        # a copy: the dict given in master.cfg is shared by every build of the step
        self.env = dict(self.env or {})
        self.installdir = self.installdir or self.default_installdir
        user_dirs = [(var, path) for var in ("PATH", "INCLUDE", "LIB")
                     for path in getattr(self, var)]
        for var, path in user_dirs + self.tool_directories():
            self.add_env_path(var, path)

    # -- command -----------------------------------------------------------------------------
    def build_command(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} is abstract")

    def devenv_command(self, program: str) -> list[str]:
        """`program <projectfile> /Rebuild|/Clean|/Build <config> [/UseEnv] [/Project p]`."""
        tail = (["/UseEnv"] if self.useenv else []) + (
            [] if self.project is None else ["/Project", self.project])
        return [program, self.projectfile, _DEVENV_MODE.get(self.mode, "/Build"), self.config,
                *tail]

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
        try:
            await self.runCommand(cmd)
        finally:  # a lost worker must not leave the two logs open
            await self.finish_logs()
        self.results = self.evaluate_result(cmd)
        return self.results

    async def finish_logs(self) -> None:
        for name in ("warnings", "errors"):
            await self.getLog(name).finish()

    def evaluate_result(self, cmd: Any) -> int:
        obs = self.logobserver
        assert obs is not None
        counts = {"projects": obs.nbProjects, "files": obs.nbFiles,
                  "warnings": obs.nbWarnings, "errors": obs.nbErrors}
        for name, value in counts.items():
            self.setStatistic(name, value)
        if cmd.didFail() or counts["errors"]:
            return FAILURE
        return WARNINGS if counts["warnings"] else SUCCESS

    def getResultSummary(self) -> dict[str, str]:
        obs = self.logobserver
        if obs is None:  # skipped, or failed before the command
            return {"step": statusToString(self.results)}
        words = [f"compile {obs.nbProjects} projects {obs.nbFiles} files"]
        words += [f"{n} {label}" for n, label in ((obs.nbWarnings, "warnings"),
                                                  (obs.nbErrors, "errors")) if n]
        if self.results != SUCCESS:
            words.append(f"({statusToString(self.results)})")
            words += ["(timed out)"] if self.timed_out else []
        return {"step": " ".join(words)}


def _under(root: str, table: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(var, root + sub) for var, sub in table]


class VC6(VisualStudio):
    """Visual C++ 6: `msdev <projectfile> /MAKE "<project> - <config>" /REBUILD ...`."""

    default_installdir = "C:\\Program Files\\Microsoft Visual Studio"
    _dirs = (("PATH", "\\Common\\msdev98\\BIN"), ("PATH", "\\VC98\\BIN"),
             ("PATH", "\\Common\\TOOLS\\WINNT"), ("PATH", "\\Common\\TOOLS"),
             ("INCLUDE", "\\VC98\\INCLUDE"), ("INCLUDE", "\\VC98\\ATL\\INCLUDE"),
             ("INCLUDE", "\\VC98\\MFC\\INCLUDE"),
             ("LIB", "\\VC98\\LIB"), ("LIB", "\\VC98\\MFC\\LIB"))

    def tool_directories(self) -> list[tuple[str, str]]:
        return _under(self.installdir, self._dirs)

    def build_command(self) -> list[str]:
        target = "ALL" if self.project is None else self.project
        return ["msdev", self.projectfile, "/MAKE", f"{target} - {self.config}",
                _MSDEV_MODE.get(self.mode, "/BUILD"), *(["/USEENV"] if self.useenv else [])]


class VC7(VisualStudio):
    """Visual Studio .NET 2003: `devenv.com <projectfile> /Rebuild <config> ...`."""

    default_installdir = "C:\\Program Files\\Microsoft Visual Studio .NET 2003"
    _dirs = (("PATH", "\\Common7\\IDE"), ("PATH", "\\VC7\\BIN"), ("PATH", "\\Common7\\Tools"),
             ("PATH", "\\Common7\\Tools\\bin"),
             ("INCLUDE", "\\VC7\\INCLUDE"), ("INCLUDE", "\\VC7\\ATLMFC\\INCLUDE"),
             ("INCLUDE", "\\VC7\\PlatformSDK\\include"), ("INCLUDE", "\\SDK\\v1.1\\include"),
             ("LIB", "\\VC7\\LIB"), ("LIB", "\\VC7\\ATLMFC\\LIB"),
             ("LIB", "\\VC7\\PlatformSDK\\lib"), ("LIB", "\\SDK\\v1.1\\lib"))

    def tool_directories(self) -> list[tuple[str, str]]:
        return _under(self.installdir, self._dirs)

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
        lib = "\\amd64" if x64 else ""  # the 64-bit libraries live one level down
        cross = [("PATH", "\\VC\\BIN\\x86_amd64")] if x64 else []
        tools = [("PATH", "\\Common7\\IDE"), *cross, ("PATH", "\\VC\\BIN"),
                 ("PATH", "\\Common7\\Tools"), ("PATH", "\\Common7\\Tools\\bin"),
                 ("PATH", "\\VC\\PlatformSDK\\bin"), ("PATH", "\\SDK\\v2.0\\bin"),
                 ("PATH", "\\VC\\VCPackages")]
        headers = [("INCLUDE", "\\VC\\INCLUDE"), ("INCLUDE", "\\VC\\ATLMFC\\include"),
                   ("INCLUDE", "\\VC\\PlatformSDK\\include")]
        libs = [("LIB", sub + lib) for sub in ("\\VC\\LIB", "\\VC\\ATLMFC\\LIB",
                                               "\\VC\\PlatformSDK\\lib", "\\SDK\\v2.0\\lib")]
        # the worker's own PATH follows the tools, before the headers and libraries
        return (_under(self.installdir, tools) + [("PATH", "${PATH}")]
                + _under(self.installdir, headers + libs))


VS2005 = VC8


class VCExpress9(VC8):
    """Visual C++ 2008 Express: `vcexpress` instead of devenv."""

    def build_command(self) -> list[str]:
        return self.devenv_command("vcexpress")


def msbuild_arguments(mode: Any, project: Any, defines: Any) -> str:
    """The ` /t:...` target and ` /p:DefineConstants=...` parts of an msbuild command."""
    target = _MSBUILD_TARGET.get(mode)
    parts = []
    if project is None:
        parts += [] if target is None else [f"/t:{target}"]
    else:
        # a project is built (or rebuilt) by naming it alone
        parts.append(f'/t:"{project}"' if target in (None, "Rebuild")
                     else f'/t:"{project}:{target}"')
    if defines:
        parts.append(f'/p:DefineConstants="{";".join(defines)}"')
    return "".join(" " + p for p in parts)


class _MsBuildStep(VisualStudio):
    """What the MsBuild steps share: `platform` (mandatory, e.g. "Win32"), `defines`, and a
    `VCENV_BAT` variable naming the vcvarsall.bat that sets up the compiler."""

    renderables = ("platform",)
    platform: Any = None
    defines: Any = None
    vcenv_bat = ""

    def set_platform(self, platform: Any, defines: Any) -> None:
        self.platform = platform
        self.defines = defines

    def setupEnvironment(self) -> None:
        super().setupEnvironment()
        self.env["VCENV_BAT"] = self.vcenv_bat

    def describe_project(self, done: bool = False) -> str:
        project = "solution" if self.project is None else self.project
        return f"{project} for {self.config}|{self.platform}"

    def launcher(self) -> str:
        """The part of the command line that runs vcvarsall.bat before msbuild."""
        raise NotImplementedError(f"{type(self).__name__} is abstract")

    def build_command(self) -> str:
        if self.platform is None:
            config.error('platform is mandatory. Please specify a string such as "Win32"')
        self.updateSummary()
        return (f'{self.launcher()} && msbuild "{self.projectfile}" '
                f'/p:Configuration="{self.config}" /p:Platform="{self.platform}" /maxcpucount'
                + msbuild_arguments(self.mode, self.project, self.defines))


class MsBuild4(_MsBuildStep):
    """MSBuild of Visual Studio 2012, set up by `vcvarsall.bat` from `%VS110COMNTOOLS%`."""

    description: Any = "building"
    vcenv_bat = r"${VS110COMNTOOLS}..\..\VC\vcvarsall.bat"

    # each concrete family keeps its own __init__: a missing platform is reported by 4.3 as
    # "MsBuild4.__init__() missing ..." / "MsBuild141.__init__() missing ..."
    def __init__(self, platform: Any, defines: Any = None, **kwargs: Any) -> None:
        self.set_platform(platform, defines)
        super().__init__(**kwargs)

    def getCurrentSummary(self) -> dict[str, str]:
        return {"step": "building " + self.describe_project()}

    def getResultSummary(self) -> dict[str, str]:
        return {"step": "built " + self.describe_project()}

    def launcher(self) -> str:
        return '"%VCENV_BAT%" x86'


MsBuild = MsBuild4


class MsBuild141(_MsBuildStep):
    """MSBuild of Visual Studio 2017 and later, found with `vswhere.exe` in `version_range`."""

    vcenv_bat = r"\VC\Auxiliary\Build\vcvarsall.bat"
    version_range = "[15.0,16.0)"

    def __init__(self, platform: Any, defines: Any = None, **kwargs: Any) -> None:
        self.set_platform(platform, defines)
        super().__init__(**kwargs)
    _installer_dirs = ("C:\\Program Files (x86)\\Microsoft Visual Studio\\Installer\\",
                       "C:\\Program Files\\Microsoft Visual Studio\\Installer\\", "${PATH}")

    def setupEnvironment(self) -> None:
        super().setupEnvironment()
        for path in self._installer_dirs:  # where vswhere.exe is
            self.add_env_path("PATH", path)

    def build_command(self) -> str:
        # set before the base updates the summary with them
        self.description = "building " + self.describe_project()
        self.descriptionDone = "built " + self.describe_project()
        return super().build_command()

    def launcher(self) -> str:
        return ("FOR /F \"tokens=*\" %%I in ('vswhere.exe -version "
                f"\"{self.version_range}\" -products * -property installationPath') "
                ' do "%%I\\%VCENV_BAT%" x86')


MsBuild15 = MsBuild141


# The later releases differ from their parent only in class attributes: one row each,
# (class name, parent, attributes, other names of the class). The classes are made at
# import as module globals with their own __qualname__, so that they import, pickle and
# print like hand-written ones.
_VS_DIR = "C:\\Program Files\\Microsoft Visual Studio {}"
_VS_DIR_X86 = "C:\\Program Files (x86)\\Microsoft Visual Studio {}"
# 4.3 writes these with doubled backslashes (raw strings); kept, being the visible default
_VS_COMMUNITY = r"C:\\Program Files (x86)\\Microsoft Visual Studio\\{}\\Community"


def _comntools_bat(version: int) -> str:
    return rf"${{VS{version}COMNTOOLS}}..\..\VC\vcvarsall.bat"


def _vswhere_range(major: int) -> str:
    return f"[{major}.0,{major + 1}.0)"


_RELEASES: Sequence[tuple[str, str, dict[str, str], Sequence[str]]] = (
    ("VC9", "VC8", {"default_installdir": _VS_DIR.format("9.0")}, ("VS2008",)),
    ("VC10", "VC9", {"default_installdir": _VS_DIR.format("10.0")}, ("VS2010",)),
    ("VC11", "VC10", {"default_installdir": _VS_DIR.format("11.0")}, ("VS2012",)),
    ("VC12", "VC11", {"default_installdir": _VS_DIR.format("12.0")}, ("VS2013",)),
    ("VC14", "VC12", {"default_installdir": _VS_DIR_X86.format("14.0")}, ("VS2015",)),
    ("VC141", "VC14", {"default_installdir": _VS_COMMUNITY.format(2017)}, ("VS2017",)),
    ("VS2019", "VC141", {"default_installdir": _VS_COMMUNITY.format(2019)}, ()),
    ("VS2022", "VC141", {"default_installdir": _VS_COMMUNITY.format(2022)}, ()),
    ("MsBuild12", "MsBuild4", {"vcenv_bat": _comntools_bat(120)}, ()),
    ("MsBuild14", "MsBuild4", {"vcenv_bat": _comntools_bat(140)}, ()),
    ("MsBuild16", "MsBuild141", {"version_range": _vswhere_range(16)}, ()),
    ("MsBuild17", "MsBuild141", {"version_range": _vswhere_range(17)}, ()),
)


def _make_releases() -> None:
    namespace = globals()
    for name, parent_name, attrs, aliases in _RELEASES:
        parent = namespace[parent_name]
        doc = f"{parent_name} with " + ", ".join(f"{k}={v!r}" for k, v in attrs.items())
        cls = type(parent)(name, (parent,), {"__module__": __name__, "__qualname__": name,
                                             "__doc__": doc, **attrs})
        for public_name in (name, *aliases):
            namespace[public_name] = cls


_make_releases()

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
