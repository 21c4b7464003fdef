"""SecretInPass: secrets kept in a `pass` password store (gpg-encrypted files)."""

from __future__ import annotations

import os
import shutil
from typing import Any

from twisted.logger import Logger

from buildbot import config
from buildbot.changes.process import run_process
from buildbot.secrets.providers.base import SecretProviderBase

log = Logger()


class SecretInPass(SecretProviderBase):
    """`secrets.SecretInPass(gpgPassphrase=None, dirname=None)`: the first line that
    `pass <name>` prints (None when it fails or writes to stderr). `dirname` defaults to
    pass's own (~/.password-store); `gpgPassphrase` unlocks the key."""

    name = "SecretInPass"  # type: ignore[assignment]  # Twisted declares None

    def checkPassIsInPath(self) -> None:
        """A config error unless a `pass` executable is on the master's PATH."""
        if shutil.which("pass", path=os.environ.get("PATH", "")) is None:
            config.error("pass does not exist in PATH")

    def checkPassDirectoryIsAvailableAndReadable(self, dirname: str) -> None:
        """A config error if the password store directory `dirname` is missing."""
        if not os.path.exists(dirname):
            config.error(f"directory {dirname} does not exist")

    def checkConfig(self, gpgPassphrase: str | None = None, dirname: str | None = None) -> None:
        self.checkPassIsInPath()
        if dirname:
            self.checkPassDirectoryIsAvailableAndReadable(dirname)

    def reconfigService(self, gpgPassphrase: str | None = None,
                        dirname: str | None = None) -> Any:
        self._env = dict(os.environ)
        if gpgPassphrase:
            self._env["PASSWORD_STORE_GPG_OPTS"] = f"--passphrase {gpgPassphrase}"
        if dirname:
            self._env["PASSWORD_STORE_DIR"] = dirname
        return None

    def _reactor(self) -> Any:
        master = self.master
        if master is not None:
            return master.reactor
        from twisted.internet import reactor

        return reactor

    async def get(self, entry: str) -> str | None:
        """The secret's first line, or None."""
        try:
            code, out, err = await run_process(self._reactor(), ["pass", entry], env=self._env)
        except OSError as e:
            # `pass` could not be started (removed since the config check): as in 4.3 the
            # secret is not found here, the next provider may have it
            log.warn("SecretInPass: cannot run pass for {entry}: {err}", entry=entry, err=e)
            return None
        # like 4.3, anything on stderr (gpg complaining) counts as a failure
        if code != 0 or err or not out:
            return None
        return out.decode("utf-8", "ignore").splitlines()[0]
