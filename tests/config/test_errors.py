"""ConfigErrors, error() and the capture context."""

from __future__ import annotations

import threading

import pytest

from buildbot.config import ConfigErrors, error
from buildbot.config.errors import capture_config_errors


def test_config_errors_joins_messages_and_is_true_only_when_not_empty() -> None:
    errs = ConfigErrors(["a", "b"])
    errs.addError("c")
    errs.merge(ConfigErrors(["d"]))

    assert (errs.errors, str(errs), bool(errs), bool(ConfigErrors())) == (
        ["a", "b", "c", "d"], "a\nb\nc\nd", True, False)


def test_error_outside_capture_raises_at_once() -> None:
    with pytest.raises(ConfigErrors) as info:
        error("bad thing")
    assert info.value.errors == ["bad thing"]


def test_error_inside_capture_is_recorded_and_execution_goes_on() -> None:
    with capture_config_errors() as errs:
        error("one")
        error("two")
        reached = True
    assert (errs.errors, reached) == (["one", "two"], True)


def test_always_raise_raises_even_inside_capture() -> None:
    with capture_config_errors() as errs, pytest.raises(ConfigErrors) as info:
        error("now", always_raise=True)
    assert (info.value.errors, errs.errors) == (["now"], [])


def test_raise_on_error_raises_everything_recorded_then_the_raised_errors() -> None:
    with pytest.raises(ConfigErrors) as info, capture_config_errors(raise_on_error=True):
        error("first")
        raise ConfigErrors(["second", "third"])
    assert info.value.errors == ["first", "second", "third"]


def test_raise_on_error_is_quiet_without_errors() -> None:
    with capture_config_errors(raise_on_error=True) as errs:
        pass
    assert errs.errors == []


def test_nested_capture_keeps_its_errors() -> None:
    with capture_config_errors() as outer:
        with capture_config_errors() as inner:
            error("inner")
        error("outer")
    assert (outer.errors, inner.errors) == (["outer"], ["inner"])


def test_capture_is_per_thread() -> None:
    raised: list[ConfigErrors] = []

    def other_thread() -> None:
        try:
            error("from another thread")
        except ConfigErrors as e:
            raised.append(e)

    with capture_config_errors() as errs:
        t = threading.Thread(target=other_thread)
        t.start()
        t.join(5)
    assert ([e.errors for e in raised], errs.errors) == ([["from another thread"]], [])
