"""ForceScheduler and its form parameters (the "force build" dialog of the web UI).

A parameter describes one field of the form (`getSpec()`, sent to the UI through the
`forceschedulers` data API) and turns the submitted values into build properties
(`updateFromKwargs`) or, for codebases, into source stamps. Submitted values arrive as
lists, keyed by the field's `fullName` (parent names joined with `_`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from twisted.logger import Logger

from buildbot import config
from buildbot.process.properties import Properties
from buildbot.schedulers.base import ReconfigurableBaseScheduler
from buildbot.util.deferred import maybe_await
from buildbot.util.identifiers import isIdentifier

log = Logger()

# An e-mail address inside the user name ("Name <user@example.org>"), as the reference's
# mail reporter defines it.
VALID_EMAIL_ADDR = re.compile(r"(?:\S+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+\.?)")
RESERVED_NAMES = ("owner", "builderNames", "builderid")


class ValidationError(ValueError):
    """A submitted value was refused (the message is shown next to the field)."""


class CollectedValidationError(ValueError):
    """Every refused field of a submission: `errors` maps field full names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("\n".join(f"{k}:{v}" for k, v in errors.items()))


class ValidationErrorCollector:
    """Runs the checks of each field, keeping their errors instead of stopping at one."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    async def collectValidationErrors(self, name: str | None, fn: Callable[..., Any],
                                      *args: Any, **kwargs: Any) -> Any:
        try:
            return await maybe_await(fn(*args, **kwargs))
        except CollectedValidationError as e:
            self.errors.update(e.errors)
        except ValueError as e:
            self.errors[name or ""] = str(e)
        return None

    def maybeRaiseCollectedErrors(self) -> None:
        if self.errors:
            raise CollectedValidationError(self.errors)


DefaultField: Any = object()  # CodebaseParameter: "the standard field"


class BaseParameter:
    """A field of the force form. Any keyword sets the attribute of that name."""

    # The attributes sent to the UI, in order; subclasses append theirs.
    spec_attributes: tuple[str, ...] = (
        "name", "fullName", "label", "tablabel", "type", "default", "required", "multiple",
        "regex", "hide", "maxsize", "autopopulate", "tooltip")
    name = ""
    parentName: str | None = None
    label = ""
    tablabel = ""
    type = ""
    default: Any = ""
    required = False
    multiple = False
    regex: Any = None
    debug = True
    hide = False
    maxsize: int | None = None
    autopopulate: Any = None
    tooltip = ""

    def __init__(self, name: str, label: str | None = None, tablabel: str | None = None,
                 regex: Any = None, **kw: Any) -> None:
        # Any other keyword becomes an attribute (4.3's API), after it is vetted.
        for problem in self._constructor_problems(name, kw):
            config.error(problem)
        vars(self).update(kw, name=name)
        self.label = label if label is not None else name
        self.tablabel = tablabel if tablabel is not None else self.label
        if regex:
            self.regex = re.compile(regex)

    @staticmethod
    def _constructor_problems(name: str, kw: dict[str, Any]) -> list[str]:
        found = []
        if name in RESERVED_NAMES:
            found.append(f"{name} cannot be used as a parameter name, because it is reserved")
        if "value" in kw:
            found.append(f"Use default='{kw['value']}' instead of value=... to give a default "
                         f"Parameter value")
        return found

    @property
    def fullName(self) -> str | None:
        """Unique name of the field in the form: parent names and ours joined by `_`."""
        if self.parentName and self.name:
            return f"{self.parentName}_{self.name}"
        return self.name or self.parentName

    def setParent(self, parent: BaseParameter | None) -> None:
        self.parentName = parent.fullName if parent else None

    def getFromKwargs(self, kwargs: dict[str, Any]) -> Any:
        """The value of this field in a submission (lists keyed by full name): blanks
        dropped, default if empty, regex and size checked, then parsed."""
        args = [a for a in kwargs.get(self.fullName or "", [])
                if not (isinstance(a, str) and not a.strip())]
        if not args:
            if self.required:
                raise ValidationError(f"'{self.label}' needs to be specified")
            args = self.default if self.multiple else [self.default]
        if self.regex:
            for arg in args:
                if not self.regex.match(arg):
                    raise ValidationError(f"{self.label}:'{arg}' does not match pattern "
                                          f"'{self.regex.pattern}'")
        if self.maxsize is not None:
            for arg in args:
                if len(arg) > self.maxsize:
                    raise ValidationError(f"{self.label}: is too large {len(arg)} > "
                                          f"{self.maxsize}")
        value = self.parse_from_args(args)
        if value is None:
            raise ValidationError(f"need {self.fullName}: no default provided by config")
        return value

    def updateFromKwargs(self, properties: dict[str, Any], kwargs: dict[str, Any],
                         collector: ValidationErrorCollector, **unused: Any) -> Any:
        """Put this field's value into `properties` (a plain dict)."""
        properties[self.name] = self.getFromKwargs(kwargs)

    def parse_from_args(self, l: list[Any]) -> Any:  # 4.3 names the list `l`
        values = l
        if self.multiple:
            return [self.parse_from_arg(v) for v in values]
        return self.parse_from_arg(values[0])

    def parse_from_arg(self, s: Any) -> Any:
        return s

    def _spec_attribute_names(self) -> list[str]:
        names: list[str] = []
        for cls in reversed(type(self).__mro__):
            for attr in cls.__dict__.get("spec_attributes", ()):
                if attr not in names:
                    names.append(attr)
        return names

    def getSpec(self) -> dict[str, Any]:
        """The field as the web UI expects it."""
        spec = {attr: getattr(self, attr) for attr in self._spec_attribute_names()}
        if spec.get("regex") is not None:
            # The reference puts the compiled pattern here, which cannot be sent as JSON.
            spec["regex"] = spec["regex"].pattern
        return spec


