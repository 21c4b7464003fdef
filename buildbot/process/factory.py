"""`BuildFactory`: the ordered list of steps a builder runs (also `util.BuildFactory`).

Steps added to a factory are stored as *step factories* (`IBuildStepFactory`), which build a
fresh step instance for every build, so one step object in master.cfg can serve many builds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from buildbot.interfaces import IBuildStepFactory
from buildbot.util.service import ComparableMixin

# A secret to place on the worker for some steps: (path on the worker, secret value/renderable).
SecretFile = tuple[Any, Any]


def step_factory_of(step: Any) -> Any:
    """The step factory for `step`: a step (anything with `get_step_factory()`) or a factory.

    Raises TypeError for anything else, as the reference does (not a collected config error).
    """
    get_factory = getattr(step, "get_step_factory", None)
    if callable(get_factory) and not isinstance(step, type):
        return get_factory()
    if IBuildStepFactory.providedBy(step):
        return step
    raise TypeError("step must be an instance of a BuildStep")


class BuildFactory(ComparableMixin):
    """The steps of a build, in order, plus build-wide settings.

    Class attributes a subclass (or master.cfg) may override: `workdir` (directory of the
    build on the worker, relative to the builder's directory; a renderable is allowed),
    `useProgress`, and `buildClass` (the class of the build objects `newBuild` creates).
    """

    # None means the process layer's Build class (the reference names it here directly; newBuild
    # resolves it instead, so that importing master.cfg classes stays light).
    buildClass: Any = None
    useProgress = True
    workdir: Any = "build"
    # Predicate (or renderable) deciding whether a build of this factory is skipped.
    skipBuildIf: Any = False
    compare_attrs = ("buildClass", "steps", "useProgress", "workdir")

    def __init__(self, steps: Iterable[Any] | None = None) -> None:
        self.steps: list[Any] = []
        if steps:
            self.addSteps(steps)

    def newBuild(self, requests: Sequence[Any], builder: Any = None) -> Any:
        """Create the build object for `requests` (a list of build requests) on `builder`."""
        cls = self.buildClass
        if cls is None:
            from buildbot.process.build import Build
            cls = Build
        build = cls(list(requests), builder)
        build.useProgress = self.useProgress
        build.workdir = self.workdir
        build.setStepFactories(self.steps)
        return build

    def addStep(self, step: Any) -> None:
        """Append a step (a BuildStep instance or a step factory)."""
        self.steps.append(step_factory_of(step))

    def addSteps(self, steps: Iterable[Any], withSecrets: list[SecretFile] | None = None) -> None:
        """Append several steps; with `withSecrets`, surround them by secret download/removal."""
        with self.withSecrets(withSecrets or []):
            for step in steps:
                self.addStep(step)

    @contextlib.contextmanager
    def withSecrets(self, secrets: list[SecretFile]) -> Iterator[None]:
        """Steps added inside the block run with `secrets` written to files on the worker.

        A step writing the files is added first and a step deleting them (always run) last.
        """
        if not secrets:
            yield
            return
        # Imported here: the step family lives in the steps package, which imports this one.
        from buildbot.steps.download_secret_to_worker import (
            DownloadSecretsToWorker,
            RemoveWorkerFileSecret,
        )

        self.addStep(DownloadSecretsToWorker(secrets))
        yield
        self.addStep(RemoveWorkerFileSecret(secrets))

    def setSkipBuildIf(self, predicate: Callable[[Any], Any] | Any) -> None:
        """Skip builds of this factory when `predicate` (callable(build) or renderable) is
        true."""
        self.skipBuildIf = predicate

    def getConfigDict(self) -> dict[str, Any]:
        """A summary for the web UI."""
        return {"buildClass": self.buildClass, "steps": self.steps,
                "useProgress": self.useProgress, "workdir": self.workdir}


# --- canned factories for common build tools -------------------------------------------------
# Their steps live in the steps package, which imports this module: imported where used.

# "use the default command" (None means "no such step")
_DEFAULT: Any = object()


def _configure_command(configure: Any, flags: list[Any]) -> Any:
    """The configure command with its flags: a list, or the string itself without flags
    (a string runs through the shell, so flags need a single-word string or a list)."""
    if not isinstance(configure, str):
        assert isinstance(configure, (list, tuple))
        return [*configure, *flags]  # (4.3 raises TypeError for a tuple here)
    if not flags:
        return configure
    assert " " not in configure, "please use list instead"
    return [configure, *flags]


class GNUAutoconf(BuildFactory):
    """source, [autoreconf], ./configure, make all, make check, make distcheck; each
    command may be replaced, or dropped with None."""

    def __init__(self, source: Any, configure: Any = "./configure", configureEnv: Any = None,
                 configureFlags: Any = None, reconf: Any = None, compile: Any = _DEFAULT,
                 test: Any = _DEFAULT, distcheck: Any = _DEFAULT) -> None:
        from buildbot.steps.shell import Compile, Configure, ShellCommand, Test

        env = configureEnv if configureEnv is not None else {}
        super().__init__([source])
        reconf = ["autoreconf", "-si"] if reconf is True else reconf
        stages: list[tuple[Any, Any, dict[str, Any]]] = [
            (ShellCommand, reconf, {"name": "autoreconf"}),
            (Configure, None if configure is None
             else _configure_command(configure, list(configureFlags or [])), {}),
        ]
        for step_class, given, default in ((Compile, compile, ["make", "all"]),
                                           (Test, test, ["make", "check"]),
                                           (Test, distcheck, ["make", "distcheck"])):
            stages.append((step_class, default if given is _DEFAULT else given, {}))
        for step_class, command, extra in stages:
            if command is not None:
                self.addStep(step_class(**extra, command=command, env=env))


class CPAN(BuildFactory):
    """A Perl module: source, `perl Makefile.PL`, `make`, `make test` (read as prove output)."""

    def __init__(self, source: Any, perl: str = "perl") -> None:
        from buildbot.steps.shell import Compile, Configure, PerlModuleTest

        super().__init__([source])
        self.addStep(Configure(command=[perl, "Makefile.PL"]))
        self.addStep(Compile(command=["make"]))
        self.addStep(PerlModuleTest(command=["make", "test"]))


class Distutils(BuildFactory):
    """Deprecated since Buildbot 4.0: source, `python ./setup.py build`, optional `test`."""

    def __init__(self, source: Any, python: str = "python", test: Any = None) -> None:
        import warnings

        from buildbot.steps.shell import Compile, Test

        warnings.warn("buildbot.process.factory.Distutils was deprecated in buildbot 4.0.0",
                      DeprecationWarning, stacklevel=2)
        super().__init__([source])
        self.addStep(Compile(command=[python, "./setup.py", "build"]))
        if test is not None:
            self.addStep(Test(command=test))


class Trial(BuildFactory):
    """A Python package tested with trial: source, `python ./setup.py build`, trial on
    `tests` (or on the changed files, with `useTestCaseNames`)."""

    trial = "trial"
    randomly = False
    recurse = False

    def __init__(self, source: Any, buildpython: Any = None, trialpython: Any = None,
                 trial: Any = None, testpath: Any = ".", randomly: Any = None,
                 recurse: Any = None, tests: Any = None, useTestCaseNames: bool = False,
                 env: Any = None) -> None:
        from buildbot.steps.python_twisted import Trial as TrialStep
        from buildbot.steps.shell import Compile

        super().__init__([source])
        assert tests or useTestCaseNames, "must use one or the other"
        for attr, value in (("trial", trial), ("randomly", randomly), ("recurse", recurse)):
            if value is not None:
                setattr(self, attr, value)
        build_python = buildpython if buildpython is not None else ["python"]
        self.addStep(Compile(command=[*build_python, "./setup.py", "build"], env=env))
        self.addStep(TrialStep(python=trialpython if trialpython is not None else [],
                               trial=self.trial, testpath=testpath, tests=tests,
                               testChanges=useTestCaseNames, randomly=self.randomly,
                               recurse=self.recurse, env=env))


# The reference keeps this name for old configurations.
ConfigurableBuildFactory = BuildFactory


class BasicBuildFactory(GNUAutoconf):
    """GNUAutoconf from a CVS checkout (full clobber, or copy with `cvsCopy`)."""

    def __init__(self, cvsroot: Any, cvsmodule: Any, configure: Any = None,
                 configureEnv: Any = None, compile: Any = "make all", test: Any = "make check",
                 cvsCopy: bool = False) -> None:
        from buildbot.steps.source.cvs import CVS

        source = CVS(cvsroot=cvsroot, cvsmodule=cvsmodule, mode="full",
                     method="copy" if cvsCopy else "clobber")
        super().__init__(source, configure=configure, configureEnv=configureEnv or {},
                         compile=compile, test=test)


class QuickBuildFactory(BasicBuildFactory):
    """Meant as an incremental BasicBuildFactory; not constructible in the reference."""

    useProgress = False

    def __init__(self, cvsroot: Any, cvsmodule: Any, configure: Any = None,
                 configureEnv: Any = None, compile: Any = "make all", test: Any = "make check",
                 cvsCopy: bool = False) -> None:
        # Buildbot 4.3 hands its CVS step to BasicBuildFactory in place of `cvsroot` and
        # leaves `cvsmodule` out, so constructing it always fails; configurations using it
        # fail here the same way.
        raise TypeError("BasicBuildFactory.__init__() missing 1 required positional argument: "
                        "'cvsmodule'")


class BasicSVN(GNUAutoconf):
    """GNUAutoconf from an incremental SVN checkout of `svnurl`."""

    def __init__(self, svnurl: Any, configure: Any = None, configureEnv: Any = None,
                 compile: Any = "make all", test: Any = "make check") -> None:
        from buildbot.steps.source.svn import SVN

        # The reference passes `svnurl=`, which its SVN step rejects (it takes `repourl`):
        # the same configuration error results here.
        source = SVN(svnurl=svnurl, mode="incremental")
        super().__init__(source, configure=configure, configureEnv=configureEnv or {},
                         compile=compile, test=test)


def s(steptype: Any, **kwargs: Any) -> Any:
    """Old helper kept for configurations written for Buildbot 0.8: `steptype(**kwargs)`."""
    return steptype(**kwargs)
