"""Build properties and renderables: the values master.cfg computes from a build when needed.

`render(value, props)` is the internal entry point: plain values come back at once, lists,
tuples and dicts (keys and values) are rendered element by element, and objects providing
`IRenderable` are asked for their rendering (a value, a Deferred or a coroutine; a renderable
result is rendered again). `Properties.render` wraps it in a Deferred for plugins.

`Interpolate` parses its format once, when constructed; malformed selectors are config errors
(through `buildbot.config.errors.error`, so they are collected while master.cfg loads).
"""

from __future__ import annotations

import inspect
import json
import operator
import re
from collections.abc import Callable, Iterable
from typing import Any

from twisted.internet import defer
from twisted.python import components
from zope.interface import implementer
from zope.interface.interface import adapter_hooks

from buildbot.interfaces import IProperties, IRenderable
from buildbot.util.comparable import ConfigViewMixin
from buildbot.util.deferred import ensure_deferred
from buildbot.util.misc import flatten
from buildbot.util.redact import SecretRedactor

# Values that render to themselves; checked with `type(v) in`, which is cheaper than isinstance.
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), bytes})
# Property values that are JSON-serialisable without asking json.dumps.
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})
_MISSING: Any = object()
_is_renderable = IRenderable.providedBy


def _config_error(msg: str) -> None:
    # Imported here: the config package imports this module (for its own renderables).
    from buildbot.config.errors import error

    error(msg)


async def render(value: Any, props: Properties) -> Any:
    """Render `value` against `props`; plain values and containers of them cost no Deferred."""
    cls = type(value)
    if cls in _PLAIN_TYPES:
        return value
    if cls is list or cls is tuple or (isinstance(value, (list, tuple)) and
                                       not _is_renderable(value)):
        out = []
        for item in value:
            out.append(item if type(item) in _PLAIN_TYPES else await render(item, props))
        return out if isinstance(value, list) else tuple(out)
    if isinstance(value, dict) and (cls is dict or not _is_renderable(value)):
        return {(k if type(k) in _PLAIN_TYPES else await render(k, props)):
                (v if type(v) in _PLAIN_TYPES else await render(v, props))
                for k, v in value.items()}
    if _is_renderable(value):
        result = value.getRenderingFor(props)
        if isinstance(result, defer.Deferred) or inspect.isawaitable(result):
            result = await result
        if result is value or type(result) in _PLAIN_TYPES:
            return result
        return await render(result, props)
    return value


# --- Properties -----------------------------------------------------------------------------


