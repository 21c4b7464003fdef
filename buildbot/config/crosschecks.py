"""Checks across the loaded `MasterConfig` (run after every key has been loaded).

Order and texts follow the reference: single-master checks (skipped with
`c['multiMaster'] = True`), scheduler → builder references (single-master only), then
locks, projects, builders, protocol ports and machines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from buildbot.config.errors import error
from buildbot.interfaces import IRenderable

if TYPE_CHECKING:
    from buildbot.config.master import MasterConfig


def run_cross_checks(config: MasterConfig) -> None:
    """Report every inconsistency between the parts of `config` (through its `check_*`
    methods, which a MasterConfig subclass may override)."""
    names = _ALWAYS if config.multiMaster else _SINGLE_MASTER_ONLY + _ALWAYS
    for name in names:
        getattr(config, name)()


# The MasterConfig methods run, in the order their errors are reported (4.3's). With
# several masters, each holds only part of the setup: completeness is not checked.
_SINGLE_MASTER_ONLY = ("check_single_master", "check_schedulers")
_ALWAYS = ("check_locks", "check_projects", "check_builders", "check_ports", "check_machines")


def _builder_names_of(scheduler: Any) -> Any:
    return getattr(scheduler, "builderNames", None) or []


def _uses_renderable_names(names: Any) -> bool:
    return IRenderable.providedBy(names) or any(IRenderable.providedBy(n) for n in names)


def check_single_master(config: MasterConfig) -> None:
    """A lone master needs workers and builders, and every builder some scheduler."""
    if not config.workers:
        error("no workers are configured")
    if not config.builders:
        error("no builders are configured")

    scheduled: set[str] = set()
    for s in config.schedulers.values():
        names = _builder_names_of(s)
        if _uses_renderable_names(names):
            return  # which builders it starts is only known at run time
        scheduled.update(names)
    unscheduled = [b.name for b in config.builders if b.name not in scheduled]
    if unscheduled:
        error(f"builder(s) {', '.join(unscheduled)} have no schedulers to drive them")


def check_schedulers(config: MasterConfig) -> None:
    """Every builder a scheduler names must exist (renderable names are not checked)."""
    builder_names = {b.name for b in config.builders}
    for s in config.schedulers.values():
        names = _builder_names_of(s)
        if IRenderable.providedBy(names):
            continue
        for n in names:
            if IRenderable.providedBy(n):
                continue
            if n not in builder_names:
                error(f"Unknown builder '{n}' in scheduler '{s.name}'")


def check_locks(config: MasterConfig) -> None:
    """Different lock objects must not share a name."""
    by_name: dict[Any, Any] = {}
    for b in config.builders:
        if IRenderable.providedBy(b.locks):
            continue
        for access in b.locks:
            # A lock access wraps its lock as `lockid`; a bare lock stands for itself.
            lock = getattr(access, "lockid", access)
            name = getattr(lock, "name", None)
            known = by_name.setdefault(name, lock)
            if known is not lock:
                error(f"Two locks share the same name, '{name}'")


def check_projects(config: MasterConfig) -> None:
    """Project names are unique."""
    seen: set[str] = set()
    for p in config.projects:
        if p.name in seen:
            error(f"duplicate project name '{p.name}'")
        seen.add(p.name)


def check_builders(config: MasterConfig) -> None:
    """Builders use configured workers and projects, with unique names and directories."""
    worker_names = {w.name for w in config.workers}
    project_names = {p.name for p in config.projects}
    seen_names: set[str] = set()
    seen_dirs: set[str] = set()
    for b in config.builders:
        unknown = sorted({w for w in b.workernames if w not in worker_names}, key=str)
        # (is it wrong, what to say), in the order a builder's errors are reported
        verdicts = (
            (bool(unknown), f"builder '{b.name}' uses unknown workers "
                            f"{', '.join(repr(w) for w in unknown)}"),
            (b.name in seen_names, f"duplicate builder name '{b.name}'"),
            (b.builddir in seen_dirs, f"duplicate builder builddir '{b.builddir}'"),
            (b.project is not None and b.project not in project_names,
             f"builder '{b.name}' uses unknown project name '{b.project}'"),
        )
        for wrong, message in verdicts:
            if wrong:
                error(message)
        seen_names.add(b.name)
        seen_dirs.add(b.builddir)


def _port_key(port: Any) -> Any:
    # An int port and the endpoint "tcp:<port>" listen on the same thing.
    return f"tcp:{port}" if isinstance(port, int) else port


def check_ports(config: MasterConfig) -> None:
    """No two protocols on one port; workers need some protocol to connect through."""
    ports = [opts.get("port") for opts in config.protocols.values()]
    keys = [_port_key(p) for p in ports if p]
    if len(keys) != len(set(keys)):
        error("Some of ports in c['protocols'] duplicated")
    has_listener = "null" in config.protocols or any(ports)
    if config.workers and not has_listener:
        error("workers are configured, but c['protocols'] not")


def check_machines(config: MasterConfig) -> None:
    """Workers naming a machine must name a configured one."""
    machine_names = {m.name for m in config.machines}
    for w in config.workers:
        machine = getattr(w, "machine_name", None)
        if machine is not None and machine not in machine_names:
            error(f"worker '{w.name}' uses unknown machine '{machine}'")
