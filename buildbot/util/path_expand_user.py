"""Expand a leading `~` in a path on the worker, using the worker's environment, not ours.

Only the worker's own home (`~`, `~/...`) is expanded; `~user` forms are left as they are.
"""

from __future__ import annotations

import os
import pwd


def posix_expanduser(path: str, worker_environ: dict[str, str]) -> str:
    """`~` → `$HOME` of the worker (the master user's home when the worker sent none)."""
    if not path.startswith("~"):
        return path
    end = path.find("/", 1)
    end = len(path) if end < 0 else end
    if end != 1:
        return path  # ~user: not ours to resolve
    home = worker_environ.get("HOME")
    if home is None:
        home = pwd.getpwuid(os.getuid()).pw_dir
    return (home.rstrip("/") + path[end:]) or "/"


def nt_expanduser(path: str, worker_environ: dict[str, str]) -> str:
    """`~` → `%USERPROFILE%` (or `%HOMEDRIVE%%HOMEPATH%`) of a Windows worker."""
    if not path.startswith("~"):
        return path
    end = 1
    while end < len(path) and path[end] not in "/\\":
        end += 1
    if end != 1:
        return path
    if "USERPROFILE" in worker_environ:
        home = worker_environ["USERPROFILE"]
    elif "HOMEPATH" in worker_environ:
        home = worker_environ.get("HOMEDRIVE", "") + worker_environ["HOMEPATH"]
    else:
        return path
    return home + path[end:]
