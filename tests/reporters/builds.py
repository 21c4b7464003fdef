"""Helpers for reporter tests: a master config with a LocalWorker, a force scheduler and
builders, and a forced build that waits for its buildset to complete."""

from __future__ import annotations

from twisted.internet import defer

from pathlib import Path
from typing import Any

from buildbot.plugins import schedulers, steps, util, worker
from tests.fixtures.master import wait_for_message

BUILDBOT_URL = "http://bb.example.org/"


def master_config(*services: Any, builders: tuple[str, ...] = ("b0",),
                  fail: tuple[str, ...] = (), tags: dict[str, list[str]] | None = None,
                  properties: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """Builders echo (or `exit 1` for those in `fail`), all with builder `properties`;
    `services` go in c['services']."""
    def factory(name: str) -> Any:
        cmd = "exit 1" if name in fail else "echo hello"
        return util.BuildFactory([steps.ShellCommand(command=cmd, name="run")])

    cfg = {
        "title": "Reporting",
        "buildbotURL": BUILDBOT_URL,
        "workers": [worker.LocalWorker("local")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=list(builders))],
        "builders": [util.BuilderConfig(name=n, workernames=["local"], factory=factory(n),
                                        tags=(tags or {}).get(n), properties=properties)
                     for n in builders],
        "services": list(services),
    }
    cfg.update(extra)
    return cfg


def secrets_dir(base: Path, **values: str) -> str:
    """A SecretInAFile directory holding `values` (files readable by the owner only)."""
    d = base / "secrets"
    d.mkdir(exist_ok=True)
    for name, value in values.items():
        path = d / name
        path.write_text(value + "\n")
        path.chmod(0o600)
    return str(d)


async def force(master: Any, builders: list[str] | None = None, wait: bool = True,
                **params: Any) -> dict[str, Any]:
    """Force a build (params: repository, revision, branch, project, reason...) and
    return the completed buildset."""
    done = wait_for_message(master, ("buildsets", None, "complete"))
    args = {"builderNames": builders or ["b0"], "owner": "me <me@example.org>", **params}
    bsid, _ = await master.data.control("force", args, ("forceschedulers", "force"))
    if not wait:
        done.addErrback(lambda f: f.trap(defer.CancelledError))
        done.cancel()
        return {"bsid": bsid}
    await done
    return await master.data.get(("buildsets", bsid))
