"""The plugin database behind `buildbot.plugins`: lazy namespaces of components.

A namespace (`get_plugins("steps")`) holds the built-in components listed in
`buildbot.plugins.registry` plus the entry points other distributions register in the group
`buildbot.<namespace>`. Nothing is imported until a component is used: attribute access
imports its module, checks third-party classes against the namespace's interface, and
caches the result.

Errors: an unknown name raises AttributeError("Unknown component name: <name>"); a listed
component that cannot be loaded raises PluginDBError (an AttributeError too, so `hasattr`
and `getattr(ns, name, default)` behave as for any missing attribute).
"""

from __future__ import annotations

import functools
import importlib
import re
import threading
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Any

from twisted.logger import Logger, LogLevel
from zope.interface.exceptions import Invalid
from zope.interface.interface import InterfaceClass
from zope.interface.verify import verifyClass

from buildbot.interfaces import IBuildStep, IChangeSource, IScheduler, IWorker
from buildbot.plugins.registry import builtin_entries

log = Logger()

# Third-party components of these namespaces must provide the interface.
NAMESPACE_INTERFACES: dict[str, InterfaceClass] = {
    "changes": IChangeSource,
    "schedulers": IScheduler,
    "steps": IBuildStep,
    "worker": IWorker,
}

BUILTIN_SOURCE = "buildbot (built in)"

# Our own distribution is "buildbot" too: its entry points (if any) are the registry's.
_OWN_DISTRIBUTION = "buildbot"


class PluginDBError(AttributeError):
    """A component is listed but cannot be used (import failure, wrong interface, duplicate)."""


class _Entry:
    """One component: where it comes from and, once loaded, the object itself."""

    def __init__(self, group: str, name: str, target: str, source: str,
                 interface: InterfaceClass | None) -> None:
        self.group, self.name, self.target = group, name, target
        self.source = source  # "buildbot (built in)" or "<distribution> <version>"
        self.interface = interface
        self.duplicate_of: _Entry | None = None
        self._value: Any = None
        self._loaded = False
        self._lock = threading.Lock()

    def load(self) -> Any:
        if self._loaded:
            return self._value
        if self.duplicate_of is not None:
            raise PluginDBError(
                f'Duplicate entry point for "{self.group}:{self.name}".\n'
                f"  Previous definition {self.duplicate_of.target} ({self.duplicate_of.source})\n"
                f"  This definition {self.target} ({self.source})")
        with self._lock:
            if not self._loaded:
                self._value = self._import()
                self._loaded = True
        return self._value

    def _import(self) -> Any:
        module_name, _, attr = self.target.partition(":")
        try:
            value: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                value = getattr(value, part)
        except Exception as e:
            # Warn level: code may probe optional components with hasattr(); the traceback
            # still helps whoever debugs a broken plugin.
            log.failure("Unable to load {group}:{name}", level=LogLevel.warn, group=self.group,
                        name=self.name)
            raise PluginDBError(f"Unable to load {self.group}:{self.name}: {e}") from e
        if self.interface is not None:
            try:
                verifyClass(self.interface, value)
            except Invalid as e:
                raise PluginDBError(f"Plugin {self.group}:{self.name} does not implement "
                                    f"{self.interface.__name__}: {e}") from e
        return value