@implementer(IProperties)
class Properties(ConfigViewMixin):
    """Named values, each with the source that set it (`{name: (value, source)}`).

    `build` is the build being rendered for (None for config-time rendering); `master` is the
    build's master, or the one set directly when there is no build.
    """

    compare_attrs = ("properties",)

    def __init__(self, **kwargs: Any) -> None:
        self.properties: dict[str, tuple[Any, str]] = {}
        self.runtime: set[str] = set()
        self.build: Any = None
        self._master: Any = None
        # The secrets rendered against these properties, hidden from whatever the build
        # writes (logs, properties, state strings).
        self.redactor = SecretRedactor()
        if kwargs:
            self.update(kwargs, "TEST")

    @classmethod
    def fromDict(cls, propDict: dict[str, Any]) -> Properties:
        """Build from the API shape `{name: (value, source)}` (lists accepted for pairs)."""
        props = cls()
        for name, (value, source) in propDict.items():
            props.setProperty(name, value, source)
        return props

    @property
    def master(self) -> Any:
        """The master: the build's when rendering for a build, else the one assigned."""
        if self.build is not None:
            return self.build.master
        return self._master

    @master.setter
    def master(self, value: Any) -> None:
        self._master = value

    # What a renderer can read about the build's sources: taken from the build when there
    # is one, else from values assigned (tests, config-time rendering); AttributeError if
    # neither, as in 4.3.
    _sourcestamps: list[dict[str, Any]] | None = None
    _changes: list[dict[str, Any]] | None = None

    @property
    def sourcestamps(self) -> list[dict[str, Any]]:
        """The build's source stamps as dicts (`codebase`, `branch`, `revision`...)."""
        if self.build is not None:
            return [ss.asDict() for ss in self.build.getAllSourceStamps()]
        if self._sourcestamps is None:
            raise AttributeError("neither build nor _sourcestamps are set")
        return self._sourcestamps

    @sourcestamps.setter
    def sourcestamps(self, value: list[dict[str, Any]]) -> None:
        self._sourcestamps = value

    def getSourceStamp(self, codebase: str = "") -> dict[str, Any] | None:
        """The source stamp dict of `codebase`, or None."""
        return next((ss for ss in self.sourcestamps if ss["codebase"] == codebase), None)

    @property
    def changes(self) -> list[dict[str, Any]]:
        """The build's changes as dicts (`author`, `files`, `revision`...)."""
        if self.build is not None:
            return [c.asChDict() for c in self.build.allChanges()]
        if self._changes is None:
            raise AttributeError("neither build nor _changes are set")
        return self._changes

    @changes.setter
    def changes(self, value: list[dict[str, Any]]) -> None:
        self._changes = value

    @property
    def files(self) -> list[str]:
        """Every file named by the build's changes."""
        if self.build is not None:
            return list(self.build.allFiles())
        return [f for change in self.changes for f in change["files"]]

    def getBuild(self) -> Any:
        """The build these properties belong to, or None."""
        return self.build

    def getProperties(self) -> Properties:
        """Self (so that a Properties can stand wherever an IProperties provider is used)."""
        return self

    def __getitem__(self, name: str) -> Any:
        """The value of `name`; KeyError when absent."""
        return self.properties[name][0]

    def __contains__(self, name: object) -> bool:
        return name in self.properties

    def hasProperty(self, name: str) -> bool:
        """Whether `name` is set (to any value, None included)."""
        return name in self.properties

    has_key = hasProperty

    def getProperty(self, name: str, default: Any = None) -> Any:
        """The value of `name`, or `default` when absent."""
        entry = self.properties.get(name, _MISSING)
        return default if entry is _MISSING else entry[0]

    def getPropertySource(self, name: str) -> str:
        """The source of `name`; KeyError when absent."""
        return self.properties[name][1]

    def setProperty(self, name: str, value: Any, source: str, runtime: bool = False) -> None:
        """Set `name`; the value must be JSON-serialisable (TypeError otherwise) unless it is
        itself renderable. `runtime` marks values set by a running build."""
        if not isinstance(name, str):
            if not isinstance(name, bytes):
                raise TypeError(f"property name must be a string, not {type(name).__name__}")
            name = name.decode("utf-8")
        if type(value) not in _JSON_SCALARS and not _is_renderable(value):
            json.dumps(value)  # raises TypeError naming the offending type
        self.properties[name] = (value, source)
        if runtime:
            self.runtime.add(name)

    def update(self, dict: dict[str, Any], source: str, runtime: bool = False) -> None:
        """Set every entry of `dict` (the reference's argument name) with one source."""
        for name, value in dict.items():
            self.setProperty(name, value, source, runtime=runtime)

    def updateFromProperties(self, other: Properties) -> None:
        """Copy every entry of `other`, runtime flags included."""
        self.properties.update(other.properties)
        self.runtime.update(other.runtime)

    def updateFromPropertiesNoRuntime(self, other: Properties) -> None:
        """Copy the entries of `other` that were not set at run time."""
        for name, entry in other.properties.items():
            if name not in other.runtime:
                self.properties[name] = entry

    def keys(self) -> list[str]:
        """Property names, in the order they were first set."""
        return list(self.properties)

    def asList(self) -> list[tuple[str, Any, str]]:
        """`[(name, value, source)]` sorted by name."""
        return [(name, value, source)
                for name, (value, source) in sorted(self.properties.items())]

    def asDict(self) -> dict[str, tuple[Any, str]]:
        """`{name: (value, source)}` (a copy)."""
        return dict(self.properties)

    def getConfigDict(self) -> dict[str, Any]:
        """The IConfigured description shown by the web UI."""
        return {"properties": self.asDict()}

    def render(self, value: Any) -> defer.Deferred[Any]:
        """Plugin-facing: a Deferred firing with `value` rendered against these properties."""
        if type(value) in _PLAIN_TYPES:
            return defer.succeed(value)
        return ensure_deferred(render(value, self))

    def useSecret(self, secret_value: Any, secret_name: str) -> None:
        """Remember a rendered secret so that `cleanupTextFromSecrets` can hide it."""
        self.redactor.add(secret_value, secret_name)

    def get_used_secrets(self) -> dict[str, str]:
        """Secrets rendered so far: `{value: "<name>"}` (a copy)."""
        return self.redactor.placeholders()

    def cleanupTextFromSecrets(self, text: str) -> str:
        """`text` with every rendered secret value replaced by `<name>`."""
        return self.redactor.redact(text)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Properties):
            return NotImplemented
        return self.properties == other.properties

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

    def __repr__(self) -> str:
        values = {name: value for name, (value, _) in self.properties.items()}
        return f"Properties(**{values!r})"


