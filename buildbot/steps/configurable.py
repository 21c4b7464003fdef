"""Steps driven by a `.bbtravis.yml` (or `.buildbot-ci.yml`) file in the source tree:
BuildbotTestCiTrigger triggers one build per matrix entry, BuildbotCiSetupSteps adds a
shell step per script command (or a step given by a `!StepName` YAML tag).

File format (a subset of Travis CI's): `env` (`global:` a string or a list of `K=V ...`
strings), `matrix: {include: [{env: "K=V ...", <prop>: <value>}, ...]}`, `label_mapping`,
and the script lists `before_install`, `install`, `after_install`, `before_script`,
`script`, `after_script`. A script entry is a command string, a step, or a mapping with
`cmd` or `step`, optional `title` and `condition` (a Python expression over the build's
properties; evaluating it needs the optional `evalidate` package, as in the reference).
"""

from __future__ import annotations

import re
import traceback
import warnings
from typing import Any

import yaml

from buildbot.plugins import util
from buildbot.plugins.db import PluginDBError, get_plugins
from buildbot.process import buildstep
from buildbot.process.properties import Properties, renderer
from buildbot.process.results import SUCCESS
from buildbot.steps.shell import ShellCommand
from buildbot.steps.trigger import Trigger
from buildbot.steps.worker import CompositeStepMixin

# the `steps.name` column's length: longer generated names are cut to fit
STEP_NAME_LENGTH = 50


class BuildbotCiYmlInvalid(Exception):
    """The CI file is not valid YAML or does not have the expected shape."""


_ENV_KEY_RE = re.compile(r"^\s*(\w+)=")
# "double quoted" (backslash escapes kept), 'single quoted', or a bare word
_ENV_VALUE_RE = re.compile(r"""(?:"((?:\\.|[^"])*?)"|'([^']*?)'|(\S*))""")


def parse_env_string(env_str: str, parent_env: dict[str, Any] | None = None) -> dict[str, Any]:
    """`K1=v1 K2="v 2" K3='v3'` -> dict, on top of `parent_env`; ValueError if unparsable."""
    env = dict(parent_env or {})
    rest = env_str.strip()
    while rest:
        key = _ENV_KEY_RE.match(rest)
        if key is None:
            raise ValueError(f"Could not parse '{env_str.strip()}': splitting '{rest}' failed")
        rest = rest[key.end():]
        value = _ENV_VALUE_RE.match(rest)
        if value is None:  # pragma: no cover - the bare-word branch matches anything
            raise ValueError(f"Could not parse '{env_str.strip()}': splitting '{rest}' failed")
        rest = rest[value.end():]
        env[key.group(1)] = next((g for g in value.groups() if g), "")
    return env


def interpolate_constructor(loader: yaml.SafeLoader, node: Any) -> Any:
    return util.Interpolate(loader.construct_scalar(node))


# how a tagged YAML node becomes the step's (args, kwargs)
_NODE_ARGUMENTS: dict[type, Any] = {
    yaml.ScalarNode: lambda loader, node: ([loader.construct_scalar(node)], {}),
    yaml.SequenceNode: lambda loader, node: (loader.construct_sequence(node), {}),
    yaml.MappingNode: lambda loader, node: ([], loader.construct_mapping(node)),
}


def _step_constructor(step_class: Any, step_warnings: list[Any]) -> Any:
    def construct(loader: yaml.SafeLoader, node: Any) -> Any:
        to_arguments = _NODE_ARGUMENTS.get(type(node))
        try:
            if to_arguments is None:
                raise TypeError("Unsupported node type")
            args, kwargs = to_arguments(loader, node)
        except Exception as e:
            # Broad on purpose, and re-raised, not swallowed: any error building the
            # arguments becomes the reference's exception type and text, which YAML
            # reports to the user with the position in the file.
            raise Exception(f"Could not parse steps arguments: {e}") from e  # noqa: TRY002
        # warnings of loading the class (deprecations) only matter to files using it
        for w in step_warnings:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return step_class(*args, **kwargs)

    return construct


