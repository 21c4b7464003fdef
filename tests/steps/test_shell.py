"""Shell steps in real builds on a LocalWorker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pytest_twisted

from buildbot.config.errors import capture_config_errors
from buildbot.plugins import steps, util
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS
from buildbot.steps.shell import PerlModuleTestObserver
from tests.steps.harness import headers_of, run_build, stdout_of

pytestmark = pytest.mark.integration


def config_errors(make) -> list[str]:
    with capture_config_errors() as errors:
        make()
    return list(errors.errors)


def test_shell_command_requires_command_and_rejects_unknown_arguments() -> None:
    assert config_errors(lambda: steps.ShellCommand()) == [
        "ShellCommand's `command' argument is not specified"]
    errs = config_errors(lambda: steps.ShellCommand(command="x", bogus=1))
    assert errs[0] == "Invalid argument(s) passed to ShellCommand: bogus"


def test_set_property_from_command_needs_exactly_one_target() -> None:
    msg = "Exactly one of property and extract_fn must be set"
    assert config_errors(lambda: steps.SetPropertyFromCommand(command="x")) == [msg]
    assert config_errors(lambda: steps.SetPropertyFromCommand(
        command="x", property="p", extract_fn=lambda rc, o, e: {})) == [msg]


def test_warning_counting_requires_command() -> None:
    assert config_errors(lambda: steps.WarningCountingShellCommand()) == [
        "WarningCountingShellCommand's 'command' argument is not specified"]


def test_class_defaults_of_the_shell_family() -> None:
    got = {cls.__name__: (cls.name, cls.haltOnFailure, cls.flunkOnFailure, cls.warnOnFailure)
           for cls in (steps.ShellCommand, steps.Configure, steps.Compile, steps.Test,
                       steps.SetPropertyFromCommand, steps.TreeSize)}
    assert got == {
        "ShellCommand": ("shell", False, True, False),
        "Configure": ("configure", True, True, False),
        "Compile": ("compile", True, True, False),
        "Test": ("test", False, True, True),
        "SetPropertyFromCommand": ("setproperty", False, True, False),
        "TreeSize": ("treesize", False, True, False),
    }


@pytest_twisted.ensureDeferred
async def test_summaries_follow_command_and_results(tmp_path: Path) -> None:
    out = await run_build(tmp_path, [
        steps.ShellCommand(command=["echo", "a", "b", "c"]),
        steps.ShellCommand(command="exit 1", name="fails"),
        steps.ShellCommand(command="true", description="doing", name="desc"),
        steps.ShellCommand(command="true", descriptionDone="did", descriptionSuffix="it",
                           name="done"),
        steps.ShellCommand(command="exit 2", decodeRC={2: WARNINGS}, name="rc2"),
    ])
    assert out.summary == [
        ("shell", SUCCESS, "'echo a ...'"),
        ("fails", FAILURE, "'exit 1' (failure)"),
        ("desc", SUCCESS, "'true'"),
        ("done", SUCCESS, "did it"),
        ("rc2", WARNINGS, "'exit 2' (warnings)"),
    ]
    assert out.results == FAILURE
    assert out.state_string == "failed 'exit 1' (failure)"


@pytest_twisted.ensureDeferred
async def test_env_logfiles_and_timeout_reach_the_worker(tmp_path: Path) -> None:
    out = await run_build(tmp_path, [
        steps.ShellCommand(command="echo $FOO-$BAR; echo inlog > my.log",
                           env={"FOO": util.Interpolate("%(prop:who)s")},
                           logfiles={"mine": "my.log"}, timeout=77),
    ], properties={"who": "me"}, builder_kwargs={"env": {"BAR": "benv"}})
    stdio = out.steps[1].logs["stdio"]
    assert "me-benv" in stdout_of(stdio)
    assert "(timeout 77 secs)" in headers_of(stdio)
    assert set(out.steps[1].logs) == {"stdio", "mine"}


@pytest_twisted.ensureDeferred
async def test_timeout_kills_command_and_says_so(tmp_path: Path) -> None:
    out = await run_build(tmp_path, [steps.ShellCommand(command="sleep 5", timeout=0.3)])
    assert out.summary == [("shell", FAILURE, "'sleep 5' (failure) (timed out)")]


@pytest_twisted.ensureDeferred
async def test_max_lines(tmp_path: Path) -> None:
    out = await run_build(tmp_path, [
        steps.ShellCommand(command="for i in 1 2 3 4 5 6; do echo $i; done; sleep 3",
                           max_lines=2)])
    assert out.summary == [("shell", FAILURE, "'for i ...' (failure) (max lines)")]


@pytest_twisted.ensureDeferred
async def test_set_property_from_command(tmp_path: Path) -> None:
    def extract(rc: int, stdout: str, stderr: str) -> dict[str, str]:
        return {"out": stdout.strip(), "err": stderr.strip(), "rc": str(rc)}

    out = await run_build(tmp_path, [
        steps.SetPropertyFromCommand(command="echo '  val  '", property="one"),
        steps.SetPropertyFromCommand(command="echo x; echo y >&2", extract_fn=extract),
        steps.SetPropertyFromCommand(command="echo kept", property="raw", strip=False),
    ])
    assert out.props["one"] == "val"
    assert out.prop_sources["one"] == "SetPropertyFromCommand Step"
    assert (out.props["out"], out.props["err"], out.props["rc"]) == ("x", "y", "0")
    assert out.props["raw"] == "kept\n"
    assert [s[2] for s in out.summary] == [
        "property 'one' set", "3 properties set", "property 'raw' set"]
    assert out.steps[2].logs["property changes"] == \
        "err: 'y'\nout: 'x'\nrc: '0'\n"


@pytest_twisted.ensureDeferred
async def test_set_property_from_failed_command_sets_nothing(tmp_path: Path) -> None:
    out = await run_build(tmp_path, [
        steps.SetPropertyFromCommand(command="echo v; exit 1", property="p")])
    assert "p" not in out.props
    assert out.summary == [("setproperty", FAILURE, "'echo v; ...' (failure)")]


@pytest_twisted.ensureDeferred
async def test_compile_counts_warnings(tmp_path: Path) -> None:
    script = ("echo 'a.c:1: warning: one'; echo 'fine'; echo 'b.c:2: Warning: two'; "
              "echo 'make[1]: Entering directory `/x/sub'\"'\"; echo 'c.c:3: warning: three'")
    out = await run_build(tmp_path, [
        steps.Compile(command=script),
        steps.Compile(command=script, name="limited", maxWarnCount=2, haltOnFailure=False),
        steps.Compile(command=script, name="suppressed",
                      suppressionList=[(None, "one", None, None)]),
    ])
    assert out.summary == [
        ("compile", WARNINGS, "compile (warnings)"),
        ("limited", FAILURE, "compile (failure)"),
        ("suppressed", WARNINGS, "compile (warnings)"),
    ]
    assert out.steps[1].logs["warnings (3)"] == (
        "a.c:1: warning: one\nb.c:2: Warning: two\nc.c:3: warning: three\n")
    assert "warnings (2)" in out.steps[3].logs
    assert out.props["warnings-count"] == 8


@pytest_twisted.ensureDeferred
async def test_compile_suppression_file_from_worker(tmp_path: Path) -> None:
    def prepare(wdir: Path) -> None:
        (wdir / "build").mkdir(parents=True)
        (wdir / "build" / "supp").write_text(
            "# comment\n\nsub/c.c : three : 3\n.* : two\n")
        # in a file: the command line in the stdio header would match the patterns too
        (wdir / "build" / "script").write_text(
            "echo \"make: Entering directory 'sub'\"; echo 'c.c:3: warning: three'\n"
            "echo 'make: Leaving directory'; echo 'b.c:2: warning: two'\n"
            "echo 'a.c:9: warning: one'\n")

    out = await run_build(tmp_path, [
        steps.Compile(command=["sh", "script"], suppressionFile="supp",
                      warningPattern=r"^(.*?):([0-9]+): [Ww]arning: (.*)$",
                      warningExtractor=steps.Compile.warnExtractFromRegexpGroups)],
        before=prepare)
    assert out.steps[1].logs["warnings (1)"] == "a.c:9: warning: one\n"
    assert out.props["warnings-count"] == 1


@pytest_twisted.ensureDeferred
async def test_treesize_sets_property(tmp_path: Path) -> None:
    def prepare(wdir: Path) -> None:
        (wdir / "build").mkdir(parents=True)
        (wdir / "build" / "blob").write_bytes(b"x" * 300_000)

    out = await run_build(tmp_path, [steps.TreeSize()], before=prepare)
    kib = out.props["tree-size-KiB"]
    assert kib >= 290
    assert out.summary == [("treesize", SUCCESS, f"treesize {kib} KiB")]


@pytest_twisted.ensureDeferred
async def test_configure_and_test_defaults(tmp_path: Path) -> None:
    out = await run_build(tmp_path, [
        steps.Test(command="exit 1"),
        steps.Configure(command="exit 0"),
        steps.Configure(command="exit 1"),
        steps.ShellCommand(command="true", name="never"),
    ])
    assert out.summary == [
        ("test", FAILURE, "test (failure)"),
        ("configure", SUCCESS, "configure"),
        ("configure_1", FAILURE, "configure (failure)"),
    ]
    assert out.results == FAILURE
    assert out.state_string == "failed test (failure) configure (failure)"


@pytest_twisted.ensureDeferred
async def test_perl_module_test_reads_prove_output(tmp_path: Path) -> None:
    text = "t/a.t .. ok\\nAll tests successful.\\nFiles=1, Tests=7,  0 wallclock secs\\n"
    out = await run_build(tmp_path, [steps.PerlModuleTest(command=f"printf '{text}'")])
    assert out.summary == [("test", SUCCESS, "7 tests 7 passed")]


PERL_TRANSCRIPTS = json.loads(
    (Path(__file__).parent / "reference_perl_observer.json").read_text())


@pytest.mark.parametrize("name", sorted(PERL_TRANSCRIPTS))
def test_perl_observer_reads_prove_output_like_the_reference(name: str) -> None:
    # (rc, total, failed, warnings, newStyle) recorded from 4.3's observer on the same lines
    case = PERL_TRANSCRIPTS[name]
    observer = PerlModuleTestObserver(warningPattern=r"^.*[Ww]arning.*$")
    for line in case["lines"]:
        observer.outLineReceived(line)
    assert [observer.rc, observer.total, observer.failed, observer.warnings,
            observer.newStyle] == case["state"]