async def properties_to_store(props: Properties) -> Properties:
    """What a build writes to the database: `props` itself when it holds no renderable value
    and no secret was rendered for it (the common case, no copy), else a copy with the
    values rendered and every secret replaced by `<name>`. The build keeps the real values
    in memory, so later steps still render them."""
    entries = props.properties
    renderable = [name for name, (value, _) in entries.items()
                  if type(value) not in _JSON_SCALARS and _is_renderable(value)]
    if not renderable and not props.redactor:
        return props
    values = {name: value for name, (value, _) in entries.items()}
    for name in renderable:
        values[name] = await render(values[name], props)  # may register more secrets
    redactor = props.redactor
    stored = Properties()
    stored.properties = {name: (redactor.redact_value(values[name]), source)
                         for name, (_, source) in entries.items()}
    return stored


def _adapt_to_properties(iface: Any, obj: Any) -> Any:
    # Lets `IProperties(build)` / `IProperties(step)` return their Properties without every
    # class registering an adapter.
    if iface is IProperties:
        getter = getattr(obj, "getProperties", None)
        if callable(getter):
            return getter()
    return None


adapter_hooks.append(_adapt_to_properties)


class PropertiesMixin:
    """getProperty/setProperty/hasProperty/render for objects owning a Properties.

    The owner provides `getProperties()` or a `properties` attribute; `set_runtime_properties`
    decides whether setProperty marks values as runtime (builds and steps set it).
    """

    set_runtime_properties = False
    properties: Properties  # provided by the class using the mixin

    def getProperties(self) -> Properties:
        """The Properties of this object (its `properties` attribute unless overridden)."""
        return self.properties

    def getProperty(self, propname: str, default: Any = None) -> Any:
        """Value of `propname`, or `default` when absent."""
        return self.getProperties().getProperty(propname, default)

    def hasProperty(self, propname: str) -> bool:
        """Whether `propname` is set."""
        return self.getProperties().hasProperty(propname)

    has_key = hasProperty

    def setProperty(self, propname: str, value: Any, source: str = "Unknown",
                    runtime: bool | None = None) -> None:
        """Set a property (source is optional here because old user code omits it)."""
        if runtime is None:
            runtime = self.set_runtime_properties
        self.getProperties().setProperty(propname, value, source, runtime=runtime)

    def render(self, value: Any) -> defer.Deferred[Any]:
        """Plugin-facing: a Deferred of `value` rendered against this object's properties."""
        return self.getProperties().render(value)