class FixedParameter(BaseParameter):
    """A value the user cannot change (hidden)."""

    type = "fixed"
    hide = True
    default = ""

    def parse_from_args(self, l: list[Any]) -> Any:  # 4.3 names the list `l`
        return self.default


class StringParameter(BaseParameter):
    """A one-line text field."""

    spec_attributes = ("size",)
    type = "text"
    size = 10


class TextParameter(StringParameter):
    """A multi-line text field."""

    spec_attributes = ("cols", "rows")  # type: ignore[assignment]  # 4.3's class attribute, a tuple here
    type = "textarea"
    cols = 80
    rows = 20

    def value_to_text(self, value: Any) -> str:
        return str(value)


class IntParameter(StringParameter):
    """An integer field."""

    type = "int"
    default = 0

    def parse_from_arg(self, s: Any) -> Any:
        return int(s)  # ValueError: "invalid literal for int() ..." shown to the user


class BooleanParameter(BaseParameter):
    """A check box: true only when the submitted value is exactly True."""

    type = "bool"

    def getFromKwargs(self, kwargs: dict[str, Any]) -> Any:
        return kwargs.get(self.fullName or "", [self.default]) == [True]


class UserNameParameter(StringParameter):
    """Who forces the build (the `owner`); with `need_email`, must contain an address."""

    spec_attributes = ("need_email",)
    type = "username"
    default = ""
    size = 30
    need_email = True

    def __init__(self, name: str = "username", label: str = "Your name:", **kw: Any) -> None:
        super().__init__(name, label, **kw)

    def parse_from_arg(self, s: Any) -> Any:
        if not s and not self.required:
            return s
        if self.need_email and VALID_EMAIL_ADDR.search(s) is None:
            raise ValidationError(f"{self.name}: please fill in email address in the form "
                                  f"'User <email@email.com>'")
        return s


class ChoiceStringParameter(BaseParameter):
    """A drop-down list; with `strict`, only the listed choices are accepted."""

    spec_attributes = ("choices", "strict")
    type = "list"
    choices: list[Any] = []
    strict = True

    def parse_from_arg(self, s: Any) -> Any:
        if self.strict and s not in self.choices:
            raise ValidationError(f"'{s}' does not belong to list of available choices "
                                  f"'{self.choices}'")
        return s

    def getChoices(self, master: Any, scheduler: Any, buildername: str | None) -> Any:
        return self.choices


