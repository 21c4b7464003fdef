"""The steps each canned factory of `buildbot.process.factory` creates (class and constructor
arguments) for typical arguments, as JSON; run with the reference's interpreter to record
`canned_factories_4.3.json`:

    /work/refvenv/bin/python tests/process/record_canned_factories.py > tests/process/canned_factories_4.3.json

`test_canned_factories.py` imports `outcomes()` and compares. Not collected by pytest.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from buildbot.plugins import steps, util

SOURCE = steps.Git(repourl="https://example.invalid/repo.git", mode="full")

FACTORIES: dict[str, Any] = {
    "autoconf_defaults": lambda: util.GNUAutoconf(SOURCE),
    "autoconf_reconf_flags": lambda: util.GNUAutoconf(
        SOURCE, reconf=True, configureFlags=["--prefix=/usr"], configureEnv={"CC": "gcc"}),
    "autoconf_list_configure": lambda: util.GNUAutoconf(
        SOURCE, configure=["sh", "configure"], configureFlags=["-q"], reconf=["./bootstrap"],
        compile=None, test="make test", distcheck=None),
    "autoconf_no_configure": lambda: util.GNUAutoconf(SOURCE, configure=None),
    "cpan": lambda: util.CPAN(SOURCE, perl="perl5"),
    "distutils": lambda: util.Distutils(SOURCE, python="python3", test=["make", "test"]),
    "trial": lambda: util.Trial(SOURCE, tests="pkg.test", buildpython=["python3"],
                                trialpython=["python3", "-W", "error"], randomly=True,
                                env={"A": "1"}),
    "trial_changes": lambda: util.Trial(SOURCE, useTestCaseNames=True, recurse=True,
                                        trial="trial3"),
    "basic_cvs": lambda: util.BasicBuildFactory(":pserver:a@example.invalid:/cvs", "mod",
                                                configure="./configure", cvsCopy=True),
}


def _value(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_value(x) for x in v]
    if isinstance(v, dict):
        return {k: _value(x) for k, x in v.items()}
    return type(v).__name__


def outcomes() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, make in FACTORIES.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            factory = make()
        out[name] = {
            "steps": [[f.step_class.__name__, _value(list(f.args)), _value(f.kwargs)]
                      for f in factory.steps],
            "useProgress": factory.useProgress,
            "warnings": [str(w.message) for w in caught if w.category is DeprecationWarning],
        }
    return out


if __name__ == "__main__":
    print(json.dumps(outcomes(), indent=1, sort_keys=True))
