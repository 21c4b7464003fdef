"""Loaders for the component lists of `BuildmasterConfig`: workers, builders, schedulers,
change sources, services, machines, projects, codebases, secret providers, user managers.

Components are checked by what they provide (the zope interfaces of `buildbot.interfaces`,
`BuilderConfig`, `BuildbotService`), never by module, so third-party classes work.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

from buildbot.config.builder import BuilderConfig
from buildbot.config.errors import error
from buildbot.interfaces import IChangeSource, IMachine, IScheduler, IWorker
from buildbot.util.identifiers import isIdentifier
from buildbot.util.service import BuildbotService
from buildbot.warnings import ConfigWarning

if TYPE_CHECKING:
    from buildbot.config.master import MasterConfig

RESERVED_WORKER_NAMES = ("debug", "change", "status")
WORKER_NAME_MAX_LENGTH = 50


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def is_service(obj: Any) -> bool:
    """True if `obj` can go in `c['services']`."""
    return isinstance(obj, BuildbotService)


def load_secrets(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['secretsProviders']`: consulted in order when a secret is rendered."""
    if "secretsProviders" not in d:
        return
    providers = d["secretsProviders"]
    if not isinstance(providers, list):
        error("c['secretsProviders'] must be a list")
        return
    config.secretsProviders = providers


def load_schedulers(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['schedulers']`, stored by name (a later duplicate replaces the earlier one)."""
    if "schedulers" not in d:
        return
    schedulers = d["schedulers"]
    msg = "c['schedulers'] must be a list of Scheduler instances"
    if not _is_sequence(schedulers) or not all(IScheduler.providedBy(s) for s in schedulers):
        error(msg)
        return
    seen: set[str] = set()
    for s in schedulers:
        name: Any = getattr(s, "name", None)
        if name in seen:
            error(f"scheduler name '{name}' used multiple times")
        seen.add(name)
        config.schedulers[name] = s


def _project_class() -> type | None:
    try:
        from buildbot.process.project import Project
    except ImportError:  # not written yet: nothing can be a Project then
        return None
    cls: type = Project
    return cls


def _codebase_class() -> type | None:
    try:
        from buildbot.process.codebase import Codebase
    except ImportError:  # not written yet: nothing can be a Codebase then
        return None
    cls: type = Codebase
    return cls


def _load_typed_list(d: dict[str, Any], key: str, cls: type | None, what: str) -> list[Any]:
    """Elements of `d[key]` that are `cls` instances; others reported as not a `what` config."""
    values = d[key]
    if not _is_sequence(values):
        error(f"c['{key}'] must be a list")
        return []
    kept = []
    for value in values:
        if cls is not None and isinstance(value, cls):
            kept.append(value)
        else:
            error(f"{value!r} is not a {what} config (in c['{key}']")
    return kept


def load_projects(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['projects']` (`util.Project`); duplicates are reported by the cross-checks."""
    if "projects" in d:
        config.projects = _load_typed_list(d, "projects", _project_class(), "project")


def load_codebases(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['codebases']` (`util.Codebase`), each naming a configured project."""
    if "codebases" not in d:
        return
    codebases = _load_typed_list(d, "codebases", _codebase_class(), "codebase")
    project_names = {p.name for p in config.projects}
    for codebase in codebases:
        if codebase.project not in project_names:
            error(f"{codebase!r} includes unknown project name {codebase.project} "
                  "(in c['codebases']")
    config.codebases = codebases


def load_builders(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['builders']`: BuilderConfig objects, or dicts of BuilderConfig keyword arguments."""
    if "builders" not in d:
        return
    builders = d["builders"]
    if not _is_sequence(builders):
        error("c['builders'] must be a list")
        return
    for index, b in enumerate(builders):
        if isinstance(b, dict):
            try:
                b = BuilderConfig(**b)
            except TypeError as e:
                error(f"c['builders'][{index}] is a dict of arguments BuilderConfig does not "
                      f"accept: {e}")
                continue
        elif not isinstance(b, BuilderConfig):
            error(f"{b!r} is not a builder config (in c['builders']")
            continue
        if os.path.isabs(b.builddir):
            warnings.warn(f"Absolute path '{b.builddir}' for builder may cause mayhem. Perhaps "
                          "you meant to specify workerbuilddir instead.",
                          category=ConfigWarning, stacklevel=2)
        config.builders.append(b)


def worker_name_errors(name: Any) -> list[str]:
    """What is wrong with a worker name (empty list if nothing)."""
    if name in RESERVED_WORKER_NAMES:
        return [f"worker name '{name}' is reserved"]
    problems = []
    # The identifier rule without its length part: length has its own message.
    if not isIdentifier(max(len(name), 1) if isinstance(name, str) else 1, name):
        problems.append(f"worker name '{name}' is not an identifier")
    if name == "":
        problems.append(f"worker name '{name}' cannot be an empty string")
    if isinstance(name, str) and len(name) > WORKER_NAME_MAX_LENGTH:
        problems.append(f"worker name '{name}' is longer than {WORKER_NAME_MAX_LENGTH} characters")
    return problems


def load_workers(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['workers']`: objects providing IWorker with valid names.

    Unlike the reference, which drops the whole list at the first bad worker (then reporting
    every builder as using unknown workers), each bad worker is reported and only it dropped.
    """
    if "workers" not in d:
        return
    workers = d["workers"]
    if not _is_sequence(workers):
        error("c['workers'] must be a list")
        return
    for w in workers:
        if not IWorker.providedBy(w):
            error(f"c['workers'] must be a list of Worker instances but there is {w!r}")
            continue
        problems = worker_name_errors(getattr(w, "name", None))
        for msg in problems:
            error(msg)
        if not problems:
            config.workers.append(w)


def load_change_sources(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['change_source']`: one change source or a list of them."""
    if "change_source" not in d:
        return
    sources = d["change_source"]
    if not _is_sequence(sources):
        sources = [sources]
    if not all(IChangeSource.providedBy(s) for s in sources):
        error("c['change_source'] must be a list of change sources")
        return
    config.change_sources = list(sources)


def load_machines(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['machines']`: objects providing IMachine, with unique names."""
    if "machines" not in d:
        return
    machines = d["machines"]
    if not _is_sequence(machines) or not all(IMachine.providedBy(m) for m in machines):
        error("c['machines'] must be a list of machines")
        return
    seen: set[str] = set()
    for m in machines:
        name: Any = getattr(m, "name", None)
        if name in seen:
            error(f"duplicate machine name '{name}'")
        seen.add(name)
    config.machines = list(machines)


def load_user_managers(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['user_managers']` (e.g. `util.CommandlineUserManager`)."""
    if "user_managers" not in d:
        return
    managers = d["user_managers"]
    if not _is_sequence(managers):
        error("c['user_managers'] must be a list of user managers")
        return
    config.user_managers = list(managers)


def load_services(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['services']`: BuildbotService instances (reporters, cancellers...), unique names."""
    if "services" not in d:
        return
    services = d["services"]
    if not _is_sequence(services):
        error("c['services'] must be a list of services (reporters, ...)")
        return
    for svc in services:
        if not is_service(svc):
            error(f"{type(svc)} object should be an instance of "
                  "buildbot.util.service.BuildbotService")
            continue
        if svc.name in config.services:
            error(f"Duplicate service name '{svc.name}'")
            continue
        config.services[svc.name] = svc
