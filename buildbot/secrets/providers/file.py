"""SecretInAFile: one file per secret in a directory."""

from __future__ import annotations

import os
import stat
from typing import Any

from buildbot import config
from buildbot.util.service import BuildbotService


class SecretInAFile(BuildbotService):
    """Secrets read from `<dirname>/<name><suffix>` (trailing newlines stripped)."""

    name = "SecretInAFile"

    def checkConfig(self, dirname: str, suffixes: list[str] | None = None,
                    strip: bool = True) -> None:
        if not os.path.isdir(dirname):
            config.error(f"directory {dirname} does not exists")
            return
        for entry in os.scandir(dirname):
            if entry.is_file() and entry.stat().st_mode & (stat.S_IRWXO):
                config.error(f"Permissions {oct(entry.stat().st_mode & 0o777)} on file "
                             f"{entry.name} are too open. It is required that your secret "
                             f"files are NOT accessible by others!")

    def reconfigService(self, dirname: str, suffixes: list[str] | None = None,
                        strip: bool = True) -> Any:
        self._dirname = dirname
        self._suffixes = suffixes or [""]
        self._strip = strip
        self._secrets = self._load()
        return None

    def _load(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if not os.path.isdir(self._dirname):
            return found
        for entry in os.scandir(self._dirname):
            if not entry.is_file():
                continue
            for suffix in self._suffixes:
                if entry.name.endswith(suffix):
                    key = entry.name[: len(entry.name) - len(suffix)] if suffix else entry.name
                    with open(entry.path, encoding="utf-8") as f:
                        value = f.read()
                    found[key] = value.rstrip("\r\n") if self._strip else value
        return found

    def get(self, entry: str) -> str | None:
        return self._secrets.get(entry)
