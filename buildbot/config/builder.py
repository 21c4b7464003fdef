"""`BuilderConfig`: one entry of `c['builders']` (also `util.BuilderConfig`).

The constructor checks its arguments and reports problems through
`buildbot.config.errors.error`, so a master.cfg with several bad builders gets every problem
reported at once. Checks that need the rest of the configuration (known workers, projects,
duplicate names) happen in `buildbot.config.crosschecks`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from buildbot.config.checks import check_markdown_support, check_param_length
from buildbot.config.errors import error
from buildbot.interfaces import IRenderable

# Names that may start with an underscore because the master itself creates them.
RESERVED_UNDERSCORE_NAMES = ("__Janitor",)

# Length of the builder-properties name column in the database.
PROPERTY_NAME_MAX_LENGTH = 256

# Characters of a builder name replaced by '_' when deriving its build directory.
_BUILDDIR_UNSAFE = "\t !#$%&'()*+,./:;<=>?@[\\]^{|}~"
_BUILDDIR_TABLE = str.maketrans({c: "_" for c in _BUILDDIR_UNSAFE})


def builddir_for(name: str) -> str:
    """The default build directory of a builder called `name`."""
    return name.translate(_BUILDDIR_TABLE)


def _always_build(build: Any) -> bool:
    return True


class BuilderConfig:
    """What to build (`factory`), where (`workernames`) and how (locks, env, properties...).

    Attributes keep the constructor's names. `workernames` is always a list (a `workername`
    is appended to it); `builddir` and `workerbuilddir` default to a filesystem-safe form of
    the name.
    """

    def __init__(
        self,
        name: str | bytes | None = None,
        workername: str | None = None,
        workernames: list[str] | str | None = None,
        builddir: str | None = None,
        workerbuilddir: str | None = None,
        factory: Any = None,
        tags: list[str] | None = None,
        nextWorker: Callable[..., Any] | None = None,
        nextBuild: Callable[..., Any] | None = None,
        locks: list[Any] | None = None,
        env: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        collapseRequests: bool | Callable[..., Any] | None = None,
        description: str | None = None,
        description_format: str | None = None,
        canStartBuild: Callable[..., Any] | None = None,
        defaultProperties: dict[str, Any] | None = None,
        project: str | None = None,
        do_build_if: Callable[[Any], bool] | None = None,
    ) -> None:
        self.name: str = self._check_name(name)
        self.project = project
        if project is not None and not isinstance(project, str):
            error("builder project must be None or str")
            self.project = None

        self.factory = factory
        self._check_factory(factory)
        self.workernames: list[str] = self._check_workernames(workername, workernames)

        self.builddir: str = builddir if builddir is not None else builddir_for(self.name)
        self.workerbuilddir: str = workerbuilddir if workerbuilddir is not None else self.builddir

        self.tags: list[str] = self._check_tags(tags)

        self.nextWorker = nextWorker
        self.nextBuild = nextBuild
        self.canStartBuild = canStartBuild
        for attr, value in (("nextWorker", nextWorker), ("nextBuild", nextBuild),
                            ("canStartBuild", canStartBuild)):
            if value is not None and not callable(value):
                error(f"{attr} must be a callable")

        self.locks: Any = locks if locks is not None else []
        if not isinstance(self.locks, (list, tuple)) and not IRenderable.providedBy(self.locks):
            error(f"builder '{self.name}': locks must be a list or a renderable")
            self.locks = []

        self.env: dict[str, Any] = env if env is not None else {}
        if not isinstance(self.env, dict):
            error("builder's env must be a dictionary")
            self.env = {}

        self.properties = self._check_properties(properties, "properties", "property")
        self.defaultProperties = self._check_properties(defaultProperties, "defaultProperties",
                                                        "default property")
        self.collapseRequests = collapseRequests

        self.description = description
        if description is not None and not isinstance(description, str):
            error("BuilderConfig argument description must be an instance of str or None")
            self.description = None
        self.description_format = description_format
        if description_format is not None:
            if description_format != "markdown":
                error('builder description format must be None or "markdown"')
                self.description_format = None
            elif not check_markdown_support(type(self)):
                self.description_format = None

        self.do_build_if: Callable[[Any], bool] = (
            do_build_if if do_build_if is not None else _always_build)
        if not callable(self.do_build_if):
            error(f"builder '{self.name}': do_build_if must be a callable")
            self.do_build_if = _always_build

    # -- argument checks -------------------------------------------------------------
    @staticmethod
    def _check_name(name: Any) -> str:
        if isinstance(name, bytes):
            try:
                name = name.decode("ascii")
            except UnicodeDecodeError:
                error("builder names must be unicode or ASCII")
                return str(name.decode("utf-8", "replace"))
        if not name or not isinstance(name, str):
            error("builder's name is required")
            return "<unknown>"
        if name.startswith("_") and name not in RESERVED_UNDERSCORE_NAMES:
            error(f"builder names must not start with an underscore: '{name}'")
        return name

    def _check_factory(self, factory: Any) -> None:
        # Imported here: the process package imports config at module level.
        from buildbot.process.factory import BuildFactory

        if factory is None:
            error(f"builder '{self.name}': has no factory")
        elif not isinstance(factory, BuildFactory):
            error(f"builder '{self.name}': factory is not a BuildFactory instance")

    def _check_workernames(self, workername: Any, workernames: Any) -> list[str]:
        if workernames is None:
            names: list[Any] = []
        elif isinstance(workernames, str):
            names = [workernames]
        elif isinstance(workernames, list):
            names = list(workernames)
        else:
            error(f"builder '{self.name}': workernames must be a list or a string")
            names = []
        if workername is not None:
            if not isinstance(workername, str):
                error(f"builder '{self.name}': workername must be a string but it is "
                      f"{workername!r}")
            names.append(workername)
        if not names:
            error(f"builder '{self.name}': at least one workername is required")
        return names

    def _check_tags(self, tags: Any) -> list[str]:
        if tags is None:
            return []
        if not isinstance(tags, list):
            error(f"builder '{self.name}': tags must be a list")
            return []
        if any(not isinstance(t, str) for t in tags):
            error(f"builder '{self.name}': tags list contains something that is not a string")
        seen: set[Any] = set()
        dups: set[Any] = set()
        for t in tags:
            (dups if t in seen else seen).add(t)
        if dups:
            shown = " ".join(sorted(str(t) for t in dups))
            error(f"builder '{self.name}': tags list contains duplicate tags: {shown}")
        return tags

    def _check_properties(self, value: Any, arg: str, what: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            error(f"builder '{self.name}': {arg} must be a dictionary")
            return {}
        for prop_name in value:
            check_param_length(prop_name, f"Builder {self.name} {what}", PROPERTY_NAME_MAX_LENGTH)
        return value

    # -- descriptions ----------------------------------------------------------------
    def describe_html(self) -> str | None:
        """The description rendered to HTML when its format is markdown, else None."""
        if self.description is None or self.description_format != "markdown":
            return None
        import markdown  # optional dependency; availability checked in the constructor

        html: str = markdown.markdown(self.description)
        return html

    def getConfigDict(self) -> dict[str, Any]:
        """A JSON-friendly summary (the web UI's builder config view): set values only."""
        rv: dict[str, Any] = {
            "name": self.name,
            "workernames": self.workernames,
            "factory": self.factory,
            "builddir": self.builddir,
            "workerbuilddir": self.workerbuilddir,
        }
        optional = ("project", "tags", "nextWorker", "nextBuild", "locks", "env", "properties",
                    "defaultProperties", "description", "description_format")
        for attr in optional:
            value = getattr(self, attr)
            if value:
                rv[attr] = value
        if self.collapseRequests is not None:
            rv["collapseRequests"] = self.collapseRequests
        return rv

    def __repr__(self) -> str:
        return f"<BuilderConfig {self.name!r}>"
