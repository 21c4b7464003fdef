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

    def setSkipBuildIf(self, skipBuildIf: Callable[[Any], Any] | Any) -> None:
        """Skip builds of this factory when `skipBuildIf` (callable(build) or renderable) is true."""
        self.skipBuildIf = skipBuildIf

    def getConfigDict(self) -> dict[str, Any]:
        """A summary for the web UI."""
        return {"buildClass": self.buildClass, "steps": self.steps,
                "useProgress": self.useProgress, "workdir": self.workdir}
