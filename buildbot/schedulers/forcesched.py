"""ForceScheduler and its form parameters (the "force build" dialog of the web UI)."""

from __future__ import annotations

import re
from typing import Any

from buildbot import config
from buildbot.process.properties import Properties
from buildbot.schedulers.base import BaseScheduler
from buildbot.util.identifiers import isIdentifier


class ValidationError(ValueError):
    """Form input rejected; `errors` maps field full names to messages."""

    def __init__(self, errors: dict[str, str] | str) -> None:
        super().__init__(errors)
        self.errors = errors if isinstance(errors, dict) else {"": errors}


class BaseParameter:
    """A field of the force form."""

    type = ""
    name = ""
    parentName: str | None = None
    label = ""
    tablabel = ""
    default: Any = ""
    required = False
    multiple = False
    regex: Any = None
    hide = False
    maxsize: int | None = None
    autopopulate: Any = None
    tooltip = ""
    spec_attributes: tuple[str, ...] = ()

    def __init__(self, name: str, label: str | None = None, tablabel: str | None = None,
                 regex: Any = None, **kw: Any) -> None:
        self.name = name
        self.label = name if label is None else label
        self.tablabel = self.label if tablabel is None else tablabel
        if regex:
            self.regex = re.compile(regex) if isinstance(regex, str) else regex
        for key, value in kw.items():
            if not hasattr(self, key):
                config.error(f"{type(self).__name__}: unknown argument {key!r}")
                continue
            setattr(self, key, value)

    @property
    def fullName(self) -> str | None:
        if not self.name:
            return self.parentName
        if self.parentName:
            return f"{self.parentName}_{self.name}"
        return self.name

    def setParent(self, parent: BaseParameter | None) -> None:
        self.parentName = parent.fullName if parent is not None else None

    def getSpec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "name": self.name, "fullName": self.fullName, "label": self.label,
            "tablabel": self.tablabel, "type": self.type, "default": self.default,
            "required": self.required, "multiple": self.multiple, "regex": None,
            "hide": self.hide, "maxsize": self.maxsize, "autopopulate": self.autopopulate,
            "tooltip": self.tooltip,
        }
        for attr in self.spec_attributes:
            spec[attr] = getattr(self, attr)
        return spec

    def getFromKwargs(self, kwargs: dict[str, Any]) -> Any:
        args = kwargs.get(self.fullName, [])
        if not isinstance(args, list):
            args = [args]
        if not args:
            if self.required:
                raise ValidationError({self.fullName or "": f"'{self.label}' needs to be specified"})
            args = self.default if self.multiple else [self.default]
            if not isinstance(args, list):
                args = [args]
        if self.regex is not None:
            for a in args:
                if not self.regex.match(str(a)):
                    raise ValidationError({self.fullName or "": f"{self.label}:'{a}' does not "
                                           f"match pattern '{self.regex.pattern}'"})
        if self.maxsize is not None:
            for a in args:
                if len(str(a)) > self.maxsize:
                    raise ValidationError({self.fullName or "": f"value too large for "
                                           f"{self.label}"})
        try:
            parsed = [self.parse_from_arg(a) for a in args]
        except ValueError as e:
            raise ValidationError({self.fullName or "": str(e)}) from None
        return parsed if self.multiple else parsed[0]

    def parse_from_arg(self, s: Any) -> Any:
        return s

    def updateFromKwargs(self, master: Any, properties: Properties,
                         kwargs: dict[str, Any], collector: dict[str, str]) -> None:
        value = self.getFromKwargs(kwargs)
        properties.setProperty(self.name, value, "Force Build Form")


class FixedParameter(BaseParameter):
    type = "fixed"
    hide = True
    default = ""

    def parse_from_arg(self, s: Any) -> Any:
        return self.default

    def getFromKwargs(self, kwargs: dict[str, Any]) -> Any:
        return self.default


class StringParameter(BaseParameter):
    type = "text"
    size = 10
    spec_attributes = ("size",)

    def parse_from_arg(self, s: Any) -> Any:
        return s if isinstance(s, str) else str(s)


class TextParameter(StringParameter):
    type = "textarea"
    cols = 80
    rows = 20
    spec_attributes = ("size", "cols", "rows")

    def value_to_text(self, value: Any) -> str:
        return str(value)


class IntParameter(StringParameter):
    type = "int"
    default = 0

    def parse_from_arg(self, s: Any) -> Any:
        return int(s)


