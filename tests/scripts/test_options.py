"""Option parsing of `buildbot`: the top level, usage errors, basedirs, .buildbot/options."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from twisted.python import usage

import buildbot
from buildbot.scripts import base, runner


def parse(*argv: str) -> Any:
    """Parse a command line; returns the subcommand's options."""
    options = runner.Options()
    options.parseOptions(list(argv))
    return options.subOptions


def run_exit(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the console script in-process (parsing only paths); (exit code, out, err)."""
    with pytest.raises(SystemExit) as exc:
        runner.run(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture(autouse=True)
def no_options_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in an empty directory with an empty home, so no real .buildbot/options is read."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return work


def test_version_prints_buildbot_and_twisted_versions(capsys: pytest.CaptureFixture[str]) -> None:
    import twisted

    code, out, _ = run_exit(["--version"], capsys)

    assert (code, out) == (0, (f"Buildbot version: {buildbot.version}\n"
                               f"buildbot-fast version: {buildbot.__version__}\n"
                               f"Twisted version: {twisted.__version__}\n"))


def test_help_lists_every_command_alphabetically(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_exit(["--help"], capsys)

    assert code == 0
    assert out.startswith("Usage:    buildbot <command> [command options]\n")
    listed = [line.split()[0] for line in out.split("Commands:\n")[1].splitlines()
              if line.startswith("    ") and not line.startswith("     ")]
    assert listed == sorted([
        "checkconfig", "cleanupdb", "copy-db", "create-master", "dataspec", "dev-proxy",
        "reconfig", "restart", "sendchange", "sighup", "start", "stop", "try", "tryserver",
        "upgrade-master", "user"])


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["buildbot"])

    code, out, _ = run_exit([], capsys)

    assert code == 1
    assert out.startswith("buildbot:  must specify a command\n\nUsage:    buildbot <command>")


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["buildbot", "frobnicate"])

    code, out, _ = run_exit(["frobnicate"], capsys)

    assert (code, out.splitlines()[0]) == (1, "buildbot:  Unknown command: frobnicate")


def test_subcommand_usage_error_prints_that_subcommands_help(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["buildbot", "stop", "a", "b"])

    code, out, _ = run_exit(["stop", "a", "b"], capsys)

    lines = out.splitlines()
    assert code == 1
    assert lines[:3] == ["buildbot:  I wasn't expecting so many arguments", "",
                         "Usage:    buildbot stop [<basedir>]"]


def test_subcommand_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_exit(["create-master", "--help"], capsys)

    assert code == 0
    assert out.startswith("Usage:    buildbot create-master [options] [<basedir>]\nOptions:\n")
    assert "sqlite:///state.sqlite]" in out  # the default (wrapped to the width)


@pytest.mark.parametrize("command", sorted(runner.COMMANDS))
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_exit([command, "--help"], capsys)

    assert code == 0
    assert out.startswith("Usage:")
    assert "--help" in out


def test_underscore_options_reject_the_dashed_spelling() -> None:
    with pytest.raises(usage.UsageError, match="option --start-timeout not recognized"):
        parse("start", "--start-timeout=3")


def test_start_timeout_is_kept_as_given() -> None:
    assert parse("start", "--start_timeout=3")["start_timeout"] == "3"


def test_basedir_defaults_to_the_current_directory(no_options_file: Path) -> None:
    assert parse("stop")["basedir"] == str(no_options_file)


def test_basedir_is_made_absolute_with_tilde_expanded(no_options_file: Path) -> None:
    assert parse("stop", "sub")["basedir"] == str(no_options_file / "sub")
    assert parse("stop", "~/m")["basedir"] == os.path.join(os.environ["HOME"], "m")


@pytest.mark.parametrize(("argv", "message"), [
    (["create-master", "-l", "many"], "log-count parameter needs to be an int or None"),
    (["create-master", "--db", "not a url"], "could not parse database URL 'not a url'"),
    (["sendchange"], "Required arguments missing: who, master"),
    (["sendchange", "-W", "me"], "Required argument missing: master"),
    (["sendchange", "-W", "me", "-m", "nohost"], "master must have the form 'hostname:port'"),
    (["sendchange", "-W", "me", "-m", "h:1", "-s", "rcs"],
     "vc must be one of cvs, svn, darcs, hg, bzr, git, mtn, p4"),
    (["sendchange", "-W", "me", "-m", "h:1", "-w", "noon"], "invalid 'when' value noon"),
    (["tryserver"], "jobdir is required"),
    (["try", "-c", "pb"], "master location must be specified for 'pb' connections"),
    (["user", "-m", "h:1"], "you must specify an operation: add, remove, update, get"),
    (["user", "-m", "h:1", "--op", "zap"], "bad op 'zap', use 'add', 'remove', 'update', or 'get'"),
    (["user", "-m", "h:1", "--op", "get"], "A username and password must be given"),
    (["user", "-m", "h:1", "--op", "get", "-u", "u", "-p", "p"],
     "must specify either --ids or --info"),
    (["user", "-m", "h:1", "--op", "add", "-u", "u", "-p", "p", "--info", "id:git=x"],
     "identifier found in add info, use: --info=type=value,type=value,.."),
    (["user", "-m", "h:1", "--op", "update", "-u", "u", "-p", "p", "--info", "git=x"],
     "no ids found in update info; use: --info=id:type=value,type=value,.."),
    (["user", "-m", "h:1", "--op", "get", "-u", "u", "-p", "p", "--bb_username", "x"],
     "bb_username and bb_password only work with update"),
    (["copy-db"], "incorrect number of arguments"),
])
def test_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(usage.UsageError) as exc:
        parse(*argv)
    assert str(exc.value) == message


def test_create_master_log_count_none() -> None:
    assert parse("create-master", "-l", "None")["log-count"] is None
    assert parse("create-master", "-l", "4")["log-count"] == 4


def test_sendchange_collects_properties_files_and_auth() -> None:
    opts = parse("sendchange", "-m", "h:9989", "-W", "me", "-p", "a:1", "-p", "b:x:y",
                 "--auth", "u:p:w", "f1", "f2")

    assert (opts["properties"], opts["files"], opts["auth"], opts["comments"], opts["when"]) == (
        {"a": "1", "b": "x:y"}, ("f1", "f2"), ("u", "p:w"), "", None)


def test_try_collects_builders_and_properties() -> None:
    opts = parse("try", "-c", "pb", "-m", "h:1", "-b", "a", "-b", "b",
                 "--properties", "x=1,y=2", "--property", "z=3=4", "-p", "2")

    assert (opts["builders"], opts["properties"], opts["patchlevel"]) == (
        ["a", "b"], {"x": "1", "y": "2", "z": "3=4"}, 2)


def test_user_info_parsing() -> None:
    opts = parse("user", "-m", "h:1", "--op", "update", "-u", "u", "-p", "p",
                 "--info", "jo:git=jo <j@x>,email=j@x")

    assert opts["info"] == [{"identifier": "jo", "git": "jo <j@x>", "email": "j@x"}]


def test_options_file_supplies_defaults(no_options_file: Path) -> None:
    optdir = no_options_file / ".buildbot"
    optdir.mkdir()
    (optdir / "options").write_text("master = 'example.org:9989'\nwho = 'alice'\n"
                                    "try_connect = 'pb'\ntry_master = 'h:5555'\n"
                                    "try_masterstatus = 'legacy:1'\ntry_builders = ['b1']\n"
                                    "try_wait = True\n")

    change = parse("sendchange", "f")
    trial = parse("try")

    assert (change["master"], change["who"]) == ("example.org:9989", "alice")
    assert (trial["connect"], trial["master"], trial["builders"], trial["wait"]) == (
        "pb", "h:5555", ["b1"], True)


def test_command_line_beats_options_file(no_options_file: Path) -> None:
    optdir = no_options_file / ".buildbot"
    optdir.mkdir()
    (optdir / "options").write_text("master = 'example.org:9989'\n")

    assert parse("sendchange", "-W", "w", "-m", "other:1")["master"] == "other:1"


def test_options_file_found_in_a_parent_directory(no_options_file: Path) -> None:
    (no_options_file / ".buildbot").mkdir()
    (no_options_file / ".buildbot" / "options").write_text("who = 'parent'\n")
    deeper = no_options_file / "a" / "b"
    deeper.mkdir(parents=True)

    assert base.load_options_file(str(deeper)) == {"who": "parent"}


def test_options_file_in_home_is_the_fallback(no_options_file: Path) -> None:
    home = Path(os.environ["HOME"]) / ".buildbot"
    home.mkdir()
    (home / "options").write_text("who = 'home'\n_x = 1\n__y = 2\n")

    assert base.load_options_file(str(no_options_file), home=str(home)) == {
        "who": "home", "_x": 1}


def test_broken_options_file_is_a_usage_error_naming_it(no_options_file: Path) -> None:
    (no_options_file / ".buildbot").mkdir()
    (no_options_file / ".buildbot" / "options").write_text("who = (\n")

    with pytest.raises(usage.UsageError, match="error while reading .*options"):
        parse("sendchange", "f")


@pytest.mark.integration
def test_verbose_logs_to_stderr_and_keeps_stdout(tmp_path: Path) -> None:
    from tests.scripts.conftest import run_cli

    (tmp_path / "m.cfg").write_text("BuildmasterConfig = {'frob': 1}\n")

    result = run_cli("--verbose", "checkconfig", "m.cfg", cwd=tmp_path)

    assert (result.returncode, result.stdout) == (1, "")
    assert "Loading configuration from" in result.stderr
    assert "Configuration Errors:" in result.stderr


@pytest.mark.parametrize(("args", "expected"), [
    ([], ("", None, None)),
    (["-c", "msg", "-F", "{log}"], ("msg", None, None)),
    (["-c", "", "-F", "{log}"], ("from the log file\n", None, None)),
    (["-F", "{log}", "-r", "r1", "--revision_file", "{rev}", "-w", "12.5"],
     ("from the log file\n", "r2\n", 12.5)),
    (["-r", "r1", "-w", "0"], ("", "r1", 0.0)),
])
def test_sendchange_reads_message_revision_and_time(tmp_path: Path, args: list[str],
                                                    expected: tuple[Any, ...]) -> None:
    (tmp_path / "log").write_text("from the log file\n")
    (tmp_path / "rev").write_text("r2\n")
    files = {"log": tmp_path / "log", "rev": tmp_path / "rev"}
    opts = parse("sendchange", "-m", "h:1", "-W", "me",
                 *[a.format(**files) for a in args])
    assert (opts["comments"], opts["revision"], opts["when"]) == expected