class BuildbotCiLoader(yaml.SafeLoader):
    """Safe YAML plus `!Interpolate`/`!i` and a `!<StepName>` tag per step plugin."""

    constructors_loaded = False

    @classmethod
    def ensure_constructors_loaded(cls) -> None:
        if not cls.constructors_loaded:
            cls.load_constructors()

    @classmethod
    def load_constructors(cls) -> None:
        cls.add_constructor("!Interpolate", interpolate_constructor)
        cls.add_constructor("!i", interpolate_constructor)
        steps = get_plugins("steps")
        for name in steps.names:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    step_class = steps.get(name)
                except PluginDBError:
                    continue  # a step whose dependencies are missing cannot be a tag
            cls.register_step_class(name, step_class, list(caught))
        cls.constructors_loaded = True

    @classmethod
    def register_step_class(cls, name: str, step_class: Any, step_warnings: list[Any]) -> None:
        cls.add_constructor("!" + name, _step_constructor(step_class, step_warnings))


def _parse_ci_yaml(text: str) -> Any:
    BuildbotCiLoader.ensure_constructors_loaded()
    try:
        return yaml.load(text, Loader=BuildbotCiLoader)
    # Broad on purpose: a step tag runs that step's constructor, which may raise anything;
    # every such error means the file is invalid and is reported with it, not swallowed.
    except Exception as e:
        raise BuildbotCiYmlInvalid(f"Invalid YAML data\n{e}") from e


class BuildbotCiYml:
    """The parsed CI file: `global_env`, `script_commands` per script, `matrix`."""

    SCRIPTS = ("before_install", "install", "after_install", "before_script", "script",
               "after_script")
    # declared by 4.3 and never set there either: the step tags are loaded once per process
    # by BuildbotCiLoader.ensure_constructors_loaded
    steps_loaded = False

    def __init__(self) -> None:
        self.config: dict[str, Any] = {}
        self.label_mapping: dict[str, Any] = {}
        self.global_env: dict[str, Any] = {}
        self.script_commands: dict[str, list[Any]] = {s: [] for s in self.SCRIPTS}
        self.matrix: list[dict[str, Any]] = []

    @classmethod
    def load_from_str(cls, config_input: str) -> BuildbotCiYml:
        return cls.load_from_dict(_parse_ci_yaml(config_input))

    @classmethod
    def load_from_dict(cls, config: dict[str, Any]) -> BuildbotCiYml:
        yml = cls()
        yml.load_from_dict_internal(config)
        return yml

    def load_from_dict_internal(self, config: dict[str, Any]) -> None:
        self.config = config
        self.label_mapping = config.get("label_mapping", {})
        self.global_env = self.load_global_env(config)
        self.script_commands = self.load_scripts(config)
        self.matrix = self.load_matrix(config, self.global_env)

    @classmethod
    def load_global_env(cls, config: dict[str, Any]) -> dict[str, Any]:
        env = config.get("env")
        if env is None or isinstance(env, list):
            return {}  # a list of per-build environments is not a global one
        if not isinstance(env, dict):
            raise BuildbotCiYmlInvalid("'env' parameter is invalid")
        given = env.get("global")
        if isinstance(given, str):
            given = [given]
        if not isinstance(given, list):
            raise BuildbotCiYmlInvalid("'env.global' configuration parameter is invalid")
        merged: dict[str, Any] = {}
        for entry in given:
            merged.update(parse_env_string(entry))
        return merged

    @classmethod
    def load_scripts(cls, config: dict[str, Any]) -> dict[str, list[Any]]:
        """Each script's commands as a list (a single command may be given as a string)."""
        def as_list(script: str, value: Any) -> list[Any]:
            if isinstance(value, (str, list)):
                return [value] if isinstance(value, str) else value
            raise BuildbotCiYmlInvalid(f"'{script}' parameter is invalid")

        return {script: as_list(script, config.get(script, [])) for script in cls.SCRIPTS}

    @staticmethod
    def adjust_matrix_config(c: dict[str, Any], global_env: dict[str, Any]) -> dict[str, Any]:
        return {**c, "env": parse_env_string(c.get("env", ""), global_env)}

    @classmethod
    def load_matrix(cls, config: dict[str, Any],
                    global_env: dict[str, Any]) -> list[dict[str, Any]]:
        entries = (config.get("matrix", {}) or {}).get("include") or []
        return [cls.adjust_matrix_config(c, global_env) for c in entries]


