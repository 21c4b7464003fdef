"""Work out what `buildbot try` should build: the base revision of a working copy and the
patch of its local changes, for each supported version-control system."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


class TryError(Exception):
    """A problem `buildbot try` reports to the user (exit status 1)."""


@dataclass
class SourceStamp:
    """What a try build starts from: a base revision plus a patch `(patchlevel, diff)`."""

    branch: str | None
    revision: str | None
    patch: tuple[int, bytes | None]
    repository: str | None = ""


class WorkingCopy:
    """A working copy at `treetop`, inspected with the VC tool `exe`."""

    def __init__(self, exe: str, treetop: str) -> None:
        found = shutil.which(exe)
        if not found:
            raise TryError(f"Could not find executable '{exe}'.")
        self.exe = found
        self.treetop = treetop

    async def run(self, *args: str) -> tuple[bytes, bytes, int]:
        """Run the tool in the working copy: (stdout, stderr, exit code), C locale."""
        from twisted.internet import utils

        env = dict(os.environ, LC_ALL="C")
        result: Any = utils.getProcessOutputAndValue  # unannotated Twisted
        out, err, code = await result(self.exe, args, env=env, path=self.treetop)
        return out, err, code

    async def output(self, *args: str) -> bytes:
        """Standard output of the tool; the exit code is ignored (several VC tools exit 1
        from `diff` when there are differences)."""
        return (await self.run(*args))[0]

    async def checked_output(self, *args: str) -> bytes:
        """Standard output of the tool; a non-zero exit is a TryError quoting stderr."""
        out, err, code = await self.run(*args)
        if code:
            detail = err.decode("utf-8", "replace").rstrip()
            raise TryError(f"{os.path.basename(self.exe)} {' '.join(args)} returned {code}"
                           + (f"\n{detail}" if detail else ""))
        return out


def _patch(level: int, diff: bytes) -> tuple[int, bytes | None]:
    return level, (diff or None)


async def _cvs(wc: WorkingCopy, branch: str | None, repository: str | None) -> SourceStamp:
    if branch is not None:
        # `cvs diff` cannot combine a branch (-r) with a date (-D)
        raise TryError("Sorry, CVS 'try' builds don't work with branches")
    # relies on the local clock roughly agreeing with the repository's
    baserev = time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime())
    diff = await wc.output("-q", "diff", "-u", "-D", baserev)
    return SourceStamp(branch, baserev, _patch(0, diff), repository)


async def _svn(wc: WorkingCopy, branch: str | None, repository: str | None) -> SourceStamp:
    status = await wc.output("status", "-u")
    m = re.search(rb"^Status against revision:\s+(\d+)", status, re.MULTILINE)
    if not m:
        raise TryError("Could not find 'Status against revision' in SVN output: "
                       + status.decode("utf-8", "replace"))
    baserev = m.group(1).decode()
    # the repository's latest revision is the base: files needing an update get a reverse
    # diff, which still yields the local tree
    diff = await wc.output("diff", f"-r{baserev}")
    return SourceStamp(branch, baserev, _patch(0, diff), repository)


async def _bzr(wc: WorkingCopy, branch: str | None, repository: str | None) -> SourceStamp:
    info = (await wc.output("revision-info", "-rsubmit:")).split()
    if len(info) != 2:
        raise TryError(f"unexpected output of 'bzr revision-info': {info!r}")
    baserev = "revid:" + info[1].decode()
    diff = await wc.output("diff", f"-r{baserev}..")
    return SourceStamp(branch, baserev, _patch(0, diff), repository)


async def _hg(wc: WorkingCopy, branch: str | None, repository: str | None) -> SourceStamp:
    upstream = f"r'{repository}'" if repository else ""
    out, _, code = await wc.run("log", "--template", "{node}\\n",
                                "-r", f"max(::. - outgoing({upstream}))")
    if code:
        if upstream:
            raise TryError(f"hg could not find the outgoing changes to {repository}")
        # without a default path, outgoing() fails: use the working directory's parent
        out = await wc.checked_output("log", "--template", "{node}\\n", "-r", "p1()")
    m = re.match(rb"(\w+)", out)
    if not m:
        raise TryError(f"Revision {out!r} is not in the right format")
    baserev = m.group(1).decode()
    diff = await wc.output("diff", "-r", baserev)
    return SourceStamp(branch, baserev, _patch(1, diff), repository)


def p4_patch(diff: bytes, branch: str) -> bytes:
    """Turn `p4 diff` output into a patch(1)-style diff of the files under //depot/<branch>."""
    header = re.compile(r"==== //depot/" + re.escape(branch) + r"/([\w/.\-]+)#(\d+) -")
    out: list[str] = []
    found = False
    for line in diff.decode("utf-8", "replace").split("\n"):
        m = header.search(line)
        if m:
            out += [f"--- {m.group(1)}#{m.group(2)}", f"+++ {m.group(1)}"]
            found = True
        else:
            out.append(line)
    if not found:
        raise TryError("could not parse patch file")
    return ("\n".join(out) + "\n").encode()


