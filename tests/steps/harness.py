"""Run real builds of a few steps on an in-process master with a LocalWorker.

    outcome = await run_build(tmp_path, [steps.ShellCommand(command="true")])
    outcome.results, outcome.state_string, outcome.steps[1].logs["stdio"], outcome.props

`outcome.steps` includes the `worker_preparation` step first, as the data API lists it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from buildbot.plugins import schedulers, util, worker
from tests.fixtures.master import running_master, wait_for_message


@dataclass
class StepOutcome:
    name: str
    results: int | None
    state_string: str
    hidden: bool
    logs: dict[str, str] = field(default_factory=dict)
    urls: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BuildOutcome:
    results: int | None
    state_string: str
    steps: list[StepOutcome]
    props: dict[str, Any]
    prop_sources: dict[str, str]
    worker_dir: Path
    master_dir: Path

    def step(self, name: str) -> StepOutcome:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"no step {name!r} in {[s.name for s in self.steps]}")

    @property
    def summary(self) -> list[tuple[str, int | None, str]]:
        """(name, results, state_string) of every step after worker_preparation."""
        return [(s.name, s.results, s.state_string) for s in self.steps[1:]]


def make_config(build_steps: list[Any], *, properties: dict[str, Any] | None = None,
                builder_kwargs: dict[str, Any] | None = None,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "workers": [worker.LocalWorker("local")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b0"])],
        "builders": [util.BuilderConfig(name="b0", workernames=["local"],
                                        factory=util.BuildFactory(list(build_steps)),
                                        **(builder_kwargs or {}))],
        "properties": dict(properties or {}),
    }
    cfg.update(extra or {})
    return cfg


async def collect_build(master: Any, buildid: int) -> BuildOutcome:
    build = await master.data.get(("builds", buildid))
    steps_out = []
    for s in await master.data.get(("builds", buildid, "steps")):
        logs = {}
        for lg in await master.data.get(("steps", s["stepid"], "logs")):
            content = await master.data.get(("logs", lg["logid"], "contents"))
            logs[lg["name"]] = content["content"] if content else ""
        steps_out.append(StepOutcome(s["name"], s["results"], s["state_string"], s["hidden"],
                                     logs, list(s.get("urls") or [])))
    props = await master.data.get(("builds", buildid, "properties")) or {}
    return BuildOutcome(
        build["results"], build["state_string"], steps_out,
        {k: v[0] for k, v in props.items()}, {k: v[1] for k, v in props.items()},
        Path(master.basedir) / "workers" / "local" / "b0", Path(master.basedir))


async def force_build(master: Any, builder: str = "b0") -> BuildOutcome:
    done = wait_for_message(master, ("buildsets", None, "complete"), timeout=60)
    await master.data.control("force", {"builderNames": [builder], "owner": "me"},
                                        ("forceschedulers", "force"))
    await done
    builds = await master.data.get(("builds",))
    return await collect_build(master, builds[-1]["buildid"])


async def run_build(tmp_path: Path, build_steps: list[Any],
                    before: Callable[[Path], Any] | None = None, **kw: Any) -> BuildOutcome:
    """One forced build of `build_steps` on a fresh master; `before(worker_builder_dir)` may
    prepare files in the worker's builder directory first."""
    cfg = make_config(build_steps, **kw)
    async with running_master(tmp_path / "master", cfg) as master:
        if before is not None:
            wdir = Path(master.basedir) / "workers" / "local" / "b0"
            wdir.mkdir(parents=True, exist_ok=True)
            before(wdir)
        return await force_build(master)


def stdout_of(log: str) -> str:
    """The stdout lines of a stdio log's content, without their stream prefix."""
    return "".join(line[1:] + "\n" for line in log.splitlines() if line.startswith("o"))


def headers_of(log: str) -> str:
    return "".join(line[1:] + "\n" for line in log.splitlines() if line.startswith("h"))
