"""Command arguments for msgpack workers: PB-style step arguments to absolute-path arguments.

Over PB the worker joins the paths a step sends with its builder directory; over msgpack the
master sends absolute paths and the snake_case transfer names (what buildbot-worker 4.3's msgpack side expects). The
paths follow the worker's rules (`system` in the worker info: Windows for `nt`, POSIX
otherwise) and `~` is expanded with the worker's environment.
"""

from __future__ import annotations

from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import Any

_TRANSFER_NAMES = {
    "uploadFile": "upload_file",
    "uploadDirectory": "upload_directory",
    "downloadFile": "download_file",
}


class WorkerPaths:
    """Path rules of one worker, from its info dict (`system`, `basedir`, `environ`)."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.windows = info.get("system") == "nt"
        self.path_cls: type[PurePath] = PureWindowsPath if self.windows else PurePosixPath
        self.environ: dict[str, str] = info.get("environ") or {}
        self.basedir = self.path_cls(info.get("basedir") or "")

    def expanduser(self, path: str) -> str:
        """Expand a leading `~` (alone or followed by a separator) to the worker's home."""
        if not path.startswith("~"):
            return path
        seps = "/\\" if self.windows else "/"
        if len(path) > 1 and path[1] not in seps:
            return path  # ~user: the master cannot know other users' homes
        if self.windows:
            home = self.environ.get("USERPROFILE")
            if home is None and "HOMEPATH" in self.environ:
                home = self.environ.get("HOMEDRIVE", "") + self.environ["HOMEPATH"]
        else:
            home = self.environ.get("HOME")
        if not home:
            return path
        rest = path[1:]
        return home.rstrip(seps) + rest if rest else home


def _paths(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _plain_command(command: Any) -> Any:
    # The worker only recognises obfuscated items as tuples, which msgpack cannot carry:
    # send the real text (as buildbot-worker 4.3's msgpack side expects).
    if not isinstance(command, (list, tuple)):
        return command
    return [w[1] if isinstance(w, (list, tuple)) and len(w) == 3 and w[0] == "obfuscated"
            else w for w in command]


def translate_command(name: str, args: dict[str, Any], builder_dir: PurePath,
                      paths: WorkerPaths) -> tuple[str, dict[str, Any]]:
    """The msgpack command name and arguments for a PB-style command (a new dict).

    Keys already in the msgpack form pass through; `writer`/`reader` are dropped (msgpack
    addresses them by command id).
    """
    out = {k: v for k, v in args.items() if k not in ("writer", "reader")}

    def under_builder(*parts: str) -> str:
        return str(builder_dir.joinpath(*parts))

    if name in ("mkdir", "rmdir") and "dir" in out:
        out["paths"] = [under_builder(d) for d in _paths(out.pop("dir"))]
    elif name == "cpdir" and "fromdir" in out:
        out["from_path"] = under_builder(out.pop("fromdir"))
        out["to_path"] = under_builder(out.pop("todir"))
    elif name == "stat" and "file" in out:
        out["path"] = under_builder(out.pop("workdir", "") or "", out.pop("file"))
    elif name == "glob" and "path" in out:
        out["path"] = under_builder(out["path"])
    elif name == "listdir" and "dir" in out:
        out["path"] = under_builder(out.pop("dir"))
    elif name == "rmfile" and "path" in out:
        out["path"] = under_builder(paths.expanduser(out["path"]))
    elif name == "shell":
        if "workdir" in out:
            out["workdir"] = under_builder(out["workdir"])
        if "command" in out:
            out["command"] = _plain_command(out["command"])
    elif name in ("uploadFile", "uploadDirectory") and "workersrc" in out:
        out["path"] = under_builder(out.pop("workdir", "") or "",
                                    paths.expanduser(out.pop("workersrc")))
    elif name == "downloadFile" and "workerdest" in out:
        out["path"] = under_builder(out.pop("workdir", "") or "",
                                    paths.expanduser(out.pop("workerdest")))
    for key in ("want_stdout", "want_stderr"):
        if key in out:
            out[key] = bool(out[key])
    return _TRANSFER_NAMES.get(name, name), out