# --- operators on renderables -----------------------------------------------------------------


def _operator(symbol: str, op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def build(self: Any, other: Any) -> _OperatorRenderer:
        return _OperatorRenderer(self, other, symbol, op)

    return build


class RenderableOperatorsMixin(ConfigViewMixin):
    """`== != < <= > >= + - * / // %` and `.in_()` build renderables comparing rendered values.

    As in the reference, `==` therefore returns a (truthy) renderable, not a bool, and the
    classes using this mixin are unhashable.
    """

    # Assigned, not defined, so mypy cannot check them against object.__eq__ returning bool.
    __eq__ = _operator("==", operator.eq)
    __ne__ = _operator("!=", operator.ne)
    __lt__ = _operator("<", operator.lt)
    __le__ = _operator("<=", operator.le)
    __gt__ = _operator(">", operator.gt)
    __ge__ = _operator(">=", operator.ge)
    __add__ = _operator("+", operator.add)
    __sub__ = _operator("-", operator.sub)
    __mul__ = _operator("*", operator.mul)
    __truediv__ = _operator("/", operator.truediv)
    __floordiv__ = _operator("//", operator.floordiv)
    __mod__ = _operator("%", operator.mod)
    in_ = _operator("in", lambda a, b: a in b)
    __hash__ = None  # type: ignore[assignment]  # unhashable on purpose, as 4.3's Properties

    def getRenderingFor(self, iprops: Any) -> Any:
        """Subclasses render themselves; the mixin alone has nothing to render."""
        raise NotImplementedError(f"{type(self).__name__} does not implement getRenderingFor")


@implementer(IRenderable)
class _OperatorRenderer(RenderableOperatorsMixin):
    """`op(render(left), render(right))`."""

    def __init__(self, left: Any, right: Any, symbol: str, op: Callable[[Any, Any], Any]):
        self.left, self.right, self.symbol, self.op = left, right, symbol, op

    async def getRenderingFor(self, props: Properties) -> Any:
        return self.op(await render(self.left, props), await render(self.right, props))

    def __repr__(self) -> str:
        return f"{self.left!r} {self.symbol} {self.right!r}"


# --- Property -------------------------------------------------------------------------------


@implementer(IRenderable)
class Property(RenderableOperatorsMixin):
    """The (rendered) value of property `key`; `default` when it is missing, or falsy while
    `defaultWhenFalse`."""

    compare_attrs = ("key", "default", "defaultWhenFalse")

    def __init__(self, key: str, default: Any = None, defaultWhenFalse: bool = True) -> None:
        self.key = key
        self.default = default
        self.defaultWhenFalse = defaultWhenFalse

    async def getRenderingFor(self, props: Properties) -> Any:
        value = props.getProperty(self.key, _MISSING)
        if value is _MISSING or (self.defaultWhenFalse and not value):
            value = self.default
        return value if type(value) in _PLAIN_TYPES else await render(value, props)

    def __repr__(self) -> str:
        return f"Property({self.key})"


# --- Interpolate ----------------------------------------------------------------------------

_NAME = r"[\w.-]*"
_PROP_RE = re.compile(rf"({_NAME})(?::(.*))?", re.DOTALL)
_SRC_RE = re.compile(r"([^:]*):([^:]*)(?::(.*))?", re.DOTALL)
_NAME_RE = re.compile(_NAME)
_SRC_ATTRS = frozenset({"branch", "revision", "repository", "project", "codebase"})
_PATCH_ATTRS = {"patch_level": "level", "patch_body": "body", "patch_subdir": "subdir",
                "patch_author": "author", "patch_comment": "comment"}


class _KeyRecorder:
    """A mapping for `fmt % mapping` that records the keys the format asks for."""

    def __init__(self) -> None:
        self.keys: dict[str, None] = {}

    def __getitem__(self, key: str) -> str:
        self.keys[key] = None
        return ""  # a str, so that e.g. `%(prop:x)d` fails at construction as in the reference


def _split_ternary(text: str) -> tuple[str, str] | None:
    """Split `text` at the first `text[0]` delimiter outside parentheses into the two
    branches (the second keeps any further delimiters)."""
    delim, depth = text[0], 0
    for i in range(1, len(text)):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == delim and depth == 0:
            return text[1:i], text[i + 1:]
    return None


async def _lookup_prop(name: str, props: Properties, kwargs: dict[str, Any]) -> Any:
    value = props.getProperty(name, _MISSING)
    if value is _MISSING or type(value) in _PLAIN_TYPES:
        return value
    return await render(value, props)


async def _lookup_kw(name: str, props: Properties, kwargs: dict[str, Any]) -> Any:
    value = kwargs.get(name, _MISSING)
    if value is _MISSING or type(value) in _PLAIN_TYPES:
        return value
    return await render(value, props)


async def _lookup_worker(key: str, props: Properties, kwargs: dict[str, Any]) -> Any:
    build = props.getBuild()
    if build is None:  # config-time rendering: nothing is known about a worker
        return _MISSING
    info = build.getWorkerInfo()
    if info is None:
        return _MISSING
    if isinstance(info, Properties):  # the reference's type for worker info
        return info.getProperty(key, _MISSING)
    return info.get(key, _MISSING)


async def _lookup_src(key: tuple[str, str], props: Properties, kwargs: dict[str, Any]) -> Any:
    codebase, attr = key
    build = props.getBuild()
    if build is None:
        return _MISSING
    ss = build.getSourceStamp(codebase)
    if ss is None:
        return _MISSING
    if attr in _SRC_ATTRS:
        return getattr(ss, attr, None)
    if attr in _PATCH_ATTRS:
        if hasattr(ss, attr):
            return getattr(ss, attr)
        patch = getattr(ss, "patch", None)
        if patch is None:
            return None
        if isinstance(patch, dict):
            return patch.get(_PATCH_ATTRS[attr])
        return getattr(patch, _PATCH_ATTRS[attr], None)
    return _MISSING


async def _fetch_secret(name: str, props: Properties) -> Any:
    """The value of secret `name` from the master's secrets manager, registered on `props`
    for redaction. KeyError when no provider knows it."""
    master = getattr(props, "master", None)
    manager = getattr(master, "secrets_manager", None) if master is not None else None
    value = None
    if manager is not None:
        value = manager.get(name)
        if isinstance(value, defer.Deferred) or inspect.isawaitable(value):
            value = await value
        # the manager answers a SecretDetails, as 4.3's does; a replaced manager may answer
        # the bare value
        value = getattr(value, "value", value)
    if value is None:
        raise KeyError(f"secret key {name} is not found in any provider")
    props.useSecret(value, name)
    return value


async def _lookup_secret(name: str, props: Properties, kwargs: dict[str, Any]) -> Any:
    return await _fetch_secret(name, props)


class _Substitution:
    """One `%(selector:key[modifier])s`: where the value comes from and what the modifier
    makes of it. Replacement texts are nested Interpolates (or plain strings)."""

    __slots__ = ("key", "kind", "lookup", "when_false", "when_true")

    def __init__(self, lookup: Callable[..., Any], key: Any, kind: str,
                 when_true: Any = "", when_false: Any = "") -> None:
        self.lookup, self.key, self.kind = lookup, key, kind
        self.when_true, self.when_false = when_true, when_false

    async def value(self, props: Properties, kwargs: dict[str, Any]) -> Any:
        value = await self.lookup(self.key, props, kwargs)
        present = value is not _MISSING
        kind = self.kind
        if kind == "-":
            if present:
                return "" if value is None else value
            chosen = self.when_false
        elif kind == "~":
            if present and value:
                return value
            chosen = self.when_false
        elif kind == "+":
            chosen = self.when_true if present else ""
        elif kind == "?":
            chosen = self.when_true if present else self.when_false
        else:  # "#?"
            chosen = self.when_true if present and value else self.when_false
        return chosen if type(chosen) is str else await render(chosen, props)


class _NeverFound:
    """Stands for a substitution whose key was rejected (the config error was recorded)."""

    async def value(self, props: Properties, kwargs: dict[str, Any]) -> Any:
        return ""


@implementer(IRenderable)
class Interpolate(RenderableOperatorsMixin):
    """`%`-style interpolation of build values.

    Keyword form: `%(<selector>:<key>[<modifier>])s` with selectors `prop`, `src`, `worker`,
    `kw` (this object's keyword arguments) and `secret`, and modifiers `:-`, `:~`, `:+`,
    `:?|t|f`, `:#?|t|f`. Positional form: `Interpolate("%s-%s", r1, r2)` renders the
    arguments. The format is parsed here, once.
    """

    compare_attrs = ("fmtstring", "args", "kwargs")
    # what `prop`, `src`, `kw` keys may look like (4.3 name; the parser here uses its own)
    identifier_re = re.compile(r"^[\w._-]*$")

    def __init__(self, fmtstring: str, *args: Any, **kwargs: Any) -> None:
        self.fmtstring = fmtstring
        self.args = args
        self.kwargs = kwargs
        self._constant: str | None = None
        if args and kwargs:
            _config_error("Interpolate takes either positional or keyword substitutions, "
                          "not both.")
        if args:
            return
        recorder = _KeyRecorder()
        fmtstring % recorder  # same parse (and same exceptions) as rendering will use
        self.interpolations: dict[str, _Substitution | _NeverFound] = {
            key: self._parse_key(key) for key in recorder.keys}
        if not self.interpolations:
            self._constant = fmtstring % {}

    def _parse_key(self, key: str) -> _Substitution | _NeverFound:
        selector, colon, rest = key.partition(":")
        if not colon:
            _config_error(f"invalid Interpolate substitution without selector '{key}'")
            return _NeverFound()
        if selector in ("prop", "kw"):
            m = _PROP_RE.fullmatch(rest)
            if m is None:
                what = "Property name" if selector == "prop" else "Keyword"
                _config_error(f"{what} must be alphanumeric for {selector} Interpolation "
                              f"'{rest}'")
                return _NeverFound()
            return self._parse_modifier(_lookup_prop if selector == "prop" else _lookup_kw,
                                        m.group(1), m.group(2))
        if selector == "src":
            m = _SRC_RE.fullmatch(rest)
            if m is None:
                _config_error("Must specify both codebase and attribute for src Interpolation "
                              f"'{rest}'")
                return _NeverFound()
            codebase, attr = m.group(1), m.group(2)
            if not _NAME_RE.fullmatch(codebase):
                _config_error(f"Codebase must be alphanumeric for src Interpolation '{rest}'")
                return _NeverFound()
            if not _NAME_RE.fullmatch(attr):
                _config_error(f"Attribute must be alphanumeric for src Interpolation '{rest}'")
                return _NeverFound()
            return self._parse_modifier(_lookup_src, (codebase, attr), m.group(3))
        if selector in ("worker", "secret"):
            name, colon, modifier = rest.partition(":")
            lookup: Callable[..., Any] = _lookup_worker if selector == "worker" else _lookup_secret
            return self._parse_modifier(lookup, name, modifier if colon else None)
        _config_error(f"invalid Interpolate selector '{selector}'")
        return _NeverFound()

    def _parse_modifier(self, lookup: Callable[..., Any], key: Any,
                        modifier: str | None) -> _Substitution | _NeverFound:
        if modifier is None:
            return _Substitution(lookup, key, "-")
        kind = modifier[:1]
        if kind in ("-", "~", "+"):
            text = self._nested(modifier[1:])
            return _Substitution(lookup, key, kind, when_true=text, when_false=text)
        if kind == "?" or modifier.startswith("#?"):
            kind = "?" if kind == "?" else "#?"
            ternary = modifier[len(kind):]
            if not ternary:
                # The reference crashes with IndexError here; a config error says more.
                _config_error(f"invalid Interpolate ternary expression '' with no delimiter "
                              f"after '{kind}'")
                return _NeverFound()
            if ternary[0] == "(":
                _config_error("invalid Interpolate ternary delimiter '('")
                return _NeverFound()
            branches = _split_ternary(ternary)
            if branches is None:
                _config_error(f"invalid Interpolate ternary expression '{ternary[1:]}' with "
                              f"delimiter '{ternary[0]}'")
                return _NeverFound()
            return _Substitution(lookup, key, kind, when_true=self._nested(branches[0]),
                                 when_false=self._nested(branches[1]))
        _config_error(f"invalid Interpolate default type '{kind}'")
        return _NeverFound()

    def _nested(self, text: str) -> Any:
        # Replacement texts are Interpolates sharing our keyword arguments; one without any
        # `%` is just the text.
        if "%" not in text:
            return text
        return Interpolate(text, **self.kwargs)

    async def getRenderingFor(self, build: Properties) -> str:  # 4.3's parameter name
        props = build
        if self._constant is not None:
            return self._constant
        if self.args:
            return self.fmtstring % tuple(await render(list(self.args), props))
        kwargs = self.kwargs
        values = {}
        for key, substitution in self.interpolations.items():
            values[key] = await substitution.value(props, kwargs)
        return self.fmtstring % values

    def __repr__(self) -> str:
        if self.args:
            return f"Interpolate({self.fmtstring!r}, *{self.args!r})"
        if self.kwargs:
            return f"Interpolate({self.fmtstring!r}, **{self.kwargs!r})"
        return f"Interpolate({self.fmtstring!r})"


# --- renderer, Transform, WithProperties, FlattenList, Secret -------------------------------


@implementer(IRenderable)
class renderer:  # decorator name used by master.cfg files
    """Decorator: `fn(props, *args, **kwargs)` becomes a renderable; `.withArgs(...)` binds
    (rendered) extra arguments. The result may be a Deferred, a coroutine or a renderable."""

    def __init__(self, fn: Callable[..., Any], args: Iterable[Any] = (),
                 kwargs: dict[str, Any] | None = None) -> None:
        self.fn = fn
        self.args = list(args)
        self.kwargs = dict(kwargs or {})

    def withArgs(self, *args: Any, **kwargs: Any) -> renderer:
        """A copy of this renderer with more positional and keyword arguments."""
        return renderer(self.fn, self.args + list(args), {**self.kwargs, **kwargs})

    async def getRenderingFor(self, props: Properties) -> Any:
        args = await render(self.args, props) if self.args else ()
        kwargs = await render(self.kwargs, props) if self.kwargs else {}
        result = self.fn(props, *args, **kwargs)
        if isinstance(result, defer.Deferred) or inspect.isawaitable(result):
            result = await result
        return result

    def __repr__(self) -> str:
        if self.args or self.kwargs:
            return f"renderer({self.fn!r}, args={self.args!r}, kwargs={self.kwargs!r})"
        return f"renderer({self.fn!r})"


@implementer(IRenderable)
class Transform:
    """`function(*args, **kwargs)` with the function and every argument rendered first."""

    def __init__(self, function: Any, *args: Any, **kwargs: Any) -> None:
        if not callable(function) and not _is_renderable(function):
            _config_error("function given to Transform neither callable nor renderable")
        self._function = function
        self._args = args
        self._kwargs = kwargs

    async def getRenderingFor(self, iprops: Properties) -> Any:
        props = iprops
        function = await render(self._function, props)
        args = await render(list(self._args), props)
        kwargs = await render(self._kwargs, props)
        result = function(*args, **kwargs)
        if isinstance(result, defer.Deferred) or inspect.isawaitable(result):
            result = await result
        return result


class _WithPropertiesMap:
    """The mapping WithProperties formats with: `name`, `name:-x`, `name:~x`, `name:+x`."""

    def __init__(self, props: Properties, computed: dict[str, Any]) -> None:
        self.props, self.computed = props, computed

    def _get(self, name: str) -> Any:
        if name in self.computed:
            return self.computed[name]
        return self.props.getProperty(name, _MISSING)

    def __getitem__(self, key: str) -> Any:
        name, colon, modifier = key.partition(":")
        if colon and modifier[:1] in ("-", "~", "+"):
            value, text = self._get(name), modifier[1:]
            kind = modifier[0]
            if kind == "-":
                return text if value is _MISSING else ("" if value is None else value)
            if kind == "~":
                return value if value is not _MISSING and value else text
            return "" if value is _MISSING else text
        value = self._get(key)
        if value is _MISSING:
            raise KeyError(key)
        return "" if value is None else value


@implementer(IRenderable)
class WithProperties(ConfigViewMixin):
    """Legacy interpolation: `%(name)s` (and `:-`, `:~`, `:+`) over properties, or `%s`
    with property names as positional arguments; keyword arguments are callables given the
    properties, whose results stand for properties of that name."""

    def __init__(self, fmtstring: str, *args: str, **lambda_subs: Callable[[Any], Any]):
        self.fmtstring = fmtstring
        self.args = args
        if args and lambda_subs:
            raise ValueError("WithProperties takes either positional or keyword substitutions, "
                             "not both.")
        for key, fn in lambda_subs.items():
            if not callable(fn):
                # ValueError (not TypeError) as in the reference.
                raise ValueError(  # noqa: TRY004
                    f'Value for lambda substitution "{key}" must be callable.')
        self.lambda_subs = lambda_subs

    compare_attrs = ("fmtstring", "args", "lambda_subs")

    def getRenderingFor(self, build: Properties) -> str:  # 4.3's parameter name
        props = build
        if self.args:
            values = []
            for name in self.args:
                value = props[name]  # KeyError when missing, as in the reference
                values.append("" if value is None else value)
            return self.fmtstring % tuple(values)
        computed = {key: fn(props) for key, fn in self.lambda_subs.items()}
        return self.fmtstring % _WithPropertiesMap(props, computed)


@implementer(IRenderable)
class FlattenList(RenderableOperatorsMixin):
    """The rendered list with nested lists/tuples (`types`) flattened into it."""

    compare_attrs = ("nestedlist",)

    def __init__(self, nestedlist: Any, types: tuple[type, ...] = (list, tuple)) -> None:
        self.nestedlist = nestedlist
        self.types = types

    async def getRenderingFor(self, props: Properties) -> list[Any]:
        return flatten(await render(self.nestedlist, props), self.types)

    def __add__(self, other: Any) -> FlattenList:
        tail = other.nestedlist if isinstance(other, FlattenList) else other
        return FlattenList([self.nestedlist, tail], types=self.types)


@implementer(IRenderable)
class Secret:
    """The value of a secret from the configured secret providers (remembered for
    redaction); KeyError when no provider has it."""

    def __init__(self, secret_name: str) -> None:
        self.secret_name = secret_name

    async def getRenderingFor(self, properties: Properties) -> Any:
        return await _fetch_secret(self.secret_name, properties)

    def __repr__(self) -> str:
        return f"Secret({self.secret_name})"


# --- zope adapters, so that `IRenderable(anything).getRenderingFor(props)` works -------------


@implementer(IRenderable)
class _ValueRenderer:
    """IRenderable adapter for values: containers render element-wise, others as is."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def getRenderingFor(self, props: Properties) -> Any:
        if isinstance(self.value, (list, tuple, dict)):
            return ensure_deferred(render(self.value, props))
        return self.value


components.registerAdapter(  # Twisted leaves it untyped
    _ValueRenderer, object, IRenderable)
