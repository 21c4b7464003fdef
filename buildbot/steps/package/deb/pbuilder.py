"""pbuilder and cowbuilder steps: build a Debian or Ubuntu package in a clean chroot."""

from __future__ import annotations

import re
import stat
from collections.abc import Generator
from typing import Any

from twisted.logger import Logger

from buildbot.process.logobserver import LineConsumerLogObserver
from buildbot.process.remotecommand import RemoteCommand, RemoteShellCommand
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.steps.package.util import property_from_lines, take_arguments
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
        take_arguments(self, {"distribution": "You must specify a distribution."},
                       architecture=architecture, distribution=distribution, mirror=mirror,
                       othermirror="|".join(othermirror) if othermirror else None,
                       extrapackages=extrapackages, keyring=keyring, components=components,
                       basetgz=basetgz)
        self.suppressions.append((None, re.compile(r"\.pbuilderrc does not exist"), None, None))
        self.addLogObserver("stdio", LineConsumerLogObserver(self.logConsumer))

    def logConsumer(self) -> Generator[None, tuple[str, str], None]:
        """Consumer of the output's (stream, line) pairs: `deb-changes` from the name
        dpkg-genchanges writes."""
        return property_from_lines(self, r"dpkg-genchanges  >\.\./(.+\.changes)",
                                   "deb-changes", "DebPbuilder")

    def chroot_options(self) -> list[str]:
        """Options of `pbuilder --create` after the mirror, for the attributes that are set."""
        extras = " ".join(self.extrapackages) if self.extrapackages else None
        keyring = f"--keyring={self.keyring}" if self.keyring else None
        wanted = (("--othermirror", self.othermirror), ("--architecture", self.architecture),
                  ("--extrapackages", extras), ("--debootstrapopts", keyring),
                  ("--components", self.components))
        return [word for option, value in wanted if value for word in (option, value)]

    def pdebuild_command(self) -> list[str]:
        """pdebuild's own options, then (after `--`) those it passes to pbuilder."""
        own = ["--buildresult", ".", "--pbuilder", self.pbuilder]
        if self.architecture:
            own += ["--architecture", self.architecture]
        passed = ["--buildresult", ".", self.baseOption, self.basetgz]
        if self.extrapackages:
            passed += ["--extrapackages", " ".join(self.extrapackages)]
        return ["pdebuild", *own, "--", *passed]

    async def run(self) -> int:
        if self.basetgz is None:
            self.basetgz = self._default_basetgz.format(
                architecture=self.architecture or "local", distribution=self.distribution)
        chroot_ready = await self.checkBasetgz()
        if chroot_ready != SUCCESS:
            return chroot_ready
        self.command = self.pdebuild_command()
        return await super().run()

    async def _run_pbuilder(self, command: list[str]) -> int:
        cmd = RemoteShellCommand(self.workdir or self.build.workdir, command)
        cmd.useLog(await self.addLog("pbuilder"), True, "stdio")
        await self.runCommand(cmd)
        if cmd.rc == 0:
            return SUCCESS
        log.info("Failure when running {cmd}.", cmd=cmd)
        return FAILURE

    async def _stat_chroot(self) -> tuple[int, float] | None:
        """(mode, mtime) of `basetgz` on the worker; None when it does not exist."""
        cmd = RemoteCommand("stat", {"file": self.basetgz})
        await self.runCommand(cmd)
        if cmd.rc != 0:
            return None
        st = cmd.updates["stat"][-1]
        return st[stat.ST_MODE], st[stat.ST_MTIME]

    async def checkBasetgz(self) -> int:
        """Create the chroot when missing, update it when older than `maxAge`."""
        found = await self._stat_chroot()
        # a tarball for pbuilder, a directory for cowbuilder; anything else is a mistake
        if found is not None and not (stat.S_ISREG(found[0]) or stat.S_ISDIR(found[0])):
            log.info("{path} is not a file or a directory.", path=self.basetgz)
            return FAILURE
        if found is None:
            log.info("basetgz not found, initializing it.")
            self.description = ["PBuilder", "create."]
            self.updateSummary()
            return await self._run_pbuilder(
                ["sudo", self.pbuilder, "--create", self.baseOption, self.basetgz,
                 "--distribution", self.distribution, "--mirror", self.mirror,
                 *self.chroot_options()])
        age = self.master.reactor.seconds() - found[1]
        if age < self.maxAge:
            return SUCCESS
        log.info("basetgz outdated, updating")
        return await self._run_pbuilder(
            ["sudo", self.pbuilder, "--update", self.baseOption, self.basetgz])


class DebCowbuilder(DebPbuilder):
    """As DebPbuilder with cowbuilder (a chroot directory instead of a tarball)."""

    name = "cowbuilder"
    _default_basetgz = "/var/cache/pbuilder/{distribution}-{architecture}-buildbot.cow/"
    pbuilder = "/usr/sbin/cowbuilder"
    baseOption = "--basepath"


class _UbuntuDefaults:
    """Ubuntu's archive and components, and no default distribution (Ubuntu has no
    "stable"), put before the Debian step in the bases."""

    distribution: Any = None
    mirror: Any = "http://archive.ubuntu.com/ubuntu/"
    components: Any = "main universe"


class UbuPbuilder(_UbuntuDefaults, DebPbuilder):
    """DebPbuilder for Ubuntu."""


class UbuCowbuilder(_UbuntuDefaults, DebCowbuilder):
    """DebCowbuilder for Ubuntu."""


__all__ = ["DebCowbuilder", "DebPbuilder", "UbuCowbuilder", "UbuPbuilder"]
