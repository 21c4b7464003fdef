"""`GenericLatentMachine`: a latent machine woken and put to sleep by two actions, and the
actions of 4.3: run a local command (`LocalWakeAction`, `LocalWOLAction`), run a command
over ssh (`RemoteSshWakeAction`, `RemoteSshWOLAction`, `RemoteSshSuspendAction`), or make
an HTTP request (`HttpAction`). Arguments of the actions may be secrets (`util.Secret`):
they are rendered through the machine when the action runs.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from twisted.logger import Logger
from zope.interface import implementer

from buildbot import config
from buildbot.interfaces import IMachineAction
from buildbot.machine.latent import AbstractLatentMachine
from buildbot.util import misc, private_tempdir, runprocess
from buildbot.util.git import getSshArgsForKeys, getSshKnownHostsContents
from buildbot.util.httpclientservice import HTTPSession

log = Logger()


class GenericLatentMachine(AbstractLatentMachine):
    """`GenericLatentMachine(name, start_action, stop_action, build_wait_timeout=0,
    missing_timeout=1200)`."""

    def __init__(self, name: str, start_action: Any, stop_action: Any,
                 **kwargs: Any) -> None:
        super().__init__(name, start_action=start_action, stop_action=stop_action, **kwargs)

    def checkConfig(self, name: str, start_action: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    stop_action: Any = None, **kwargs: Any) -> None:
        super().checkConfig(name, **kwargs)
        for action, arg in ((start_action, "start_action"), (stop_action, "stop_action")):
            if not IMachineAction.providedBy(action):
                # 4.3 raises this (not a config error)
                raise RuntimeError(f"{arg} of {self.name} does not implement required "
                                   "interface")

    async def reconfigService(self, name: str, start_action: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              stop_action: Any = None, **kwargs: Any) -> None:
        await super().reconfigService(name, **kwargs)
        self.start_action = start_action
        self.stop_action = stop_action

    def start_machine(self) -> Any:
        return self.start_action.perform(self)

    def stop_machine(self) -> Any:
        return self.stop_action.perform(self)


async def runProcessLogFailures(reactor: Any, args: list[str], expectedCode: int = 0
                                ) -> bool:
    """Run `args`; False (with the output in the master's log) unless it exits with
    `expectedCode`."""
    code, stdout, stderr = await runprocess.run_process(reactor, args)
    if code == expectedCode:
        return True
    log.error("Got unexpected return code when running {args}: code: {code}, stdout: "
              "{stdout}, stderr: {stderr}", args=args, code=code, stdout=stdout,
              stderr=stderr)
    return False


class _LocalMachineActionMixin:
    """Actions running a command on the master's host (`setupLocal(command)`)."""

    def setupLocal(self, command: list[Any]) -> None:
        if not isinstance(command, list):
            config.error("command parameter must be a list")
        self._command = command

    async def perform(self, manager: Any) -> bool:
        argv = await manager.renderSecrets(self._command)
        return await runProcessLogFailures(manager.master.reactor, argv)


@implementer(IMachineAction)
class LocalWakeAction(_LocalMachineActionMixin):
    """Runs `command` (a list) on the master's host."""

    def __init__(self, command: list[Any]) -> None:
        self.setupLocal(command)


class LocalWOLAction(LocalWakeAction):
    """Sends a Wake-on-LAN packet to `wakeMac` with `wolBin` from the master's host."""

    def __init__(self, wakeMac: str, wolBin: str = "wakeonlan") -> None:
        super().__init__([wolBin, wakeMac])


class _SshActionMixin:
    """Runs `remoteCommand` on `host` through `sshBin`; `sshKey` (private key text) and
    `sshHostKey` (the host's public key) go to temporary files under the master's
    basedir while it runs."""

    def setupSsh(self, sshBin: Any, host: Any, remoteCommand: Any, sshKey: Any = None,
                 sshHostKey: Any = None) -> None:
        for value, arg, kind in ((sshBin, "sshBin", str), (host, "host", str),
                                 (remoteCommand, "remoteCommand", list)):
            if not isinstance(value, kind):
                config.error(f"{arg} parameter must be a "
                             f"{'string' if kind is str else 'list'}")
        self._sshBin = sshBin
        self._host = host
        self._remoteCommand = remoteCommand
        self._sshKey = sshKey
        self._sshHostKey = sshHostKey

    async def perform(self, manager: Any) -> bool:
        if self._sshKey is None and self._sshHostKey is None:
            return await self._run(manager, None, None)
        with private_tempdir.PrivateTemporaryDirectory(prefix="ssh-",
                                                       dir=manager.master.basedir) as tmp:
            key_path = hosts_path = None
            if self._sshKey is not None:
                key_path = os.path.join(tmp, "ssh-key")
                misc.writeLocalFile(key_path, await manager.renderSecrets(self._sshKey),
                                    mode=stat.S_IRUSR)
            if self._sshHostKey is not None:
                hosts_path = os.path.join(tmp, "ssh-known-hosts")
                host_key = await manager.renderSecrets(self._sshHostKey)
                misc.writeLocalFile(hosts_path, getSshKnownHostsContents(host_key))
            return await self._run(manager, key_path, hosts_path)

    async def _run(self, manager: Any, key_path: str | None, hosts_path: str | None
                   ) -> bool:
        argv = [self._sshBin, *getSshArgsForKeys(key_path, hosts_path),
                await manager.renderSecrets(self._host),
                *await manager.renderSecrets(self._remoteCommand)]
        return await runProcessLogFailures(manager.master.reactor, argv)


@implementer(IMachineAction)
class RemoteSshWakeAction(_SshActionMixin):
    """`RemoteSshWakeAction(host, remoteCommand, sshBin="ssh", sshKey=None,
    sshHostKey=None)`."""

    def __init__(self, host: Any, remoteCommand: Any, sshBin: Any = "ssh",
                 sshKey: Any = None, sshHostKey: Any = None) -> None:
        self.setupSsh(sshBin, host, remoteCommand, sshKey=sshKey, sshHostKey=sshHostKey)


class RemoteSshWOLAction(RemoteSshWakeAction):
    """Wake-on-LAN sent from `host` (reachable while the machine sleeps)."""

    def __init__(self, host: Any, wakeMac: str, wolBin: str = "wakeonlan",
                 sshBin: str = "ssh", sshKey: Any = None, sshHostKey: Any = None) -> None:
        super().__init__(host, [wolBin, wakeMac], sshBin=sshBin, sshKey=sshKey,
                         sshHostKey=sshHostKey)


@implementer(IMachineAction)
class RemoteSshSuspendAction(_SshActionMixin):
    """Suspends the machine over ssh (`systemctl suspend` unless told otherwise)."""

    def __init__(self, host: Any, remoteCommand: Any = None, sshBin: str = "ssh",
                 sshKey: Any = None, sshHostKey: Any = None) -> None:
        self.setupSsh(sshBin, host, remoteCommand if remoteCommand is not None
                      else ["systemctl", "suspend"], sshKey=sshKey, sshHostKey=sshHostKey)


@implementer(IMachineAction)
class HttpAction:
    """Makes an HTTP request (`method`: get, put, delete or post) to `url`; the other
    arguments are those of the request (rendered for secrets when it is made)."""

    _FIELDS = ("url", "method", "params", "data", "json", "headers", "cookies", "files",
               "auth", "timeout", "allow_redirects", "proxies")

    def __init__(self, url: Any, method: Any, params: Any = None, data: Any = None,
                 json: Any = None, headers: Any = None, cookies: Any = None,
                 files: Any = None, auth: Any = None, timeout: Any = None,
                 allow_redirects: Any = None, proxies: Any = None) -> None:
        values = locals()
        for field in self._FIELDS:
            setattr(self, field, values[field])

    async def perform(self, manager: Any) -> bool:
        rendered = dict(zip(self._FIELDS, await manager.renderSecrets(
            tuple(getattr(self, f) for f in self._FIELDS)), strict=True))
        url, method = rendered.pop("url"), rendered.pop("method")
        if method not in ("get", "put", "delete", "post"):
            config.error(f"Invalid method {method}")
        session = HTTPSession(manager.master.httpservice, base_url=url)
        # treq takes the request arguments it knows; unset ones are left out
        kwargs = {k: v for k, v in rendered.items()
                  if v is not None and k not in ("files", "proxies")}
        await getattr(session, method)("", **kwargs)
        return True
