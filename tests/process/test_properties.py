"""Properties, PropertiesMixin, render() and the renderables other than Interpolate.

Expected values were checked against Buildbot 4.3 side by side.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer
from zope.interface import implementer

from buildbot.config.errors import ConfigErrors
from buildbot.interfaces import IProperties, IRenderable
from buildbot.process.properties import (
    FlattenList,
    Interpolate,
    Properties,
    PropertiesMixin,
    Property,
    Secret,
    Transform,
    WithProperties,
    render,
    renderer,
)


def make_props() -> Properties:
    props = Properties()
    props.update({"foo": "FOO", "empty": "", "none": None, "zero": 0, "lst": [1, 2]}, "test")
    props.setProperty("rend", Interpolate("%(prop:foo)s-r"), "test")
    return props


class SecretsManager:
    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = secrets

    def get(self, name: str) -> defer.Deferred[str | None]:
        return defer.succeed(self.secrets.get(name))


class Master:
    def __init__(self) -> None:
        self.secrets_manager = SecretsManager({"tok": "S3CRET", "blank": "  "})


# --- Properties ---------------------------------------------------------------------------


def test_set_and_get_keep_value_and_source() -> None:
    props = Properties()
    props.setProperty("a", (1, 2), "Scheduler")
    props.setProperty(b"b", {"k": [1]}, "Builder")
    assert props.asDict() == {"a": ((1, 2), "Scheduler"), "b": ({"k": [1]}, "Builder")}
    assert (props["a"], props.getProperty("b"), props.getPropertySource("a")) == (
        (1, 2), {"k": [1]}, "Scheduler")
    assert (props.getProperty("missing"), props.getProperty("missing", 3)) == (None, 3)


def test_presence_checks_count_none_values() -> None:
    props = make_props()
    assert [props.hasProperty("none"), props.has_key("none"), "none" in props,
            props.hasProperty("missing"), "missing" in props] == [True, True, True, False, False]


@pytest.mark.parametrize("lookup", [lambda p: p["missing"],
                                    lambda p: p.getPropertySource("missing")])
def test_item_lookups_raise_key_error_when_missing(lookup: Any) -> None:
    with pytest.raises(KeyError, match="missing"):
        lookup(make_props())


@pytest.mark.parametrize(("value", "kind"), [(object(), "object"), ({1, 2}, "set"),
                                             (b"x", "bytes"), ([object()], "object")])
def test_set_property_refuses_values_json_cannot_store(value: Any, kind: str) -> None:
    props = Properties()
    with pytest.raises(TypeError, match=f"Object of type {kind} is not JSON serializable"):
        props.setProperty("x", value, "S")
    assert props.asDict() == {}


def test_set_property_accepts_renderables_without_json_check() -> None:
    props = Properties()
    props.setProperty("r", Property("a"), "S")
    assert isinstance(props["r"], Property)


def test_set_property_refuses_non_string_names() -> None:
    with pytest.raises(TypeError, match="property name must be a string"):
        Properties().setProperty(5, 1, "S")  # type: ignore[arg-type]  # the wrong type on purpose


def test_update_checks_every_value() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        Properties().update({"a": object()}, "S")


def test_runtime_flags_follow_copies() -> None:
    other = Properties()
    other.setProperty("rt", 1, "R", runtime=True)
    other.setProperty("plain", 2, "N")
    everything, static = Properties(), Properties()
    everything.updateFromProperties(other)
    static.updateFromPropertiesNoRuntime(other)
    assert (everything.asDict(), everything.runtime) == (
        {"rt": (1, "R"), "plain": (2, "N")}, {"rt"})
    assert (static.asDict(), static.runtime) == ({"plain": (2, "N")}, set())


def test_listing_shapes() -> None:
    props = Properties()
    props.setProperty("b", 2, "S2")
    props.setProperty("a", 1, "S1")
    assert props.asList() == [("a", 1, "S1"), ("b", 2, "S2")]  # sorted by name
    assert props.keys() == ["b", "a"]
    assert props.getConfigDict() == {"properties": {"b": (2, "S2"), "a": (1, "S1")}}
    assert repr(props) == "Properties(**{'b': 2, 'a': 1})"


def test_keyword_constructor_and_from_dict() -> None:
    assert Properties(a=1).asDict() == {"a": (1, "TEST")}
    assert Properties.fromDict({"a": [1, "S"]}).asDict() == {"a": (1, "S")}
    assert Properties(a=1) == Properties(a=1)
    assert Properties(a=1) != Properties(a=2)


def test_master_comes_from_the_build_when_there_is_one() -> None:
    class Build:
        master = "build master"

    props = Properties()
    props.master = "config master"
    assert (props.getBuild(), props.master) == (None, "config master")
    build = Build()
    props.build = build
    assert (props.getBuild(), props.master) == (build, "build master")


def test_iproperties_adapts_owners_of_properties() -> None:
    props = Properties(a=1)

    class Owner:
        def getProperties(self) -> Properties:
            return props

    assert IProperties(props) is props
    assert IProperties(Owner()) is props
    with pytest.raises(TypeError, match="Could not adapt"):
        IProperties({})


@pytest_twisted.ensureDeferred
async def test_render_method_returns_a_deferred_for_plugins() -> None:
    props = make_props()
    d = props.render([Property("foo"), "x"])
    assert isinstance(d, defer.Deferred)
    assert await d == ["FOO", "x"]
    assert await props.render("plain") == "plain"


def test_secrets_bookkeeping_ignores_blank_values() -> None:
    props = Properties()
    props.useSecret("sv", "sn")
    props.useSecret("  sv2\n", "sn2")
    props.useSecret("  ", "blank")
    props.useSecret("", "empty")
    assert props.get_used_secrets() == {"sv": "<sn>", "  sv2\n": "<sn2>"}
    assert props.cleanupTextFromSecrets("x sv y") == "x <sn> y"


# --- PropertiesMixin ----------------------------------------------------------------------


class Step(PropertiesMixin):
    def __init__(self) -> None:
        self.properties = Properties()


class RuntimeStep(Step):
    set_runtime_properties = True


@pytest_twisted.ensureDeferred
async def test_mixin_forwards_to_the_owned_properties() -> None:
    step = Step()
    step.setProperty("a", 1)
    assert (step.getProperty("a"), step.hasProperty("a"), step.has_key("b")) == (1, True, False)
    assert step.getProperties().asDict() == {"a": (1, "Unknown")}
    assert await step.render(Property("a")) == 1
    assert IProperties(step) is step.properties


def test_mixin_marks_runtime_values_when_its_owner_asks() -> None:
    step, running = Step(), RuntimeStep()
    step.setProperty("a", 1, "S")
    running.setProperty("a", 1, "S")
    running.setProperty("b", 1, "S", runtime=False)
    assert (step.properties.runtime, running.properties.runtime) == (set(), {"a"})


# --- render() ----------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_containers_render_element_wise() -> None:
    value = [Property("foo"), (Property("zero"),), {"k": Property("foo")}, "x", None, b"y", 1.5]
    assert await render(value, make_props()) == [
        "FOO", (None,), {"k": "FOO"}, "x", None, b"y", 1.5]


@pytest_twisted.ensureDeferred
async def test_dict_keys_are_rendered() -> None:
    @renderer
    def key(props: Properties) -> str:
        return "k-" + props["foo"]

    assert await render({key: 1}, make_props()) == {"k-FOO": 1}


@pytest_twisted.ensureDeferred
async def test_rendering_a_list_returns_a_copy() -> None:
    value = ["a", "b"]
    got = await render(value, make_props())
    assert got == value and got is not value


def test_plain_values_render_without_deferreds(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[defer.Deferred[Any]] = []
    original = defer.Deferred.__init__

    def counting_init(self: defer.Deferred[Any], *args: Any, **kwargs: Any) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(defer.Deferred, "__init__", counting_init)
    props = make_props()
    for value in ["s", ["a", "b", 1], ("a", None), {"k": "v"}, Interpolate("%(prop:foo)s")]:
        coro = render(value, props)
        with pytest.raises(StopIteration):  # finished on the first step: nothing awaited
            coro.send(None)
    assert made == []


@implementer(IRenderable)
class Returns:
    def __init__(self, result: Any) -> None:
        self.result = result

    def getRenderingFor(self, props: Any) -> Any:
        return self.result


@implementer(IRenderable)
class ReturnsCoroutine:
    async def getRenderingFor(self, props: Any) -> Any:
        return Property("foo")


@pytest.mark.parametrize(("renderable", "expected"), [
    (Returns(Property("foo")), "FOO"),
    (Returns(defer.succeed([Property("foo")])), ["FOO"]),
    (ReturnsCoroutine(), "FOO"),
])
@pytest_twisted.ensureDeferred
async def test_renderable_results_are_rendered_again(renderable: Any, expected: Any) -> None:
    assert await render(renderable, make_props()) == expected


@pytest_twisted.ensureDeferred
async def test_renderable_returning_itself_is_not_rendered_forever() -> None:
    r = Returns(None)
    r.result = r
    assert await render(r, make_props()) is r


@pytest_twisted.ensureDeferred
async def test_iRenderable_adapts_any_value() -> None:
    props = make_props()
    assert IRenderable(5).getRenderingFor(props) == 5
    assert await IRenderable([Property("foo")]).getRenderingFor(props) == ["FOO"]


# --- Property --------------------------------------------------------------------------


@pytest.mark.parametrize(("prop", "expected"), [
    (Property("foo"), "FOO"),
    (Property("missing"), None),
    (Property("missing", default="d"), "d"),
    (Property("zero", default="d"), "d"),
    (Property("zero", default="d", defaultWhenFalse=False), 0),
    (Property("missing", default="d", defaultWhenFalse=False), "d"),
    (Property("none", default="d", defaultWhenFalse=False), None),
    (Property("missing", default=Interpolate("%(prop:foo)s")), "FOO"),
    (Property("rend"), "FOO-r"),
    (Property("missing", default=[Property("foo")]), ["FOO"]),
])
@pytest_twisted.ensureDeferred
async def test_property_renders_value_or_default(prop: Property, expected: Any) -> None:
    assert await render(prop, make_props()) == expected


def test_property_repr_and_hashability() -> None:
    assert repr(Property("foo", default=1)) == "Property(foo)"
    with pytest.raises(TypeError, match="unhashable"):
        hash(Property("foo"))


# --- operators ---------------------------------------------------------------------------


@pytest.mark.parametrize(("expr", "expected"), [
    (lambda: Property("foo") == "FOO", True),
    (lambda: Property("foo") != "FOO", False),
    (lambda: Interpolate("b") >= "a", True),
    (lambda: Interpolate("b") <= "a", False),
    (lambda: Interpolate("b") > "a", True),
    (lambda: Property("zero", defaultWhenFalse=False) < 1, True),
    (lambda: Property("foo") + "x", "FOOx"),
    (lambda: Property("zero", defaultWhenFalse=False) - 1, -1),
    (lambda: Property("lst") * 2, [1, 2, 1, 2]),
    (lambda: Property("zero", defaultWhenFalse=False) / 2, 0.0),
    (lambda: Property("zero", defaultWhenFalse=False) // 2, 0),
    (lambda: Interpolate("%(prop:foo)s") % (), "FOO"),
    (lambda: Property("foo").in_(["FOO", "x"]), True),
    (lambda: Property("foo").in_([Interpolate("FOO")]), True),
    (lambda: Property("foo") == Property("foo"), True),
    (lambda: (Property("foo") == "FOO") == True, True),  # chained renderables
])
@pytest_twisted.ensureDeferred
async def test_operators_build_renderables(expr: Any, expected: Any) -> None:
    built = expr()
    assert IRenderable.providedBy(built)
    assert await render(built, make_props()) == expected


def test_operator_repr() -> None:
    assert repr(Property("foo") == "FOO") == "Property(foo) == 'FOO'"
    assert repr(Property("foo").in_(["a"])) == "Property(foo) in ['a']"


@pytest_twisted.ensureDeferred
async def test_operator_errors_surface_when_rendering() -> None:
    with pytest.raises(TypeError, match="not supported between instances of 'NoneType'"):
        await render(Property("zero") < 1, make_props())  # falsy 0 became the default None


# --- renderer ----------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_renderer_calls_the_function_with_properties() -> None:
    @renderer
    def shout(props: Properties) -> str:
        return props.getProperty("foo") + "!"

    assert await render(shout, make_props()) == "FOO!"


@pytest_twisted.ensureDeferred
async def test_renderer_with_args_renders_the_arguments() -> None:
    @renderer
    def pair(props: Properties, a: Any, b: Any = None) -> list[Any]:
        return [a, b]

    bound = pair.withArgs(Property("foo")).withArgs(b=Interpolate("%(prop:foo)s?"))
    assert await render(bound, make_props()) == ["FOO", "FOO?"]
    assert await render(pair.withArgs(1), make_props()) == [1, None]  # pair itself unchanged


@pytest.mark.parametrize(("fn", "expected"), [
    (lambda props: defer.succeed(Property("foo")), "FOO"),
    (lambda props: [Property("foo")], ["FOO"]),
])
@pytest_twisted.ensureDeferred
async def test_renderer_results_are_rendered(fn: Any, expected: Any) -> None:
    assert await render(renderer(fn), make_props()) == expected


@pytest_twisted.ensureDeferred
async def test_renderer_accepts_coroutine_functions() -> None:
    @renderer
    async def later(props: Properties) -> Any:
        return Interpolate("%(prop:foo)s?")

    assert await render(later, make_props()) == "FOO?"


# --- Transform, FlattenList, WithProperties, Secret -------------------------------------------


@pytest.mark.parametrize(("transform", "expected"), [
    (Transform(lambda a, b: a + b, Property("foo"), b=Interpolate("x")), "FOOx"),
    (Transform(Property("missing", default=str.upper), Property("foo")), "FOO"),
    (Transform(lambda *a, **k: [a, k], 1, [Property("foo")], k=(Property("zero"),)),
     [(1, ["FOO"]), {"k": (None,)}]),
    (Transform(lambda: defer.succeed(5)), 5),
])
@pytest_twisted.ensureDeferred
async def test_transform_renders_function_and_arguments(transform: Transform,
                                                        expected: Any) -> None:
    assert await render(transform, make_props()) == expected


def test_transform_needs_something_callable() -> None:
    with pytest.raises(ConfigErrors, match="function given to Transform neither callable nor "
                                           "renderable"):
        Transform(1)


@pytest.mark.parametrize(("flat", "expected"), [
    (FlattenList([1, [2, [Property("foo"), (3, 4)]], Property("zero")]),
     [1, 2, "FOO", 3, 4, None]),
    (FlattenList([1, [2, (3, 4)]], types=(list,)), [1, 2, (3, 4)]),
    (FlattenList([1]) + [2], [1, 2]),
    (FlattenList([1]) + FlattenList([[2]]), [1, 2]),
    (FlattenList([Property("lst"), [Property("lst")]]), [1, 2, 1, 2]),
])
@pytest_twisted.ensureDeferred
async def test_flatten_list(flat: FlattenList, expected: Any) -> None:
    assert await render(flat, make_props()) == expected


WITH_PROPERTIES = [
    (WithProperties("%(foo)s %(missing:-x)s %(zero:~z)s %(foo:+p)s"), "FOO x z p"),
    (WithProperties("%s-%s", "foo", "zero"), "FOO-0"),
    (WithProperties("%(x)s", x=lambda props: "L"), "L"),
    (WithProperties("%(foo)s", foo=lambda props: "L"), "L"),
    (WithProperties("[%(none)s][%(none:-d)s][%(none:~d)s][%(none:+p)s]"), "[][][d][p]"),
    (WithProperties("[%(zero)s][%(zero:-d)s][%(zero:~d)s][%(zero:+p)s]"), "[0][0][d][p]"),
    (WithProperties("[%(empty)s][%(empty:-d)s][%(empty:~d)s][%(empty:+p)s]"), "[][][d][p]"),
    (WithProperties("[%(m:-d)s][%(m:~d)s][%(m:+p)s]"), "[d][d][]"),
    (WithProperties("[%s]", "none"), "[]"),
    (WithProperties("[%(m:-%(foo)s)s]"), "[%(foo)s]"),  # no nesting in the legacy form
    (WithProperties("[%(x:-d)s]", x=lambda props: None), "[]"),
    (WithProperties("[%(rend)s]"), "[Interpolate('%(prop:foo)s-r')]"),  # values not rendered
    (WithProperties("100%%"), "100%"),
]


@pytest.mark.parametrize(("wp", "expected"), WITH_PROPERTIES)
@pytest_twisted.ensureDeferred
async def test_with_properties(wp: WithProperties, expected: str) -> None:
    assert await render(wp, make_props()) == expected


@pytest.mark.parametrize(("wp", "key"), [
    (WithProperties("%(missing)s"), "missing"),
    (WithProperties("%s", "missing"), "missing"),
    (WithProperties("[%(a b)s]"), "a b"),
    (WithProperties("[%(foo:*x)s]"), "foo:*x"),
])
@pytest_twisted.ensureDeferred
async def test_with_properties_missing_names_raise_key_error(wp: WithProperties,
                                                             key: str) -> None:
    with pytest.raises(KeyError, match=re.escape(key)):
        await render(wp, make_props())


@pytest.mark.parametrize(("build", "message"), [
    (lambda: WithProperties("%(x)s", x=1), 'Value for lambda substitution "x" must be callable.'),
    (lambda: WithProperties("%s %(x)s", "foo", x=lambda p: "L"),
     "WithProperties takes either positional or keyword substitutions, not both."),
])
def test_with_properties_constructor_errors(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


@pytest_twisted.ensureDeferred
async def test_secret_renders_and_is_recorded() -> None:
    props = make_props()
    props.master = Master()
    assert await render([Secret("tok"), Secret("blank")], props) == ["S3CRET", "  "]
    assert props.get_used_secrets() == {"S3CRET": "<tok>"}
    assert repr(Secret("tok")) == "Secret(tok)"


@pytest.mark.parametrize("master", [None, Master()])
@pytest_twisted.ensureDeferred
async def test_unknown_secret_fails_naming_it(master: Any) -> None:
    props = make_props()
    props.master = master
    with pytest.raises(KeyError, match="secret key nope is not found in any provider"):
        await render(Secret("nope"), props)
