"""A temporary directory only its owner can read (mode 0700 by default)."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from types import TracebackType


class PrivateTemporaryDirectory:
    """Context manager: creates the directory with `mode`, removes it (even read-only
    entries) on exit; `name` is its path."""

    def __init__(self, suffix: str | None = None, prefix: str | None = None,
                 dir: str | None = None, mode: int = 0o700) -> None:
        self.name = tempfile.mkdtemp(suffix, prefix, dir)
        os.chmod(self.name, mode)
        self._cleanup_done = False

    def __enter__(self) -> str:
        return self.name

    def __exit__(self, exc: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        if self._cleanup_done:
            return

        def make_writable(func: object, path: str, _exc: object) -> None:
            os.chmod(path, stat.S_IWRITE | stat.S_IREAD | stat.S_IEXEC)
            os.remove(path) if not os.path.isdir(path) else os.rmdir(path)

        shutil.rmtree(self.name, onerror=make_writable)
        self._cleanup_done = True
