"""SecretInAFile: one file per secret in a directory."""

from __future__ import annotations

import os
import stat

from buildbot import config
from buildbot.secrets.providers.base import SecretProviderBase
from buildbot.util.service import BuildbotService


def _secret_names(filename: str, suffixes: list[str]) -> list[str]:
    """The secret names `filename` provides: one per suffix it ends with, suffix removed."""
    return [filename[: len(filename) - len(s)] if s else filename
            for s in suffixes if filename.endswith(s)]


class SecretInAFile(SecretProviderBase):
    """Secrets read from `<dirname>/<name><suffix>` (trailing newlines stripped unless
    `strip=False`); the files must not be readable by other users."""

    name = "SecretInAFile"  # type: ignore[assignment]  # Twisted declares None

    def checkFileIsReadOnly(self, dirname: str, secretfile: str) -> None:
        """A config error if `secretfile` grants any permission to other users."""
        mode = stat.S_IMODE(os.stat(os.path.join(dirname, secretfile)).st_mode)
        # other users' bits only mean something on POSIX (Windows fakes them)
        if os.name == "posix" and mode & stat.S_IRWXO:
            config.error(f"Permissions {oct(mode)} on file {secretfile} are too open. It is "
                         "required that your secret files are NOT accessible by others!")

    def checkSecretDirectoryIsAvailableAndReadable(self, dirname: str,
                                                   suffixes: list[str]) -> None:
        """Config errors for a missing directory and for each too-open secret file."""
        if not os.path.exists(dirname):
            config.error(f"directory {dirname} does not exists")
            return
        for filename in sorted(os.listdir(dirname)):
            if _secret_names(filename, suffixes):
                self.checkFileIsReadOnly(dirname, filename)

    def loadSecrets(self, dirname: str, suffixes: list[str], strip: bool) -> dict[str, str]:
        """Every secret of `dirname`, by name."""
        found: dict[str, str] = {}
        for filename in os.listdir(dirname):
            names = _secret_names(filename, suffixes)
            if not names:
                continue
            with open(os.path.join(dirname, filename), encoding="utf-8") as f:
                value = f.read()
            if strip:
                value = value.rstrip("\r\n")
            found.update(dict.fromkeys(names, value))
        return found

    def checkConfig(self, dirname: str, suffixes: list[str] | None = None,
                    strip: bool = True) -> None:
        self.checkSecretDirectoryIsAvailableAndReadable(dirname, suffixes or [""])

    def reconfigService(self, dirname: str, suffixes: list[str] | None = None,
                        strip: bool = True) -> None:
        self._dirname = dirname
        # (not `self.secrets` as in 4.3: that name lists the arguments to render here)
        self._loaded = self.loadSecrets(dirname, suffixes or [""], strip)

    async def reconfigServiceWithSibling(self, sibling: BuildbotService) -> None:
        # The files may have changed while the arguments did not (a rotated secret): read
        # them again on every reconfiguration (4.3 keeps the old values until a restart).
        self.configured = False
        await super().reconfigServiceWithSibling(sibling)

    def get(self, entry: str) -> str | None:
        return self._loaded.get(entry)
