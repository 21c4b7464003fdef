"""Executing master.cfg: environment, failures, aggregation (spec config-and-cli §1)."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from twisted.logger import globalLogPublisher

from buildbot.config.errors import ConfigErrors
from buildbot.config.master import FileLoader, loadConfigDict

#: what a master.cfg saw of the garbage collector (gc.isenabled())
COLLECTOR_SEEN: list[bool] = []
MINIMAL = "BuildmasterConfig = {'multiMaster': True, 'buildbotNetUsageData': None}\n"


def write(basedir: Path, text: str, name: str = "master.cfg") -> None:
    (basedir / name).write_text(text, encoding="utf-8")


def load_errors(basedir: Path, name: str = "master.cfg") -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        FileLoader(str(basedir), name).loadConfig()
    return info.value.errors


def test_file_sees_basedir_and_file_and_builtins_as_name(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL + "seen = dict(name=__name__, basedir=basedir, file=__file__,\n"
          "            names=sorted(k for k in globals() if k != '__builtins__'))\n"
          "BuildmasterConfig['seen'] = seen\n")

    _, d = loadConfigDict(str(tmp_path), "master.cfg")

    assert d["seen"] == {"name": "builtins", "basedir": str(tmp_path),
                         "file": str(tmp_path / "master.cfg"),
                         "names": ["BuildmasterConfig", "__file__", "basedir"]}


def test_dunder_file_is_absolute_when_basedir_is_relative(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "m").mkdir()
    write(tmp_path / "m", MINIMAL + "BuildmasterConfig['seen'] = (basedir, __file__)\n")
    monkeypatch.chdir(tmp_path)

    filename, d = loadConfigDict("m", "master.cfg")

    assert (filename, d["seen"]) == ("m/master.cfg", ("m", str(tmp_path / "m" / "master.cfg")))


def test_helper_module_next_to_config_is_importable_and_sys_path_restored(
        tmp_path: Path) -> None:
    write(tmp_path, "VALUE = 42\n", name="cfg_helper_for_test.py")
    write(tmp_path, "import sys\nimport cfg_helper_for_test\n" + MINIMAL +
          "BuildmasterConfig['value'] = cfg_helper_for_test.VALUE\n"
          "BuildmasterConfig['last_path'] = sys.path[-1]\n")
    before = list(sys.path)
    try:
        _, d = loadConfigDict(str(tmp_path), "master.cfg")
    finally:
        sys.modules.pop("cfg_helper_for_test", None)

    assert ((d["value"], d["last_path"]), sys.path) == ((42, str(tmp_path)), before)


def test_sys_path_restored_when_the_file_fails(tmp_path: Path, logged_errors: Any) -> None:
    write(tmp_path, "raise RuntimeError('boom')\n")
    before = list(sys.path)

    load_errors(tmp_path)

    logged_errors.flush("boom")
    assert sys.path == before


def test_loading_is_logged_with_the_full_path(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL)
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        FileLoader(str(tmp_path), "master.cfg").loadConfig()
    finally:
        globalLogPublisher.removeObserver(events.append)

    from twisted.logger import formatEvent
    assert f"Loading configuration from '{tmp_path / 'master.cfg'}'" in [
        formatEvent(e) for e in events]


def test_missing_basedir(tmp_path: Path) -> None:
    assert load_errors(tmp_path / "nope") == [f"basedir '{tmp_path / 'nope'}' does not exist"]


def test_missing_file(tmp_path: Path) -> None:
    assert load_errors(tmp_path, "other.cfg") == [
        f"configuration file '{tmp_path / 'other.cfg'}' does not exist"]


def test_absolute_file_name_is_used_as_is(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    write(tmp_path / "elsewhere", MINIMAL, name="my.cfg")

    filename, _ = loadConfigDict(str(tmp_path), str(tmp_path / "elsewhere" / "my.cfg"))

    assert filename == str(tmp_path / "elsewhere" / "my.cfg")


def test_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "master.cfg").mkdir()  # exists, but cannot be read as a file

    [msg] = load_errors(tmp_path)

    assert msg.startswith(f"unable to open configuration file '{tmp_path / 'master.cfg'}': ")


def test_syntax_error_embeds_the_traceback(tmp_path: Path) -> None:
    write(tmp_path, "c = BuildmasterConfig = {}\nx = (\n")

    [msg] = load_errors(tmp_path)

    head, _, rest = msg.partition("\n")
    assert (head, rest.startswith("Traceback (most recent call last):"),
            "SyntaxError: '(' was never closed" in rest, msg.endswith("\n ")) == (
        "encountered a SyntaxError while parsing config file:", True, True, True)


def test_exception_is_reported_after_errors_recorded_before_it(tmp_path: Path,
                                                               logged_errors: Any) -> None:
    write(tmp_path, "from buildbot.config import error\n"
          "error('first problem')\nerror('second problem')\n"
          "import nonexistent_module_for_test\n")

    errors = load_errors(tmp_path)

    assert errors == ["first problem", "second problem",
                      ("error while parsing config file: No module named "
                      "'nonexistent_module_for_test' (traceback in logfile)")]
    [event] = logged_errors.flush("error while parsing config file:")
    assert event["log_failure"].check(ModuleNotFoundError)


def test_config_errors_raised_by_the_file_are_kept_as_is(tmp_path: Path) -> None:
    write(tmp_path, "from buildbot.config import error, ConfigErrors\nerror('recorded')\n"
          "raise ConfigErrors(['one', 'two'])\n")

    assert load_errors(tmp_path) == ["recorded", "one", "two"]


def test_coding_line_is_honoured_and_bad_bytes_are_a_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "master.cfg").write_bytes(
        b"# -*- coding: latin-1 -*-\n" + MINIMAL.encode() + b"BuildmasterConfig['t'] = '\xe9'\n")
    (tmp_path / "bad.cfg").write_bytes(MINIMAL.encode() + b"x = '\xff'\n")

    _, d = loadConfigDict(str(tmp_path), "master.cfg")
    [msg] = load_errors(tmp_path, "bad.cfg")

    assert (d["t"], msg.splitlines()[0]) == (
        "\xe9", "encountered a SyntaxError while parsing config file:")


def test_config_without_buildmasterconfig(tmp_path: Path) -> None:
    write(tmp_path, "x = 1\n")

    assert load_errors(tmp_path) == [
        f"Configuration file '{tmp_path / 'master.cfg'}' does not define 'BuildmasterConfig'"]


def test_buildmasterconfig_not_a_dict(tmp_path: Path) -> None:
    write(tmp_path, "BuildmasterConfig = [1]\n")

    assert load_errors(tmp_path) == [
        (f"Configuration file '{tmp_path / 'master.cfg'}' defines 'BuildmasterConfig' as list; "
        "it must be a dict, such as BuildmasterConfig = {}")]


def test_system_exit_is_not_turned_into_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "raise SystemExit(3)\n")

    with pytest.raises(SystemExit):
        FileLoader(str(tmp_path), "master.cfg").loadConfig()


def test_constructor_errors_come_before_unknown_keys_and_loaders(tmp_path: Path) -> None:
    write(tmp_path, "from buildbot.config import error\n"
          "BuildmasterConfig = {'zz': 1, 'title': 3, 'buildbotNetUsageData': None}\n"
          "error('from a constructor')\n")

    assert load_errors(tmp_path) == ["from a constructor", "Unknown BuildmasterConfig key zz",
                                     "c['title'] must be a string", "no workers are configured",
                                     "no builders are configured"]


def test_tilde_in_basedir_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path, MINIMAL + "BuildmasterConfig['seen'] = basedir\n")

    _, d = loadConfigDict("~", "master.cfg")

    assert d["seen"] == str(tmp_path) and os.path.isabs(d["seen"])


def test_the_garbage_collector_is_off_while_the_file_runs_and_back_on_after(
        tmp_path: Path) -> None:
    write(tmp_path, MINIMAL + "import gc\nfrom tests.config import test_loader\n"
          "test_loader.COLLECTOR_SEEN.append(gc.isenabled())\n")

    FileLoader(str(tmp_path), "master.cfg").loadConfig()

    assert COLLECTOR_SEEN == [False]
    assert gc.isenabled()


def test_the_collector_comes_back_on_after_a_failed_load(tmp_path: Path,
                                                        logged_errors: Any) -> None:
    write(tmp_path, "raise RuntimeError('boom')\n")

    load_errors(tmp_path)

    logged_errors.flush("boom")
    assert gc.isenabled()


def test_a_collector_turned_off_before_the_load_stays_off(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL)
    gc.disable()
    try:
        FileLoader(str(tmp_path), "master.cfg").loadConfig()
        assert not gc.isenabled()
    finally:
        gc.enable()
