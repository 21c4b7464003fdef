"""For each constructor call of the Windows, package and other version-control steps, the
config errors or the exception it raises, as JSON; run with the reference's interpreter to
record `fixtures/platform_ctor_errors_4_3.json`:

    /work/refvenv/bin/python tests/steps/record_platform_ctor_errors.py \
        > tests/steps/fixtures/platform_ctor_errors_4_3.json
    /work/refvenv/bin/python tests/steps/record_platform_ctor_errors.py --defaults \
        > tests/steps/fixtures/platform_class_defaults_4_3.json

`test_platform_steps_config.py` imports `outcomes()` and compares. Not collected by pytest.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from buildbot.config.errors import capture_config_errors
from buildbot.plugins import steps, util

CALLS: dict[str, Any] = {
    "vc6_ok": lambda: steps.VC6(projectfile="a.dsw"),
    "vc8_unknown_arg": lambda: steps.VC8(projectfile="a.sln", bogus=1),
    "vs_command": lambda: steps.VS2019(projectfile="a.sln", command="x"),
    "msbuild_no_platform": lambda: steps.MsBuild(projectfile="a.sln"),
    "msbuild141_no_platform": lambda: steps.MsBuild141(projectfile="a.sln"),
    "msbuild_ok": lambda: steps.MsBuild17(platform="x64", projectfile="a.sln"),
    "robocopy_no_destination": lambda: steps.Robocopy(source="a"),
    "robocopy_env": lambda: steps.Robocopy(source="a", destination="b", env={"A": "1"}),
    "robocopy_ok": lambda: steps.Robocopy("a", "b", mirror=True, exclude=["x"]),
    "rpmbuild_no_spec": lambda: steps.RpmBuild(),
    "rpmbuild_command": lambda: steps.RpmBuild(specfile="a.spec", command="x"),
    "rpmlint_ok": lambda: steps.RpmLint(fileloc="a.spec", config="rc"),
    "mock_no_root": lambda: steps.Mock(),
    "mock_command": lambda: steps.Mock(root="r", command="x"),
    "mockbuildsrpm_no_spec": lambda: steps.MockBuildSRPM(root="r"),
    "mockrebuild_no_srpm": lambda: steps.MockRebuild(root="r"),
    "pbuilder_ok": lambda: steps.DebPbuilder(),
    "ubupbuilder_no_distribution": lambda: steps.UbuPbuilder(),
    "ubucowbuilder_no_distribution": lambda: steps.UbuCowbuilder(),
    "pbuilder_unknown_arg": lambda: steps.DebPbuilder(bogus=1),
    "lintian_no_fileloc": lambda: steps.DebLintian(),
    "bzr_both_urls": lambda: steps.Bzr(repourl="a", baseURL="b"),
    "bzr_no_url": lambda: steps.Bzr(),
    "bzr_base_without_branch": lambda: steps.Bzr(baseURL="b"),
    "bzr_bad_mode": lambda: steps.Bzr(repourl="a", mode="x"),
    "cvs_bad_mode": lambda: steps.CVS(cvsroot="r", cvsmodule="m", mode="x"),
    "cvs_ok": lambda: steps.CVS(cvsroot="r", cvsmodule="m", mode="full", method="copy"),
    "darcs_errors": lambda: steps.Darcs(mode="x"),
    "darcs_incremental_method": lambda: steps.Darcs(repourl="r", method="clobber"),
    "darcs_bad_method": lambda: steps.Darcs(repourl="r", mode="full", method="fresh"),
    "mtn_errors": lambda: steps.Monotone(mode="full", method="x"),
    "mtn_ok": lambda: steps.Monotone(repourl="r", branch="b", mode="full", method="fresh"),
    "p4_no_base": lambda: steps.P4(),
    "p4_bad_mode": lambda: steps.P4(p4base="//d", mode="x"),
    "p4_viewspec_and_base": lambda: steps.P4(p4viewspec=[("//d/", "")], p4base="//d"),
    "p4_viewspec_string": lambda: steps.P4(p4viewspec="//d/..."),
    "p4_base_slashes": lambda: steps.P4(p4base="d/", p4branch="b/"),
    "p4_stream_errors": lambda: steps.P4(p4base="//d x", stream=True,
                                         p4extra_views=[("a", "b")]),
    "p4_client_type": lambda: steps.P4(p4base="//d", p4client_type="x"),
    "p4_ok": lambda: steps.P4(p4viewspec=[("//d/", "")], p4client_type="readonly"),
    "repo_ok": lambda: steps.Repo(manifestURL="u", jobs=2),
    "repo_downloads_ok": lambda: util.repo.DownloadsFromProperties(["a"]),
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


DEFAULT_ATTRS = ("name", "description", "descriptionDone", "default_installdir", "vcenv_bat",
                 "version_range", "mode", "config", "arch", "platform", "haltOnFailure",
                 "flunkOnFailure", "warnOnFailure", "warningPattern", "distribution", "mirror",
                 "components", "pbuilder", "baseOption", "maxAge", "_default_basetgz",
                 "fileloc", "sources", "renderables_all")
STEP_CLASSES = [
    "VC6", "VC7", "VC8", "VC9", "VC10", "VC11", "VC12", "VC14", "VC141", "VCExpress9",
    "VS2003", "VS2005", "VS2008", "VS2010", "VS2012", "VS2013", "VS2015", "VS2017", "VS2019",
    "VS2022", "MsBuild", "MsBuild4", "MsBuild12", "MsBuild14", "MsBuild141", "MsBuild15",
    "MsBuild16", "MsBuild17", "Robocopy", "RpmBuild", "RpmLint", "Mock", "MockBuildSRPM",
    "MockRebuild", "DebPbuilder", "DebCowbuilder", "UbuPbuilder", "UbuCowbuilder",
    "DebLintian", "Bzr", "CVS", "Darcs", "Monotone", "P4", "Repo",
]


def class_defaults() -> dict[str, Any]:
    """Per step name, its class-level defaults (descriptions as lists)."""
    out: dict[str, Any] = {}
    for name in STEP_CLASSES:
        cls = getattr(steps, name)
        found: dict[str, Any] = {}
        for attr in DEFAULT_ATTRS:
            if attr == "renderables_all":
                found[attr] = sorted({r for k in cls.__mro__
                                      for r in k.__dict__.get("renderables", ())})
            elif hasattr(cls, attr) and not callable(getattr(cls, attr)):
                value = getattr(cls, attr)
                found[attr] = list(value) if isinstance(value, (list, tuple)) else value
        out[name] = found
    return out


if __name__ == "__main__":
    import sys

    table = class_defaults() if "--defaults" in sys.argv else outcomes()
    print(json.dumps(table, indent=1, sort_keys=True, default=repr))
