"""Resolving the many ways a path names a builder, build, step or log.

`/builders/s:buildername/builds/n:build_number/steps/i:step_name/logs/i:log_slug` names a log
through four lookups; `NestedLookup` performs each lookup at most once per request and stops
at the first one that finds nothing.
"""

from __future__ import annotations

from typing import Any

_UNSET: Any = object()


class NestedLookup:
    """Lazily resolves the objects named by path arguments (`builderid`, `buildername`,
    `buildid`, `build_number`, `stepid`, `step_name`, `step_number`, `logid`, `log_slug`).

    Each accessor returns a database row or None; every row is fetched at most once.
    """

    __slots__ = ("_args", "_build", "_builder", "_db", "_log", "_step", "_worker")

    def __init__(self, db: Any, args: dict[str, Any]) -> None:
        self._db = db
        self._args = args
        self._builder: Any = _UNSET
        self._build: Any = _UNSET
        self._step: Any = _UNSET
        self._log: Any = _UNSET
        self._worker: Any = _UNSET

    async def builder_id(self) -> int | None:
        """The builder's id; a builder name is looked up without creating it."""
        if "builderid" in self._args:
            return int(self._args["builderid"])
        if "buildername" in self._args:
            found = await self._db.builders.findBuilderId(self._args["buildername"],
                                                         autoCreate=False)
            return None if found is None else int(found)
        build = await self.build()
        return None if build is None else int(build.builderid)

    async def builder(self) -> Any:
        if self._builder is _UNSET:
            builderid = await self.builder_id()
            self._builder = None if builderid is None else \
                await self._db.builders.getBuilder(builderid)
        return self._builder

    async def build_id(self) -> int | None:
        if "buildid" in self._args:
            return int(self._args["buildid"])
        build = await self.build()
        return None if build is None else int(build.id)

    async def build(self) -> Any:
        if self._build is not _UNSET:
            return self._build
        args = self._args
        build = None
        if "buildid" in args:
            build = await self._db.builds.getBuild(args["buildid"])
        elif "build_number" in args:
            builderid = await self.builder_id()
            if builderid is not None:
                build = await self._db.builds.getBuildByNumber(builderid, args["build_number"])
        else:
            step = await self.step()
            if step is not None:
                build = await self._db.builds.getBuild(step.buildid)
        self._build = build
        return build

    async def step(self) -> Any:
        if self._step is not _UNSET:
            return self._step
        args = self._args
        step = None
        if "stepid" in args:
            step = await self._db.steps.getStep(stepid=args["stepid"])
        elif "step_name" in args or "step_number" in args:
            # The build is resolved first (but never from the step: no recursion here).
            if "buildid" in args or "build_number" in args:
                buildid = await self.build_id()
                if buildid is not None:
                    step = await self._db.steps.getStep(
                        buildid=buildid, number=args.get("step_number"),
                        name=args.get("step_name"))
        elif "logid" in args:
            log = await self.log()
            if log is not None:
                step = await self._db.steps.getStep(stepid=log.stepid)
        self._step = step
        return step

    async def log(self) -> Any:
        if self._log is not _UNSET:
            return self._log
        log = None
        if "logid" in self._args:
            log = await self._db.logs.getLog(self._args["logid"])
        else:
            step = await self.step()
            if step is not None:
                log = await self._db.logs.getLogBySlug(step.id, self._args.get("log_slug"))
        self._log = log
        return log

    async def worker(self) -> Any:
        """The worker that ran the build, if any."""
        if self._worker is _UNSET:
            build = await self.build()
            worker = None
            if build is not None and build.workerid is not None:
                worker = await self._db.workers.getWorker(workerid=build.workerid)
            self._worker = worker
        return self._worker