class InheritBuildParameter(ChoiceStringParameter):
    """Choose an earlier build ("builder/number"); its force-form properties are copied
    (its `owner` as `orig_owner`)."""

    type = ChoiceStringParameter.type
    name = "inherit"
    compatible_builds: Any = None

    def getChoices(self, master: Any, scheduler: Any, buildername: str | None) -> Any:
        return self.compatible_builds(master, buildername)

    def getFromKwargs(self, kwargs: dict[str, Any]) -> Any:
        raise ValidationError("InheritBuildParameter can only be used by properties")

    async def updateFromKwargs(self, master: Any,  # type: ignore[override]  # 4.3's parameter signature, called by keyword
                               properties: dict[str, Any], changes: Any,
                               kwargs: dict[str, Any], **unused: Any) -> None:
        arg = kwargs.get(self.fullName or "", [""])[0]
        choice = arg.split(" ")[0]
        parts = choice.split("/")
        if len(parts) != 2:
            raise ValidationError(f"bad build: {arg}")
        builder_name, build_num = parts
        builder = await master.data.get(("builders", builder_name))
        if builder is None:
            raise ValidationError(f"unknown builder: {builder_name} in {arg}")
        try:
            number = int(build_num)
        except ValueError:
            raise ValidationError(f"unknown build: {builder_name} in {arg}") from None
        build = await master.data.get(("builders", builder["builderid"], "builds", number))
        if build is None:
            raise ValidationError(f"unknown build: {builder_name} in {arg}")
        build_props = await master.data.get(("builds", build["buildid"], "properties"))
        props: dict[str, Any] = {self.name: choice}
        for pname, (value, source) in (build_props or {}).items():
            if source == "Force Build Form":
                props["orig_owner" if pname == "owner" else pname] = value
        properties.update(props)


class WorkerChoiceParameter(ChoiceStringParameter):
    """Choose the worker of the build (`-any-`: no preference). Pair it with the builder's
    `canStartBuild=util.enforceChosenWorker`."""

    anySentinel = "-any-"
    label = "Worker"
    required = False
    strict = False

    def __init__(self, name: str = "workername", **kwargs: Any) -> None:
        super().__init__(name, **kwargs)

    def updateFromKwargs(self, kwargs: dict[str, Any],  # type: ignore[override]  # 4.3's parameter signature, called by keyword
                         **unused: Any) -> Any:
        if self.getFromKwargs(kwargs) == self.anySentinel:
            return None  # no worker chosen: no property at all
        return super().updateFromKwargs(kwargs=kwargs, **unused)

    async def getChoices(self, master: Any, scheduler: Any,
                         buildername: str | None) -> list[str]:
        if buildername is None:
            workers = await master.data.get(("workers",))
        else:
            builder = await master.data.get(("builders", buildername))
            workers = await master.data.get(("builders", builder["builderid"], "workers"))
        return [self.anySentinel, *sorted(w["name"] for w in workers)]


class FileParameter(BaseParameter):
    """A file upload (its content becomes the value)."""

    type = "file"
    maxsize = 1024 * 1024 * 10


class NestedParameter(BaseParameter):
    """A group of fields. Their values form a dict property named after the group (or, for
    a group without a name, are top-level properties)."""

    spec_attributes = ("layout", "columns")
    type = "nested"
    layout = "vertical"
    fields: list[BaseParameter] = []
    columns: int | None = None

    def __init__(self, name: str, fields: list[BaseParameter], **kwargs: Any) -> None:
        super().__init__(fields=fields, name=name, **kwargs)
        if self.columns is None:
            visible = [f for f in fields if not f.hide]
            self.columns = 2 if len(visible) >= 4 else 1
        if self.columns > 4:
            config.error("UI only support up to 4 columns in nested parameters")
        self.setParent(None)

    def setParent(self, parent: BaseParameter | None) -> None:
        super().setParent(parent)
        for f in self.fields:
            f.setParent(self)

    async def collectChildProperties(self, kwargs: dict[str, Any], properties: dict[str, Any],
                                     collector: ValidationErrorCollector, **kw: Any) -> None:
        """Run the fields; their values, as a dict, replace our entry of `kwargs`."""
        child: dict[str, Any] = {}
        for f in self.fields:
            await collector.collectValidationErrors(
                f.fullName, f.updateFromKwargs, kwargs=kwargs, properties=child,
                collector=collector, **kw)
        kwargs[self.fullName or ""] = child

    async def updateFromKwargs(self, kwargs: dict[str, Any],  # type: ignore[override]  # 4.3's parameter signature, called by keyword
                               properties: dict[str, Any],
                               collector: ValidationErrorCollector, **kw: Any) -> None:
        await self.collectChildProperties(kwargs=kwargs, properties=properties,
                                          collector=collector, **kw)
        target = properties.setdefault(self.name, {}) if self.name else properties
        target.update(kwargs[self.fullName or ""])

    def getSpec(self) -> dict[str, Any]:
        spec = super().getSpec()
        spec["fields"] = [f.getSpec() for f in self.fields]
        return spec


