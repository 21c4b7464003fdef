"""Record what Buildbot 4.3's helpers return for the inputs of `test_reference_helpers.py`.

    /work/refvenv/bin/python tests/util/record_reference_helpers.py > tests/util/reference_helpers.json

Run from anywhere but the project root (there `import buildbot` would find our package).
Values are made JSON-safe by `encode` (bytes, tuples, sets, datetimes, exceptions).
"""

from __future__ import annotations

import datetime
import json
import sys
from typing import Any

CASES: dict[str, list[list[Any]]] = {
    "naturalSort": [[["a10", "a2", "b1", "a1b"]], [["x", "x10", "x9", "10", "9"]], [[]],
                    [["a1.10", "a1.9", "a01", "a1", "B2", "b1", "1a", "a", "", "a0", "a00"]]],
    "flatten": [[[1, [2, [3]], (4, 5)]], [3], ["ab"], [[[]]], [[1, (2, [3])], (list, tuple)]],
    "flattened_iterator": [[[1, [2, (3, [4])]], (list, tuple)], [[1, [2, (3,)]]]],
    "makeList": [[None], ["ab"], [["a", "b"]], [("a",)], [[]], [{"a": 1}]],
    "formatInterval": [[0], [5], [60], [61], [3599], [3600], [3601], [3660], [3661], [86400],
                       [90061], [3600.5], [61.5]],
    "human_readable_delta": [[0, 0], [0, 0.5], [0, 1], [0, 61], [0, 3600], [0, 3661],
                             [0, 86400], [0, 90061], [10, 200000.5]],
    "safeTranslate": [["abc"], ["a b/c:d"], ["héllo"], ["a.b-c_d"], [b"x y"],
                      ["with~tilde@and+plus"], ["\t!#$%&'()*+,./:;<=>?@[\\]^{|}~"]],
    "string2boolean": [[b"true"], [b"TRUE"], [b"yes"], [b"on"], [b"1"], [b"false"], [b"no"],
                       [b"off"], [b"0"], [b"maybe"]],
    "stripUrlPassword": [["http://user:pass@host/path"], ["https://host/p"],
                         ["http://user@host:80/"], ["git@github.com:a/b.git"],
                         ["ssh://u:p@h:22/x"], ["http://:p@h/x"], ["weird"]],
    "command_to_string": [[["echo", "hi"]], ["echo hi"], [["a b", "c"]], [["x"] * 40],
                          [[["a", "b"], "c"]], [["a", "'q'"]], [None], [[1, 2]], [[]], [""],
                          [("a", "b")], [[b"x", "y"]], [5], [["a", None, "b"]]],
    "join_list": [[["a", "b"]], ["ab"], [None], [("a", "b")], [[b"a", "b"]], [5]],
    "none_or_str": [[None], [1], ["x"], [b"y"]],
    "rewrap": [["abc\n  def\n\nxyz"], ["a " * 50, 20], ["", 5], ["  a\n  b\n"], ["a\n\n\nb"],
               ["para one\n\n  indented\n  more\nback to para\nmore\n", 6], [" x "]],
    "dictionary_merge": [[{"a": 1, "b": {"c": 2}}, {"b": {"d": 3}, "e": 4}],
                         [{"a": [1]}, {"a": [2]}], [{"a": {"x": 1}}, {"a": 5}]],
    "diffSets": [[[1, 2, 3], [2, 3, 4]], [[], [1]], [{1, 2}, {2}]],
    "toJson": [[datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)], [5]],
    "giturlparse": [[u] for u in (
        "git@github.com:buildbot/buildbot.git", "https://github.com/buildbot/buildbot.git",
        "https://github.com/buildbot/buildbot", "ssh://git@github.com:22/buildbot/buildbot.git",
        "https://user:pw@gitlab.example.com:8443/group/sub/proj.git", "git://example.com/a/b",
        "http://host/repo", "ssh://host/~user/repo.git", "git@host.com:22/owner/repo.git",
        "https://host/owner/repo/", "file:///tmp/x.git", "gitlab.example.com:owner/repo",
        "https://github.com/o/r.git/", "github.com/o/r", "https://host:80/r.git",
        "user@host:r.git", "git+ssh://git@host/o/r.git", "ssh://git@host:2222/o/r",
        "https://host/a/b/c/d.git", "http://u@host/o/r", "https://host/o/r.git?x",
        "git@host:/abs/o/r.git", "https://host", "ftp://host/o/r", "HTTPS://host/o/r",
        "https://host/o/r.gitx", "git@host:o/r.git.git", "https://u:@host/o/r",
        "https://u:p:q@host/o/r", "u:p@host:o/r", "host", "host:", ":o/r", "ssh://u@host:/o/r",
        "git@github.com:owner/repo-name.with.dots.git", "https://gitlab.com/a/b/-/tree/main")],
    "git.getSshKnownHostsContents": [["ssh-rsa AAA"]],
    "git.ensureSshKeyNewline": [["k"], ["k\n"]],
    "git.escapeShellArgIfNeeded": [["abc"], ["a b"], ["it's"], [""], ["$x"], ["a/b-c_d.e"]],
    "git.getSshArgsForKeys": [["/k", None], ["/k", "/kh"], [None, "/kh"]],
    "git.getSshCommand": [["/k", None], ["/k", "/kh"]],
    "git.getSshWrapperScriptContents": [["/k", "/kh"], ["/k"]],
    "git.scp_style_to_url_syntax": [["git@github.com:o/r.git"], ["git@github.com:o/r.git", 2222],
                                    ["host:o/r", None, "git+ssh"], ["https://h/o/r"],
                                    ["ssh://h/x"], ["/local/path"]],
    "path_expand_user.posix_expanduser": [["~/x", {"HOME": "/h"}], ["~", {"HOME": "/h/"}],
                                          ["~user/x", {"HOME": "/home/me"}], ["a/~", {"HOME": "/h"}],
                                          ["~", {"HOME": ""}]],
    "path_expand_user.nt_expanduser": [["~\\x", {"USERPROFILE": "C:\\U"}],
                                       ["~", {"HOMEPATH": "\\h", "HOMEDRIVE": "D:"}],
                                       ["~", {"HOME": "C:\\H"}],
                                       ["~u\\x", {"USERPROFILE": "C:\\Users\\me"}], ["~", {}],
                                       ["x", {}]],
    "sautils.hash_columns": [["a", None, 1], [], ["x"]],
    "tuplematch.matchTuple": [[("a", "b", "c"), ("a", None, "c")], [("a", "b"), ("a", None, "c")],
                              [("a", "b"), ("a", "x")], [(), ()]],
    "lineboundaries": [[["ab", "c\nde\r\nf\rg\n"]], [["x\r", "\ny"]], [["a\r", "b"]],
                       [["\x1b[2Jq\n"]], [["a\x08\x08b\n", "tail"]], [["", "\n", "\n\n"]],
                       [["y" * 5000]], [["z" * 4100 + "\nq"]], [["a\r\r\n"]]],
    "fuzzyInterval": [[s] for s in (0, 1, 2, 20, 21, 25, 26, 54, 55, 89, 90, 150, 151, 1170,
                                    1529, 1530, 2070, 2071, 3270, 3271, 5369, 5406, 84569,
                                    84570, 149369, 149370, 235769, 235770, 900000)],
}


def encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"bytes": value.decode("latin1")}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"set": sorted(encode(v) for v in value)}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, datetime.datetime):
        return {"datetime": value.isoformat()}
    if hasattr(value, "__next__"):
        return {"iterator": [encode(v) for v in value]}
    return value


def call(name: str, args: list[Any]) -> Any:
    from buildbot import util
    from buildbot.util import giturlparse, lineboundaries
    if name == "lineboundaries":
        finder = lineboundaries.LineBoundaryFinder()
        return [finder.append(chunk) for chunk in args[0]] + [finder.flush()]
    if name == "giturlparse":
        parsed = giturlparse.giturlparse(args[0])
        return None if parsed is None else list(parsed)
    if "." in name:
        import importlib
        modname, fn = name.rsplit(".", 1)
        return getattr(importlib.import_module(f"buildbot.util.{modname}"), fn)(*args)
    fn = getattr(util, name)
    if name in ("dictionary_merge",):
        return fn(*[json.loads(json.dumps(a)) for a in args])
    return fn(*args)


def record() -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for name, rows in CASES.items():
        for args in rows:
            try:
                result = encode(call(name, args))
            except Exception as e:  # noqa: BLE001 - the exception type is the answer
                result = {"raises": type(e).__name__}
            out.setdefault(name, []).append(result)
    return out


if __name__ == "__main__":
    json.dump(record(), sys.stdout, indent=1, ensure_ascii=False, sort_keys=True)
    sys.stdout.write("\n")
