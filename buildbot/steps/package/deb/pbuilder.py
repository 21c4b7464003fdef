"""pbuilder and cowbuilder steps: build a Debian or Ubuntu package in a clean chroot."""

from __future__ import annotations

import re
import stat
from typing import Any

from twisted.logger import Logger

from buildbot import config
from buildbot.process.remotecommand import RemoteCommand, RemoteShellCommand
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.steps.package.util import PropertyFromLine
from buildbot.steps.shell import WarningCountingShellCommand

log = Logger()


class DebPbuilder(WarningCountingShellCommand):
    """`pdebuild` in a pbuilder chroot of `distribution`/`architecture`.

    The chroot (`basetgz`, default /var/cache/pbuilder/<dist>-<arch>-buildbot.tgz) is created
    with `sudo pbuilder --create` when missing and updated when older than `maxAge` seconds;
    those commands log to "pbuilder". Sets `deb-changes` from dpkg-genchanges' output.
    """

    name = "pbuilder"
    haltOnFailure = True
    flunkOnFailure = True
    description: Any = ("building",)
    descriptionDone: Any = ("built",)
    warningPattern: Any = r".*(warning[: ]|\sW: ).*"

    architecture: Any = None
    distribution: Any = "stable"
    basetgz: Any = None
    _default_basetgz = "/var/cache/pbuilder/{distribution}-{architecture}-buildbot.tgz"
    mirror: Any = "http://cdn.debian.net/debian/"
    othermirror: Any = ""
    extrapackages: Any = ()
    keyring: Any = None
    components: Any = None
    maxAge = 60 * 60 * 24 * 7
    pbuilder = "/usr/sbin/pbuilder"
    baseOption = "--basetgz"

    renderables = ("architecture", "distribution", "basetgz", "mirror", "othermirror",
                   "extrapackages", "keyring", "components")

    def __init__(self, architecture: Any = None, distribution: Any = None, basetgz: Any = None,
                 mirror: Any = None, othermirror: Any = None, extrapackages: Any = None,
                 keyring: Any = None, components: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        given = {"architecture": architecture, "distribution": distribution, "mirror": mirror,
                 "extrapackages": extrapackages, "keyring": keyring,
                 "components": components, "basetgz": basetgz}
        for attr, value in given.items():
            if value:
                setattr(self, attr, value)
        if othermirror:
            self.othermirror = "|".join(othermirror)
        if not self.distribution:
            config.error("You must specify a distribution.")
        self.suppressions.append((None, re.compile(r"\.pbuilderrc does not exist"), None, None))
        self.addLogObserver("stdio", PropertyFromLine(r"dpkg-genchanges  >\.\./(.+\.changes)",
                                                      "deb-changes", "DebPbuilder"))

    def chroot_options(self) -> list[str]:
        """Options of `pbuilder --create` after the mirror."""
        opts: list[str] = []
        if self.othermirror:
            opts += ["--othermirror", self.othermirror]
        if self.architecture:
            opts += ["--architecture", self.architecture]
        if self.extrapackages:
            opts += ["--extrapackages", " ".join(self.extrapackages)]
        if self.keyring:
            opts += ["--debootstrapopts", f"--keyring={self.keyring}"]
        if self.components:
            opts += ["--components", self.components]
        return opts

    async def run(self) -> int:
        if self.basetgz is None:
            self.basetgz = self._default_basetgz.format(
                architecture=self.architecture or "local", distribution=self.distribution)
        self.command = ["pdebuild", "--buildresult", ".", "--pbuilder", self.pbuilder]
        if self.architecture:
            self.command += ["--architecture", self.architecture]
        self.command += ["--", "--buildresult", ".", self.baseOption, self.basetgz]
        if self.extrapackages:
            self.command += ["--extrapackages", " ".join(self.extrapackages)]
        res = await self.checkBasetgz()
        if res != SUCCESS:
            return res
        return await super().run()

    async def _run_pbuilder(self, command: list[str]) -> int:
        cmd = RemoteShellCommand(self.workdir or self.build.workdir, command)
        cmd.useLog(await self.addLog("pbuilder"), True, "stdio")
        await self.runCommand(cmd)
        if cmd.rc != 0:
            log.info("Failure when running {cmd}.", cmd=cmd)
            return FAILURE
        return SUCCESS

    async def checkBasetgz(self) -> int:
        """Create the chroot when missing, update it when too old."""
        cmd = RemoteCommand("stat", {"file": self.basetgz})
        await self.runCommand(cmd)
        if cmd.rc != 0:
            log.info("basetgz not found, initializing it.")
            self.description = ["PBuilder", "create."]
            self.updateSummary()
            return await self._run_pbuilder(
                ["sudo", self.pbuilder, "--create", self.baseOption, self.basetgz,
                 "--distribution", self.distribution, "--mirror", self.mirror,
                 *self.chroot_options()])
        st = cmd.updates["stat"][-1]
        # a tarball for pbuilder, a directory for cowbuilder
        if not (stat.S_ISREG(st[stat.ST_MODE]) or stat.S_ISDIR(st[stat.ST_MODE])):
            log.info("{path} is not a file or a directory.", path=self.basetgz)
            return FAILURE
        if self.master.reactor.seconds() - st[stat.ST_MTIME] >= self.maxAge:
            log.info("basetgz outdated, updating")
            return await self._run_pbuilder(
                ["sudo", self.pbuilder, "--update", self.baseOption, self.basetgz])
        return SUCCESS

class DebCowbuilder(DebPbuilder):
    """As DebPbuilder with cowbuilder (a chroot directory instead of a tarball)."""

    name = "cowbuilder"
    _default_basetgz = "/var/cache/pbuilder/{distribution}-{architecture}-buildbot.cow/"
    pbuilder = "/usr/sbin/cowbuilder"
    baseOption = "--basepath"


class UbuPbuilder(DebPbuilder):
    """DebPbuilder for Ubuntu: no default distribution, the Ubuntu mirror and components."""

    distribution = None
    mirror = "http://archive.ubuntu.com/ubuntu/"
    components = "main universe"


class UbuCowbuilder(DebCowbuilder):
    """DebCowbuilder for Ubuntu."""

    distribution = None
    mirror = "http://archive.ubuntu.com/ubuntu/"
    components = "main universe"


__all__ = ["DebCowbuilder", "DebPbuilder", "UbuCowbuilder", "UbuPbuilder"]