ParameterGroup = NestedParameter


class AnyPropertyParameter(NestedParameter):
    """A property whose name and value the user types (both checked against
    `c['validation']`)."""

    type = NestedParameter.type

    def __init__(self, name: str, **kw: Any) -> None:
        fields: list[BaseParameter] = [StringParameter(name="name", label="Name:"),
                                       StringParameter(name="value", label="Value:")]
        super().__init__(name, label="", fields=fields, **kw)

    def getFromKwargs(self, kwargs: dict[str, Any]) -> Any:
        raise ValidationError("AnyPropertyParameter can only be used by properties")

    async def updateFromKwargs(self, master: Any,  # type: ignore[override]  # 4.3's parameter signature, called by keyword
                               properties: dict[str, Any], kwargs: dict[str, Any],
                               collector: ValidationErrorCollector, **kw: Any) -> None:
        await self.collectChildProperties(master=master, properties=properties,
                                          kwargs=kwargs, collector=collector, **kw)
        values = kwargs[self.fullName or ""]
        pname, pvalue = values.get("name", ""), values.get("value", "")
        if not pname:
            return
        validation = master.config.validation
        if not validation["property_name"].match(pname) or \
                not validation["property_value"].match(pvalue):
            raise ValidationError(f"bad property name='{pname}', value='{pvalue}'")
        properties[pname] = pvalue