class PluginNamespace:
    """Components of one namespace level; attribute access loads them.

    Dotted component names (`svn.split_file_branches`) are reached through a nested
    namespace (`util.svn.split_file_branches`).
    """

    def __init__(self, path: str, populate: Callable[[PluginNamespace], None] | None = None
                 ) -> None:
        self._path = path  # e.g. "buildbot.util" or "buildbot.util.svn"
        # Filled on first use by `populate` (scanning installed distributions takes ~0.1 s).
        self._populate = populate
        self._lock = threading.Lock()
        self._filled: dict[str, _Entry | PluginNamespace] = {}

    @property
    def _children(self) -> dict[str, _Entry | PluginNamespace]:
        if self._populate is not None:
            with self._lock:
                if self._populate is not None:
                    self._populate(self)
                    self._populate = None
        return self._filled

    def _add(self, dotted: str, entry: _Entry) -> None:
        head, _, rest = dotted.partition(".")
        node = self._filled.get(head)
        if rest:
            if not isinstance(node, PluginNamespace):
                node = self._filled[head] = PluginNamespace(f"{self._path}.{head}")
            node._add(rest, entry)
        elif isinstance(node, _Entry):
            entry.duplicate_of = node
            self._filled[head] = entry
        elif node is None:
            self._filled[head] = entry
        # A leaf named like an existing sub-namespace is ignored: the namespace wins.

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)  # protocol probes (copy, pickle, inspect...), our slots
        node = self._children.get(name)
        if node is None:
            raise AttributeError(f"Unknown component name: {name}")
        if isinstance(node, PluginNamespace):
            return node
        return node.load()

    def __dir__(self) -> list[str]:
        return sorted(self._children)

    def __contains__(self, name: str) -> bool:
        node: Any = self
        for part in name.split("."):
            if not isinstance(node, PluginNamespace) or part not in node._children:
                return False
            node = node._children[part]
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __repr__(self) -> str:
        return f"<plugin namespace {self._path}>"

    def _entry(self, name: str) -> _Entry:
        node: Any = self
        for part in name.split("."):
            node = node._children.get(part) if isinstance(node, PluginNamespace) else None
        if not isinstance(node, _Entry):
            raise AttributeError(f"Unknown component name: {name}")  # noqa: TRY004  # lookup
        return node

    @property
    def names(self) -> list[str]:
        """Every component name under this level, dotted for nested ones, sorted."""
        out: list[str] = []
        for key, node in self._children.items():
            if isinstance(node, PluginNamespace):
                out.extend(f"{key}.{sub}" for sub in node.names)
            else:
                out.append(key)
        return sorted(out)

    def get(self, name: str) -> Any:
        """The component called `name` (dotted for nested ones), loading it if needed."""
        return self._entry(name).load()

    def info(self, name: str) -> str:
        """Where the component comes from: "buildbot (built in)" or "<dist> <version>"."""
        return self._entry(name).source

    def info_all(self) -> dict[str, str]:
        """name -> source, for every component."""
        return {n: self.info(n) for n in self.names}


@functools.cache
def _third_party_entry_points() -> dict[str, list[metadata.EntryPoint]]:
    """group -> entry points of the `buildbot.*` groups, other distributions only (one scan).

    Start-up cost matters here: reading every distribution's METADATA (to learn its name)
    takes hundreds of milliseconds in a large environment, so the name comes from the
    dist-info directory and only `entry_points.txt` files are read. A distribution found on
    two sys.path entries counts once, the first one winning (as
    `importlib.metadata.entry_points()` does).
    """
    groups: dict[str, list[metadata.EntryPoint]] = {}
    seen: set[str] = set()
    for dist in metadata.distributions():
        key = _distribution_key(dist)
        if key in seen:
            continue
        seen.add(key)
        if key == _OWN_KEY:
            continue
        text = dist.read_text("entry_points.txt")
        if not text or "[buildbot." not in text:
            continue
        for ep in dist.entry_points:
            if ep.group.startswith("buildbot."):
                groups.setdefault(ep.group, []).append(ep)
    return groups


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


_OWN_KEY = _normalize(_OWN_DISTRIBUTION)


def _distribution_key(dist: metadata.Distribution) -> str:
    # `_normalized_name` comes from the dist-info directory name (no file read); other
    # distribution types fall back to the METADATA name.
    fast = getattr(dist, "_normalized_name", None)
    return _normalize(fast if isinstance(fast, str) else (dist.metadata["Name"] or ""))


_namespaces: dict[str, PluginNamespace] = {}
_namespaces_lock = threading.Lock()


def get_plugins(namespace: str, interface: InterfaceClass | None = None,
                load_now: bool = False) -> PluginNamespace:
    """The namespace of components in group `buildbot.<namespace>` (built once, cached).

    `interface` overrides the interface third-party components are checked against;
    `load_now` loads every component at once (raising the first failure).
    """
    with _namespaces_lock:
        ns = _namespaces.get(namespace)
        if ns is None:
            ns = _namespaces[namespace] = _build_namespace(namespace, interface)
    if load_now:
        for name in ns.names:
            ns.get(name)
    return ns


def _build_namespace(namespace: str, interface: InterfaceClass | None) -> PluginNamespace:
    group = f"buildbot.{namespace}"
    check = interface if interface is not None else NAMESPACE_INTERFACES.get(namespace)

    def populate(ns: PluginNamespace) -> None:
        for name, (module, attr) in builtin_entries(namespace).items():
            ns._add(name, _Entry(group, name, f"{module}:{attr}", BUILTIN_SOURCE, None))
        for ep in _third_party_entry_points().get(group, []):
            dist = ep.dist
            source = f"{dist.metadata['Name']} {dist.version}" if dist is not None else "?"
            ns._add(ep.name, _Entry(group, ep.name, ep.value, source, check))

    return PluginNamespace(group, populate)


def namespaces() -> list[str]:
    """Names of the namespaces built so far."""
    return sorted(_namespaces)


def info() -> dict[str, dict[str, str]]:
    """namespace -> (component -> source) for the namespaces built so far."""
    return {name: ns.info_all() for name, ns in sorted(_namespaces.items())}