class BooleanParameter(BaseParameter):
    type = "bool"
    default = False

    def getFromKwargs(self, kwargs: dict[str, Any]) -> Any:
        value = kwargs.get(self.fullName, None)
        if value is None:
            return self.default
        if isinstance(value, list):
            value = value[0] if value else None
        return value is True or value in ("True", "true", "on", "1", 1)


class UserNameParameter(StringParameter):
    type = "username"
    default = ""
    size = 30
    need_email = True
    spec_attributes = ("size", "need_email")

    def __init__(self, name: str = "username", label: str = "Your name:", **kw: Any) -> None:
        super().__init__(name, label, **kw)

    def parse_from_arg(self, s: Any) -> Any:
        if not s and not self.required:
            return s
        if self.need_email and not re.match(r"^.*<[^@>]+@[^>]+>\s*$", str(s)):
            raise ValueError(f"{self.name}: please fill in name and email in the form "
                             f"'Name <email@address>'")
        return s


class ChoiceStringParameter(BaseParameter):
    type = "list"
    choices: list[Any] = []
    strict = True
    spec_attributes = ("choices", "strict")

    def parse_from_arg(self, s: Any) -> Any:
        if self.strict and s not in self.choices:
            raise ValueError(f"'{s}' does not belong to list of available choices "
                             f"'{self.choices}'")
        return s

    def getChoices(self, master: Any, scheduler: Any, buildername: str) -> list[Any]:
        return list(self.choices)


class FileParameter(BaseParameter):
    type = "file"
    maxsize = 1024 * 1024 * 10


class NestedParameter(BaseParameter):
    """A group of fields; the values of its children form one dict property (named)."""

    type = "nested"
    layout = "vertical"
    columns: int | None = None
    spec_attributes = ("layout", "columns")

    def __init__(self, name: str, fields: list[BaseParameter] | None = None, **kw: Any) -> None:
        self.fields = list(fields or [])
        super().__init__(name, **kw)
        if self.columns is None:
            self.columns = 1 if len(self.fields) < 4 else 2
        self.setParent(None)

    def setParent(self, parent: BaseParameter | None) -> None:
        super().setParent(parent)
        for f in self.fields:
            f.setParent(self)

    def getSpec(self) -> dict[str, Any]:
        spec = super().getSpec()
        spec["fields"] = [f.getSpec() for f in self.fields]
        return spec

    def collectChildProperties(self, master: Any, properties: Properties,
                               collector: dict[str, str], kwargs: dict[str, Any]) -> dict[str, Any]:
        child_props = Properties()
        for f in self.fields:
            try:
                f.updateFromKwargs(master, child_props, kwargs, collector)
            except ValidationError as e:
                collector.update(e.errors)
        return {k: v for k, (v, _) in child_props.asDict().items()}

    def updateFromKwargs(self, master: Any, properties: Properties,
                         kwargs: dict[str, Any], collector: dict[str, str]) -> None:
        values = self.collectChildProperties(master, properties, collector, kwargs)
        if self.name:
            properties.setProperty(self.name, values, "Force Build Form")
        else:
            for k, v in values.items():
                properties.setProperty(k, v, "Force Build Form")


ParameterGroup = NestedParameter


class AnyPropertyParameter(NestedParameter):
    """A free-form property name and value."""

    def __init__(self, name: str, **kw: Any) -> None:
        fields = [StringParameter(name="name", label="Name:"),
                  StringParameter(name="value", label="Value:")]
        kw.setdefault("label", "")
        super().__init__(name, fields=fields, **kw)

    def updateFromKwargs(self, master: Any, properties: Properties,
                         kwargs: dict[str, Any], collector: dict[str, str]) -> None:
        values = self.collectChildProperties(master, properties, collector, kwargs)
        pname, pvalue = values.get("name"), values.get("value")
        if not pname:
            return
        validation = getattr(master.config, "validation", {}) or {}
        pname_re = validation.get("property_name")
        if pname_re is not None and not pname_re.match(pname):
            raise ValidationError({self.fullName or "": f"bad property name='{pname}'"})
        properties.setProperty(pname, pvalue, "Force Build Form")