class CodebaseParameter(NestedParameter):
    """Branch, project, repository and revision (and optionally a patch) of one codebase;
    the result is a source stamp, not a property. A str instead of a field makes it fixed;
    None leaves it out."""

    type = NestedParameter.type
    codebase = ""

    def __init__(self, codebase: str, name: str | None = None, label: str | None = None,
                 branch: Any = DefaultField, revision: Any = DefaultField,
                 repository: Any = DefaultField, project: Any = DefaultField,
                 patch: Any = None, **kwargs: Any) -> None:
        name = name or codebase
        if label is None and codebase:
            label = "Codebase: " + codebase
        given = {"branch": branch, "revision": revision, "repository": repository,
                 "project": project}
        fields: list[BaseParameter] = []
        for key in sorted(given):
            value = given[key]
            if value is DefaultField:
                value = StringParameter(name=key, label=key.capitalize() + ":")
            elif isinstance(value, str):
                value = FixedParameter(name=key, default=value)
            if value:
                fields.append(value)
        if patch is not None:
            if patch.name != "patch":
                config.error("patch parameter of a codebase must be named 'patch'")
            fields.append(patch)
            if self.columns is None and "columns" not in kwargs:
                self.columns = 1
        super().__init__(name=name, label=label, codebase=codebase, fields=fields, **kwargs)

    def createSourcestamp(self, properties: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        return kwargs.get(self.fullName or "", {})

    async def updateFromKwargs(self, sourcestamps: dict[str, Any] | None,  # type: ignore[override]  # 4.3's parameter signature, called by keyword
                               kwargs: dict[str, Any], properties: dict[str, Any],
                               collector: ValidationErrorCollector, **kw: Any) -> None:
        await self.collectChildProperties(sourcestamps=sourcestamps, properties=properties,
                                          kwargs=kwargs, collector=collector, **kw)
        ss = self.createSourcestamp(properties, kwargs)
        if ss is not None and sourcestamps is not None:
            patch = ss.pop("patch", None)
            if patch is not None:
                for k, v in patch.items():
                    ss["patch_" + k] = v
            sourcestamps[self.codebase] = ss


def oneCodebase(**kw: Any) -> list[CodebaseParameter]:
    return [CodebaseParameter("", **kw)]


class PatchParameter(NestedParameter):
    """A patch upload: body (file), level, author, comment, subdir; pass a field of one of
    these names to replace it."""

    columns = 1

    def __init__(self, **kwargs: Any) -> None:
        name = kwargs.pop("name", "patch")
        standard: list[BaseParameter] = [
            FileParameter("body"), IntParameter("level", default=1),
            StringParameter("author", default=""), StringParameter("comment", default=""),
            StringParameter("subdir", default=".")]
        fields = [kwargs.pop(f.name, f) for f in standard]
        super().__init__(name, fields=fields, **kwargs)


class ForceScheduler(ReconfigurableBaseScheduler):
    """Creates buildsets on demand from the web UI's force form (the `force` control
    action of `/forceschedulers/<name>`)."""

    def __init__(self, name: str, builderNames: Any, **kwargs: Any) -> None:
        super().__init__(name=name, builderNames=builderNames, **kwargs)

    # The configuration checks below go through these two (public in 4.3), so that a subclass
    # can widen what it accepts.
    def checkIfType(self, obj: Any, chkType: type | tuple[type, ...]) -> bool:
        return isinstance(obj, chkType)

    def checkIfListOfType(self, obj: Any, chkType: type | tuple[type, ...]) -> bool:
        """True for a list (not any other sequence) whose every item is a `chkType`."""
        return self.checkIfType(obj, list) and all(self.checkIfType(item, chkType)
                                                   for item in obj)

    def checkConfig(self, builderNames: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    username: Any = None, reason: Any = None,
                    reasonString: str = "A build was forced by '%(owner)s': %(reason)s",
                    buttonName: str | None = None, codebases: Any = None,
                    label: str | None = None, properties: Any = None, priority: Any = None,
                    **kwargs: Any) -> None:
        super().checkConfig(builderNames=builderNames, **kwargs)
        name = self.name
        if not name:
            config.error(f"ForceScheduler name must not be empty: {name!r}")
        elif not isIdentifier(10**6, name):
            config.error(f"ForceScheduler name must be an identifier: {name!r}")
        if not self.checkIfListOfType(builderNames, str):
            config.error(f"ForceScheduler '{name}': builderNames must be a list of strings: "
                         f"{builderNames!r}")
        if username is not None and not isinstance(username, BaseParameter):
            config.error(f"ForceScheduler '{name}': username must be a StringParameter: "
                         f"{username!r}")
        if reason is not None and not isinstance(reason, BaseParameter):
            config.error(f"ForceScheduler '{name}': reason must be a StringParameter: "
                         f"{reason!r}")
        if properties is not None and not self.checkIfListOfType(properties, BaseParameter):
            config.error(f"ForceScheduler '{name}': properties must be a list of "
                         f"BaseParameters: {properties!r}")
        if priority is not None and not isinstance(priority, IntParameter):
            config.error(f"ForceScheduler '{name}': priority must be a IntParameter: "
                         f"{priority!r}")
        if codebases is not None:
            if not codebases:
                config.error(f"ForceScheduler '{name}': 'codebases' cannot be empty; use "
                             f"[CodebaseParameter(codebase='', hide=True)] if needed: "
                             f"{codebases!r} ")
            if not isinstance(codebases, list):
                config.error(f"ForceScheduler '{name}': 'codebases' should be a list of "
                             f"strings or CodebaseParameter, not {type(codebases)}")
            else:
                for cb in codebases:
                    if not isinstance(cb, (str, CodebaseParameter)):
                        config.error(f"ForceScheduler '{name}': 'codebases' must be a list of "
                                     f"strings or CodebaseParameter objects: {codebases!r}")

    def reconfigService(self, builderNames: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                        username: Any = None, reason: Any = None,
                        reasonString: str = "A build was forced by '%(owner)s': %(reason)s",
                        buttonName: str | None = None, codebases: Any = None,
                        label: str | None = None, properties: Any = None,
                        priority: Any = None, **kwargs: Any) -> Any:
        self.reason = reason if reason is not None else StringParameter(
            name="reason", default="force build", size=20)
        self.username = username if username is not None else UserNameParameter()
        self.forced_priority = priority if priority is not None else IntParameter(
            name="priority", default=0)
        self.label = self.name if label is None else label
        self.forcedProperties: list[BaseParameter] = []
        codebase_defaults: dict[str, dict[str, Any]] = {}
        for cb in codebases if codebases is not None else [CodebaseParameter(codebase="")]:
            if isinstance(cb, str):
                cb = CodebaseParameter(codebase=cb)
            self.forcedProperties.append(cb)
            codebase_defaults[cb.codebase] = {"branch": "", "repository": "", "revision": ""}
        super().reconfigService(builderNames=builderNames, codebases=codebase_defaults,
                                **kwargs)
        if properties:
            self.forcedProperties.extend(properties)
        self.all_fields: list[BaseParameter] = [
            NestedParameter(name="", fields=[self.username, self.reason,
                                             self.forced_priority])]
        self.all_fields.extend(self.forcedProperties)
        self.reasonString = reasonString
        self.buttonName = buttonName or self.name
        return None

    @property
    def priorityParameter(self) -> IntParameter:
        """Older name of `forced_priority`."""
        return self.forced_priority

    async def gatherPropertiesAndChanges(self, collector: ValidationErrorCollector,
                                         **kwargs: Any) -> tuple[Properties, list[int],
                                                                 dict[str, Any]]:
        """Run every parameter: (properties, change ids, source stamps by codebase)."""
        properties: dict[str, Any] = {}
        changeids: list[Any] = []
        sourcestamps: dict[str, Any] = {}
        for param in self.forcedProperties:
            await collector.collectValidationErrors(
                param.fullName, param.updateFromKwargs, master=self.master,
                properties=properties, changes=changeids, sourcestamps=sourcestamps,
                collector=collector, kwargs=kwargs)
        ids = [c if isinstance(c, int) else c.number for c in changeids]
        real = Properties()
        for pname, pvalue in properties.items():
            real.setProperty(pname, pvalue, "Force Build Form")
        return real, ids, sourcestamps

    async def computeBuilderNames(self, builderNames: list[str] | None = None,
                                  builderid: Any = None) -> list[str]:
        if builderNames is None:
            if builderid is not None:
                builder = await self.master.data.get(("builders", int(builderid)))
                return [builder["name"]] if builder is not None else []
            return list(self.builderNames)
        return sorted(set(builderNames).intersection(self.builderNames))

    async def force(self, owner: str | None, builderNames: list[str] | None = None,
                    builderid: Any = None, **kwargs: Any) -> tuple[int, dict[int, int]]:
        """Validate the submitted form and create the buildset: (bsid, {builderid: brid}).

        Raises KeyError if no builder is selected, CollectedValidationError (with `errors`
        by field) if values are refused.
        """
        names = await self.computeBuilderNames(builderNames, builderid)
        if not names:
            raise KeyError("builderNames not specified or not supported")
        values = {k: v if isinstance(v, list) else [v] for k, v in kwargs.items()}
        collector = ValidationErrorCollector()
        reason = await collector.collectValidationErrors(
            self.reason.fullName, self.reason.getFromKwargs, values)
        if owner is None or owner == "anonymous":
            owner = await collector.collectValidationErrors(
                self.username.fullName, self.username.getFromKwargs, values)
        priority = await collector.collectValidationErrors(
            self.forced_priority.fullName, self.forced_priority.getFromKwargs, values)
        properties, _, sourcestamps = await self.gatherPropertiesAndChanges(collector,
                                                                            **values)
        collector.maybeRaiseCollectedErrors()
        properties.setProperty("reason", reason, "Force Build Form")
        properties.setProperty("owner", owner, "Force Build Form")
        text = self.reasonString % {"owner": owner, "reason": reason}
        stamps = []
        for cb, ss in sourcestamps.items():
            ss["codebase"] = cb
            stamps.append(ss)
        return await self.addBuildsetForSourceStampsWithDefaults(
            reason=text, sourcestamps=stamps, properties=properties, builderNames=names,
            priority=priority)