class BuildbotTestCiReadConfigMixin:
    """Reads and parses the CI file from the worker's build directory."""

    config_filenames = [".bbtravis.yml", ".buildbot-ci.yml"]
    config: Any = None

    async def get_config_yml_from_worker(self) -> tuple[str | None, Any]:
        """(file name, content) of the first file found, or (None, the failures)."""
        step: Any = self
        failures = []
        for filename in self.config_filenames:
            try:
                return filename, await step.getFileContentFromWorker(filename,
                                                                     abandonOnFailure=True)
            except buildstep.BuildStepFailed as e:
                failures.append(e)
        return None, failures

    async def get_ci_config(self) -> BuildbotCiYml:
        step: Any = self
        filename, found = await self.get_config_yml_from_worker()
        if filename is None:
            step.descriptionDone = "failed to read configuration"
            await step.addCompleteLog(
                "error", f"Failed to read configuration from files {self.config_filenames}: "
                         f"got {' '.join(str(found))}")
            raise buildstep.BuildStepFailed("failed to read configuration")
        await step.addCompleteLog(filename, found)
        try:
            return BuildbotCiYml.load_from_str(found)
        except BuildbotCiYmlInvalid as e:
            step.descriptionDone = f"bad configuration file {filename}"
            await step.addCompleteLog("error", f"Bad configuration file:\n{e}")
            raise buildstep.BuildStepFailed(f"bad configuration file {filename}") from e


class BuildbotTestCiTrigger(BuildbotTestCiReadConfigMixin, CompositeStepMixin, Trigger):
    """Trigger `scheduler` once per matrix entry of the CI file, each build with the entry's
    properties (its `env` spread into properties) and a virtual builder named from them."""

    def __init__(self, scheduler: str, **kwargs: Any) -> None:
        super().__init__(name="buildbot-test-ci trigger", waitForFinish=True,
                         schedulerNames=[scheduler], haltOnFailure=True, flunkOnFailure=True,
                         sourceStamps=[], alwaysUseLatest=False, updateSourceStamp=False,
                         **kwargs)

    async def run(self) -> int:
        self.config = await self.get_ci_config()
        return await super().run()

    def _replace_label(self, v: Any) -> str:
        return str(self.config.label_mapping.get(v, v))

    def build_scheduler_for_env(self, scheduler_name: str,
                                env: dict[str, Any]) -> tuple[str, Properties]:
        """The matrix entry's properties (its `env` spread out) plus the virtual builder
        name, tags and `matrix_label` made from those not in the global environment."""
        source = "BuildbotTestCiTrigger"
        props = Properties()
        props.setProperty("BUILDBOT_PULL_REQUEST", self.getProperty("BUILDBOT_PULL_REQUEST"),
                          "inherit")
        merged: dict[str, Any] = {}
        for k, v in env.items():  # in order: a later key wins, as in the reference
            merged.update(v if k == "env" else {k: v})
        props.update(merged, source)
        labels = sorted(
            f"{self._replace_label(k)}:{self._replace_label(v)}"
            for k, (v, _) in props.asDict().items()
            if k not in self.config.global_env and k != "BUILDBOT_PULL_REQUEST")
        tags = [t for t in self.build.builder.config.tags if t not in ("try", "spawner")]
        props.setProperty("virtual_builder_name", " ".join(tags + labels),
                          "BuildbotTestCiTrigger")
        props.setProperty("virtual_builder_tags", tags + labels, "BuildbotTestCiTrigger")
        props.setProperty("matrix_label", "/".join(labels), "BuildbotTestCiTrigger")
        return scheduler_name, props

    def createTriggerProperties(self, props: Any) -> Any:
        return props

    def getSchedulersAndProperties(self) -> list[Any]:
        return [self.build_scheduler_for_env(self.schedulerNames[0], env)
                for env in self.config.matrix]


