"""Translation of PB-style command arguments for msgpack workers."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

import pytest

from buildbot.worker.protocols.msgpack import updates_to_pb
from buildbot.worker.protocols.msgpack_args import WorkerPaths, translate_command

POSIX = WorkerPaths({"system": "posix", "basedir": "/home/bb/w1",
                     "environ": {"HOME": "/home/bb"}})
WINDOWS = WorkerPaths({"system": "nt", "basedir": "C:\\bb\\w1",
                       "environ": {"USERPROFILE": "C:\\Users\\bb"}})
B1 = PurePosixPath("/home/bb/w1/b1")
WB1 = PureWindowsPath("C:\\bb\\w1\\b1")


def tr(name: str, args: dict[str, Any], paths: WorkerPaths = POSIX) -> tuple[str, dict[str, Any]]:
    return translate_command(name, args, WB1 if paths is WINDOWS else B1, paths)


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("mkdir", {"dir": "build"}, ("mkdir", {"paths": ["/home/bb/w1/b1/build"]})),
    ("rmdir", {"dir": ["a", "b"], "timeout": 120},
     ("rmdir", {"paths": ["/home/bb/w1/b1/a", "/home/bb/w1/b1/b"], "timeout": 120})),
    ("cpdir", {"fromdir": "build", "todir": "copy", "logEnviron": False},
     ("cpdir", {"from_path": "/home/bb/w1/b1/build", "to_path": "/home/bb/w1/b1/copy",
                "logEnviron": False})),
    ("stat", {"file": "f.txt", "workdir": "build"},
     ("stat", {"path": "/home/bb/w1/b1/build/f.txt"})),
    ("stat", {"file": "f.txt"}, ("stat", {"path": "/home/bb/w1/b1/f.txt"})),
    ("glob", {"path": "build/**/*.o"}, ("glob", {"path": "/home/bb/w1/b1/build/**/*.o"})),
    ("listdir", {"dir": "build"}, ("listdir", {"path": "/home/bb/w1/b1/build"})),
    ("rmfile", {"path": "~/junk"}, ("rmfile", {"path": "/home/bb/junk"})),
    ("rmfile", {"path": "build/x"}, ("rmfile", {"path": "/home/bb/w1/b1/build/x"})),
    ("shell", {"workdir": "build", "command": ["echo", ("obfuscated", "s3cret", "XXX")],
               "want_stdout": 1, "want_stderr": 0},
     ("shell", {"workdir": "/home/bb/w1/b1/build", "command": ["echo", "s3cret"],
                "want_stdout": True, "want_stderr": False})),
    ("uploadFile", {"workdir": "build", "workersrc": "out.txt", "writer": object(),
                    "blocksize": 8, "maxsize": None, "keepstamp": True},
     ("upload_file", {"path": "/home/bb/w1/b1/build/out.txt", "blocksize": 8,
                      "maxsize": None, "keepstamp": True})),
    ("uploadDirectory", {"workdir": "build", "workersrc": "/abs/d", "writer": object(),
                         "blocksize": 8, "maxsize": None, "compress": "gz"},
     ("upload_directory", {"path": "/abs/d", "blocksize": 8, "maxsize": None,
                           "compress": "gz"})),
    ("downloadFile", {"workdir": "build", "workerdest": "~/in.txt", "reader": object(),
                      "blocksize": 8, "maxsize": None, "mode": 0o644},
     ("download_file", {"path": "/home/bb/in.txt", "blocksize": 8, "maxsize": None,
                        "mode": 0o644})),
])
def test_posix_translation(name: str, args: dict[str, Any],
                           expected: tuple[str, dict[str, Any]]) -> None:
    original = dict(args)
    assert tr(name, args) == expected
    assert args == original  # the step's dict is left alone


def test_windows_paths_and_home() -> None:
    assert tr("downloadFile", {"workdir": "build", "workerdest": "~\\x.txt", "reader": None,
                               "blocksize": 8, "maxsize": None, "mode": None}, WINDOWS) == (
        "download_file", {"path": "C:\\Users\\bb\\x.txt", "blocksize": 8, "maxsize": None,
                          "mode": None})
    assert tr("mkdir", {"dir": "build/sub"}, WINDOWS) == (
        "mkdir", {"paths": ["C:\\bb\\w1\\b1\\build\\sub"]})


def test_expanduser_leaves_what_it_cannot_know() -> None:
    assert POSIX.expanduser("~other/x") == "~other/x"
    assert POSIX.expanduser("a/~") == "a/~"
    assert WorkerPaths({"environ": {}}).expanduser("~/x") == "~/x"
    assert WorkerPaths({"environ": {"HOME": "/"}}).expanduser("~/x") == "/x"
    assert WorkerPaths({"system": "nt", "environ": {"HOMEDRIVE": "D:", "HOMEPATH": "\\u"}}
                       ).expanduser("~") == "D:\\u"


def test_msgpack_updates_become_pb_updates() -> None:
    args = [
        ["header", ["sh -c x\n in dir /w\n", [8, 18], [1.0, 1.0]]],
        ["stdout", ["hello\n", [5], [1.5]]],
        ["log", ["mylog", ["l1\nl2\n", [2, 5], [2.0, 2.0]]]],
        ["rc", 0],
        ["stat", [33188, 1, 2, 1, 0, 0, 8, 3, 4, 5]],
        ["files", ["a", "b"]],
        ["elapsed", 0.01],
    ]
    assert updates_to_pb(args) == [
        [{"header": "sh -c x\n in dir /w\n"}, 0],
        [{"stdout": "hello\n"}, 0],
        [{"log": ("mylog", "l1\nl2\n")}, 0],
        [{"rc": 0}, 0],
        [{"stat": (33188, 1, 2, 1, 0, 0, 8, 3, 4, 5)}, 0],
        [{"files": ["a", "b"]}, 0],
        [{"elapsed": 0.01}, 0],
    ]
