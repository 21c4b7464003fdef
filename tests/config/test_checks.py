"""Argument-check helpers shared by master.cfg classes (buildbot.config.checks)."""

from __future__ import annotations

from buildbot.config import checks
from buildbot.config.errors import capture_config_errors


class Step:
    pass


def test_each_check_returns_its_fallback_and_reports() -> None:
    with capture_config_errors() as errs:
        results = [
            checks.check_param_bool(3, Step, "flag"),
            checks.check_param_str(3, Step(), "s"),
            checks.check_param_str_none(3, Step, "s"),
            checks.check_param_int("x", Step, "i"),
            checks.check_param_int_none("x", Step, "i"),
            checks.check_param_number_none("x", Step, "n"),
            checks.check_param_type(3, "dflt", Step, "t", (str,), "str"),
        ]
        checks.check_param_length("x" * 10, "Step name", 5)

    assert (results, errs.errors) == (
        [False, "(unknown)", "(unknown)", 0, None, 0, "dflt"],
        ["Step argument flag must be an instance of bool",
         "Step argument s must be an instance of str",
         "Step argument s must be an instance of str or None",
         "Step argument i must be an instance of int",
         "Step argument i must be an instance of int or None",
         "Step argument n must be an instance of int or float or None",
         "Step argument t must be an instance of str",
         "Step name 'xxxxxxxxxx' exceeds maximum length of 5"])


def test_good_values_pass_through_silently() -> None:
    with capture_config_errors() as errs:
        results = [checks.check_param_bool(True, Step, "b"), checks.check_param_str("s", Step, "s"),
                   checks.check_param_str_none(None, Step, "s"),
                   checks.check_param_int(3, Step, "i"),
                   checks.check_param_number_none(1.5, Step, "n")]
        checks.check_param_length("short", "x", 5)
    assert (results, errs.errors) == ([True, "s", None, 3, 1.5], [])