def _make_eval_model() -> Any:
    """evalidate's base model plus `*` (spelled "Mul", as in 4.3, which evalidate does not
    know, so multiplication stays refused), slices and tuples; None without evalidate."""
    try:
        from evalidate import base_eval_model
    except ImportError:
        return None
    model = base_eval_model.clone()
    model.nodes.extend(["Mul", "Slice", "Tuple"])
    return model


eval_model = _make_eval_model()


def evaluate_condition(condition: str, local_dict: dict[str, Any]) -> bool:
    """Evaluate a script entry's `condition` safely with evalidate and `eval_model`.
    ImportError without evalidate."""
    if eval_model is None:
        raise ImportError("conditions in the CI configuration need the evalidate package "
                          "(pip install evalidate)")
    from evalidate import Expr

    return bool(Expr(condition, eval_model).eval(local_dict))


class BuildbotCiSetupSteps(BuildbotTestCiReadConfigMixin, CompositeStepMixin,
                           buildstep.BuildStep):
    """Add the script commands of the CI file as steps after the last step of the build."""

    name = "setup-steps"
    haltOnFailure = True
    flunkOnFailure = True
    MAX_NAME_LENGTH = 47
    disable = False

    @staticmethod
    def _entry_parts(entry: Any) -> tuple[Any, Any, Any, Any]:
        """(title, condition, step, cmd) of a script entry: a mapping, a step or a command."""
        if isinstance(entry, dict):
            parts = tuple(entry.get(key) for key in ("title", "condition", "step", "cmd"))
        else:
            parts = (None, None, None, entry)
        title, condition, step, cmd = parts
        return title, condition, cmd if isinstance(cmd, buildstep.BuildStep) else step, cmd

    async def _condition_holds(self, condition: str) -> bool:
        """Whether the entry applies; a condition that cannot be evaluated drops the entry
        and says why in the log `condition error`."""
        values = {k: v for k, (v, _) in self.build.getProperties().properties.items()}
        try:
            return evaluate_condition(condition, values)
        except Exception:  # noqa: BLE001 (any error of the user's expression is reported)
            self.descriptionDone = "Problem parsing condition"
            await self.addCompleteLog("condition error", traceback.format_exc())
            return False

    async def _add_step(self, command: Any) -> None:
        title, condition, step, cmd = self._entry_parts(command)
        if condition is not None and not await self._condition_holds(condition):
            return
        if step is None and cmd is None:
            await self.addCompleteLog("BuildbotCiSetupSteps error",
                                      f"Neither step nor cmd is defined: {command}")
            return
        if step is None:
            step = ShellCommand(name=self._name_from_command(cmd) if title is None else title,
                                description=cmd, command=cmd, doStepIf=not self.disable,
                                env=_all_properties_as_env)
        self.build.addStepsAfterLastStep([step])

    def _name_from_command(self, name: str) -> str:
        """The first line of a command, without leading `#` and spaces, cut to fit."""
        name = name.lstrip("#").lstrip(" ").split("\n")[0]
        if len(name) > STEP_NAME_LENGTH:
            name = name[:STEP_NAME_LENGTH - 3] + "..."
        return name

    async def run(self) -> int:
        config = await self.get_ci_config()
        for script in BuildbotCiYml.SCRIPTS:
            for command in config.script_commands[script]:
                await self._add_step(command)
        return SUCCESS


@renderer
def _all_properties_as_env(props: Any) -> dict[str, str]:
    """Every build property as an environment variable of the generated shell steps."""
    return {str(k): str(v[0]) for k, v in props.properties.items()}


__all__ = ["BuildbotCiSetupSteps", "BuildbotCiYml", "BuildbotCiYmlInvalid",
           "BuildbotTestCiTrigger", "evaluate_condition", "parse_env_string"]
