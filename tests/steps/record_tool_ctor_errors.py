"""For each constructor call of the tool steps and canned factories, the config errors or the
exception it raises, as JSON; run with the reference's interpreter to record
`tool_ctor_errors_4.3.json`:

    /work/refvenv/bin/python tests/steps/record_tool_ctor_errors.py > tests/steps/tool_ctor_errors_4.3.json

`test_tool_steps_config.py` imports `outcomes()` and compares. Not collected by pytest.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from buildbot.config.errors import capture_config_errors
from buildbot.plugins import steps, util

CALLS: dict[str, Any] = {
 "sphinx_no_builddir": lambda: steps.Sphinx(),
 "sphinx_bad_mode": lambda: steps.Sphinx(sphinx_builddir="b", mode="fast"),
 "trial_no_testpath": lambda: steps.Trial(tests="a"),
 "trial_no_tests": lambda: steps.Trial(testpath="."),
 "trial_python_spaces": lambda: steps.Trial(testpath=".", tests="a", python="python -Wall"),
 "trial_trial_spaces": lambda: steps.Trial(testpath=".", tests="a", trial="trial -x"),
 "trial_command": lambda: steps.Trial(testpath=".", tests="a", command="x"),
 "cmake_command": lambda: steps.CMake(command="x"),
 "cmake_bad_definitions": lambda: steps.CMake(definitions=["a"]),
 "cmake_bad_options": lambda: steps.CMake(options="-x"),
 "cppcheck_command": lambda: steps.Cppcheck(command="x"),
 "maxq_no_testdir": lambda: steps.MaxQ(),
 "hlint_command": lambda: steps.HLint(command="x"),
 "http_bad_method": lambda: steps.HTTPStep("http://x", method="PATCH"),
 "http_unknown_arg": lambda: steps.GET("http://x", bogus=1),
 "gitdiffinfo_command": lambda: steps.GitDiffInfo(command="x"),
 "pylint_unknown_arg": lambda: steps.PyLint(bogus=1),
 "pyflakes_ok": lambda: steps.PyFlakes(),
 "epydoc_ok": lambda: steps.BuildEPYDoc(),
 "subunit_ok": lambda: steps.SubunitShellCommand(command="x"),
 "removepycs_ok": lambda: steps.RemovePYCs(),
 "setup_steps_ok": lambda: steps.BuildbotCiSetupSteps(),
 "ci_trigger_ok": lambda: steps.BuildbotTestCiTrigger(scheduler="s"),
 "quick_factory": lambda: util.QuickBuildFactory("root", "mod"),
 "basic_svn": lambda: util.BasicSVN("svn://x"),
 "trial_factory_no_tests": lambda: util.Trial(steps.ShellCommand(command="x")),
}


def outcomes() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, call in CALLS.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with capture_config_errors() as errs:
                    call()
            out[name] = ["config", list(errs.errors)]
        except Exception as e:  # noqa: BLE001 (recorded as the reference raised it)
            out[name] = [type(e).__name__, str(e)]
    return out


if __name__ == "__main__":
    print(json.dumps(outcomes(), indent=1, sort_keys=True))