async def _p4(wc: WorkingCopy, branch: str | None, repository: str | None) -> SourceStamp:
    changes = await wc.output("changes", "-m1", "...")
    m = re.search(rb"Change (\d+)", changes)
    if not m:
        raise TryError("Could not find change number in output: "
                       + changes.decode("utf-8", "replace"))
    if not branch:
        raise TryError("you must specify a branch")
    diff = await wc.output("diff")
    return SourceStamp(branch, m.group(1).decode(), (0, p4_patch(diff, branch)), repository)


async def _darcs(wc: WorkingCopy, branch: str | None, repository: str | None) -> SourceStamp:
    context = await wc.output("changes", "--context")  # the whole context is the base
    diff = await wc.output("diff", "-u")
    return SourceStamp(branch, context.decode("utf-8", "replace"), _patch(1, diff), repository)


def parse_git_config(text: bytes) -> dict[str, str]:
    """`git config -l` output as a dict (a key without '=' is a boolean 'true')."""
    config: dict[str, str] = {}
    for line in text.decode("utf-8", "replace").splitlines():
        if line.strip():
            key, sep, value = line.strip().partition("=")
            config[key] = value if sep else "true"
    return config


async def _git(wc: WorkingCopy, branch: str | None, repository: str | None) -> SourceStamp:
    if branch:
        baserev = (await wc.checked_output("rev-parse", branch)).decode().strip()
        if "/" in branch:
            # a remote-tracking name such as origin/main: the master knows it as main
            for remote_name in (await wc.output("remote")).decode().split():
                if branch.startswith(remote_name + "/"):
                    branch = branch[len(remote_name) + 1:]
                    break
    else:
        listing = await wc.output("branch", "--no-color", "-v", "--no-abbrev")
        m = re.search(rb"^\* (\S+)\s+([0-9a-f]{40})", listing, re.MULTILINE)
        if not m:
            raise TryError("Could not find current GIT branch: "
                           + listing.decode("utf-8", "replace"))
        branch = m.group(1).decode()
        config = parse_git_config(await wc.output("config", "-l"))
        remote = config.get(f"branch.{branch}.remote")
        merge = config.get(f"branch.{branch}.merge")
        # the tracked upstream branch is the base when there is one
        base_ref = f"{remote}/{merge.split('/', 2)[-1]}" if remote and merge else "master"
        baserev = (await wc.output("rev-parse", base_ref)).decode().strip()
    diff = await wc.output("diff", "--src-prefix=a/", "--dst-prefix=b/", "--no-textconv",
                           "--no-ext-diff", baserev)
    return SourceStamp(branch, baserev, _patch(1, diff), repository)


async def _mtn(wc: WorkingCopy, branch: str | None, repository: str | None) -> SourceStamp:
    baserev = (await wc.output("automate", "get_base_revision_id")).decode().strip()
    diff = await wc.output("diff")
    return SourceStamp(branch, baserev or None, _patch(0, diff), repository)


Extractor = Callable[[WorkingCopy, "str | None", "str | None"], Awaitable[SourceStamp]]

#: vc name -> (executable, extractor)
EXTRACTORS: dict[str, tuple[str, Extractor]] = {
    "cvs": ("cvs", _cvs), "svn": ("svn", _svn), "bzr": ("bzr", _bzr), "hg": ("hg", _hg),
    "p4": ("p4", _p4), "darcs": ("darcs", _darcs), "git": ("git", _git), "mtn": ("mtn", _mtn),
}


async def get_source_stamp(vc: str | None, treetop: str, branch: str | None = None,
                           repository: str | None = None) -> SourceStamp:
    """The source stamp of the working copy at `treetop` (repository defaults to it)."""
    if vc == "none":
        return SourceStamp("", "", (1, b""), "")
    if vc not in EXTRACTORS:
        raise TryError(f"unknown vctype '{vc}'")
    exe, extract = EXTRACTORS[vc]
    ss = await extract(WorkingCopy(exe, treetop), branch, repository)
    if not ss.repository:
        ss.repository = treetop
    return ss


def find_topdir(topfile: str, start: str | None = None) -> str:
    """The nearest directory, from `start` (cwd) upwards, that holds `topfile`."""
    start = start or os.getcwd()
    here = start
    for _ in range(20):
        if os.path.exists(os.path.join(here, topfile)):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    raise TryError(f"Unable to find topfile '{topfile}' anywhere from {start} upwards")