class CodebaseParameter(NestedParameter):
    """Branch, revision, repository and project (and optionally a patch) of one codebase."""

    def __init__(self, codebase: str, name: str | None = None, label: str | None = None,
                 branch: Any = ..., revision: Any = ..., repository: Any = ...,
                 project: Any = ..., patch: Any = None, **kw: Any) -> None:
        self.codebase = codebase
        if name is None:
            name = codebase
        if label is None and codebase:
            label = f"Codebase: {codebase}"
        defaults = {"branch": ("Branch:", branch), "project": ("Project:", project),
                    "repository": ("Repository:", repository),
                    "revision": ("Revision:", revision)}
        fields: list[BaseParameter] = []
        for fname in ("branch", "project", "repository", "revision"):
            flabel, value = defaults[fname]
            if value is ...:
                fields.append(StringParameter(name=fname, label=flabel))
            elif value is None:
                continue
            elif isinstance(value, str):
                fields.append(FixedParameter(name=fname, default=value))
            else:
                value.name = fname
                fields.append(value)
        if patch is not None:
            if patch.name != "patch":
                config.error("patch parameter of a codebase must be named 'patch'")
            fields.append(patch)
        kw.setdefault("columns", 2)
        super().__init__(name, fields=fields, label=label or "", **kw)

    def createSourcestamp(self, properties: Properties, kwargs: dict[str, Any],
                          collector: dict[str, str], master: Any) -> dict[str, Any]:
        values = self.collectChildProperties(master, properties, collector, kwargs)
        ss = {"codebase": self.codebase, "branch": values.get("branch"),
              "revision": values.get("revision"), "repository": values.get("repository", ""),
              "project": values.get("project", "")}
        for key in ("branch", "revision"):
            if ss[key] == "":
                ss[key] = None
        patch = values.get("patch")
        if isinstance(patch, dict) and patch.get("body"):
            body = patch["body"]
            ss.update(patch_body=body.encode() if isinstance(body, str) else body,
                      patch_level=patch.get("level", 1), patch_author=patch.get("author", ""),
                      patch_comment=patch.get("comment", ""),
                      patch_subdir=patch.get("subdir", "."))
        validation = getattr(master.config, "validation", {}) or {}
        for key in ("branch", "revision"):
            rx = validation.get(key)
            if ss[key] and rx is not None and not rx.match(ss[key]):
                collector[f"{self.fullName}_{key}" if self.fullName else key] = \
                    f"Invalid {key}: {ss[key]!r}"
        return ss

    def updateFromKwargs(self, master: Any, properties: Properties,
                         kwargs: dict[str, Any], collector: dict[str, str]) -> None:
        pass  # codebases become source stamps, not properties


class PatchParameter(NestedParameter):
    """A patch upload: body, level, author, comment, subdir."""

    def __init__(self, **kw: Any) -> None:
        fields = [FileParameter(name="body", maxsize=1024 * 1024 * 10),
                  IntParameter(name="level", default=1),
                  StringParameter(name="author", default=""),
                  StringParameter(name="comment", default=""),
                  StringParameter(name="subdir", default=".")]
        overrides = {k: kw.pop(k) for k in list(kw) if k in {f.name for f in fields}}
        for f in fields:
            if f.name in overrides:
                f.default = overrides[f.name]
        kw.setdefault("columns", 1)
        super().__init__("patch", fields=fields, **kw)


class WorkerChoiceParameter(ChoiceStringParameter):
    """Choose a worker for the build (`-any-` lets the master choose)."""

    anySentinel = "-any-"
    strict = False

    def __init__(self, name: str = "workername", **kw: Any) -> None:
        kw.setdefault("label", "Worker")
        kw.setdefault("default", self.anySentinel)
        super().__init__(name, **kw)


class InheritBuildParameter(ChoiceStringParameter):
    name = "inherit"
    compatible_builds: Any = None

    def __init__(self, compatible_builds: Any = None, name: str = "inherit", **kw: Any) -> None:
        super().__init__(name, **kw)
        self.compatible_builds = compatible_builds


class ForceScheduler(BaseScheduler):
    """Creates buildsets on demand from the web UI's force form (or the `force` action)."""

    compare_attrs = BaseScheduler.compare_attrs

    def checkConfig(self, name: str, builderNames: Any, username: Any = None,
                    reason: Any = None, reasonString: str = "A build was forced by "
                    "'%(owner)s': %(reason)s", buttonName: str | None = None,
                    label: str | None = None, codebases: Any = None, properties: Any = None,
                    priority: Any = None, **kw: Any) -> None:
        if not isIdentifier(50, name):
            config.error(f"ForceScheduler name must be an identifier: '{name}'")
        if not isinstance(builderNames, (list, tuple)) or \
                not all(isinstance(b, str) for b in builderNames):
            config.error(f"ForceScheduler '{name}': builderNames must be a list of strings: "
                         f"{builderNames!r}")
        username = UserNameParameter() if username is None else username
        reason = StringParameter(name="reason", default="force build", size=20) \
            if reason is None else reason
        priority = IntParameter(name="priority", default=0) if priority is None else priority
        for what, p in (("username", username), ("reason", reason)):
            if not isinstance(p, BaseParameter):
                config.error(f"ForceScheduler '{name}': {what} must be a BaseParameter: {p!r}")
        if not isinstance(priority, IntParameter):
            config.error(f"ForceScheduler '{name}': priority must be a IntParameter: "
                         f"{priority!r}")
        if codebases is None:
            codebases = [CodebaseParameter(codebase="")]
        elif not codebases:
            config.error(f"ForceScheduler '{name}': 'codebases' cannot be empty; use "
                         f"[CodebaseParameter(codebase='', hide=True)] if needed: "
                         f"{codebases!r} ")
        cb_params: list[CodebaseParameter] = []
        for cb in codebases or []:
            if isinstance(cb, str):
                cb = CodebaseParameter(codebase=cb)
            elif not isinstance(cb, CodebaseParameter):
                config.error(f"ForceScheduler '{name}': 'codebases' must be a list of strings "
                             f"or CodebaseParameter objects: {codebases!r}")
                continue
            cb_params.append(cb)
        props = properties or []
        if not isinstance(props, (list, tuple)) or \
                not all(isinstance(p, BaseParameter) for p in props):
            config.error(f"ForceScheduler '{name}': properties must be a list of "
                         f"BaseParameters: {properties!r}")
            props = []
        super().checkConfig(name=name, builderNames=list(builderNames or []), properties={},
                            codebases=[cb.codebase for cb in cb_params] or [""])
        self.username = username
        self.reason = reason
        self.reasonString = reasonString
        self.buttonName = buttonName or name
        self.label = label or name
        self.forcedProperties = list(props)
        self.codebaseParameters = cb_params
        self.priorityParameter = priority
        self.all_fields = [NestedParameter(name="", fields=[username, reason, priority])]
        self.all_fields.extend(cb_params)
        self.all_fields.extend(self.forcedProperties)

    def reconfigService(self, name: str, builderNames: Any, *args: Any, **kw: Any) -> Any:
        super().reconfigService(name, list(builderNames), codebases=list(self.codebases))
        return None

    async def force(self, owner: str | None, builderNames: list[str] | None = None,
                    builderid: Any = None, **kwargs: Any) -> tuple[int, dict[int, int]]:
        """Validate the form values and create the buildset."""
        names = list(self.builderNames)
        if builderid is not None:
            row = await self.master.data.get(("builders", int(builderid)))
            names = [row["name"]] if row is not None and row["name"] in names else []
        elif builderNames:
            names = [n for n in builderNames if n in names]
        if not names:
            raise KeyError("builderNames not specified or not supported")
        collector: dict[str, str] = {}
        props = Properties()
        props.master = self.master
        try:
            owner_value = self.username.getFromKwargs(kwargs)
        except ValidationError as e:
            collector.update(e.errors)
            owner_value = None
        if not owner or owner == "anonymous":
            owner = owner_value or owner or "anonymous"
        reason_value = ""
        try:
            reason_value = self.reason.getFromKwargs(kwargs)
        except ValidationError as e:
            collector.update(e.errors)
        priority = 0
        try:
            priority = self.priorityParameter.getFromKwargs(kwargs)
        except ValidationError as e:
            collector.update(e.errors)
        for param in self.forcedProperties:
            try:
                param.updateFromKwargs(self.master, props, kwargs, collector)
            except ValidationError as e:
                collector.update(e.errors)
        stamps = [cb.createSourcestamp(props, kwargs, collector, self.master)
                  for cb in self.codebaseParameters]
        if collector:
            raise ValidationError(collector)
        props.setProperty("reason", reason_value, "Force Build Form")
        props.setProperty("owner", owner, "Force Build Form")
        reason = self.reasonString % {"owner": owner, "reason": reason_value}
        return await self.addBuildsetForSourceStampsWithDefaults(
            reason, stamps, waited_for=False, properties=props, builderNames=names,
            priority=priority)
