"""Helpers for running git with SSH credentials: the ssh command line, a wrapper script,
the known_hosts line for a host key, and scp-like addresses as URLs.

The step and service mix-ins of the reference's module (`GitMixin`, `GitStepMixin`,
`GitServiceAuth`, `GitStepAuth`, `AbstractGitAuth`) are its internals: our Git steps and
pollers carry their own (see docs/differences.md).
"""

from __future__ import annotations

import re

from buildbot.util.internal import internal_class, internal_function

RC_SUCCESS = 0

_WHY = "the Git steps and GitPoller of this master do this internally"
AbstractGitAuth = internal_class(__name__, "AbstractGitAuth", _WHY)
GitServiceAuth = internal_class(__name__, "GitServiceAuth", _WHY)
GitStepAuth = internal_class(__name__, "GitStepAuth", _WHY)
GitMixin = internal_class(__name__, "GitMixin", _WHY)
GitStepMixin = internal_class(__name__, "GitStepMixin", _WHY)
check_ssh_config = internal_function(
    __name__, "check_ssh_config", "the Git steps check their SSH arguments themselves")

_SHELL_SAFE = re.compile(r"^[A-Za-z0-9_]+$")


def getSshKnownHostsContents(hostKey: str) -> str:
    """A known_hosts line accepting `hostKey` for any host."""
    return f"* {hostKey}"


def ensureSshKeyNewline(privateKey: str) -> str:
    """OpenSSH rejects a key file without a final newline: add one if missing."""
    return privateKey if privateKey.endswith("\n") else privateKey + "\n"


def escapeShellArgIfNeeded(arg: str) -> str:
    """`arg` unchanged if it is a plain word, else in double quotes."""
    return arg if _SHELL_SAFE.match(arg) else f'"{arg}"'


def getSshArgsForKeys(keyPath: str | None, knownHostsPath: str | None) -> list[str]:
    """ssh options: batch mode, the identity file and the known_hosts file when given."""
    optional = (("-i", keyPath), ("-o", None if knownHostsPath is None
                                      else f"UserKnownHostsFile={knownHostsPath}"))
    return ["-o", "BatchMode=yes", *(x for flag, value in optional if value is not None
                                     for x in (flag, value))]


def getSshCommand(keyPath: str | None, knownHostsPath: str | None) -> str:
    """`ssh` with those options, as one shell string (for GIT_SSH_COMMAND)."""
    args = getSshArgsForKeys(keyPath, knownHostsPath)
    return " ".join(["ssh", *(a if a.startswith("-") else f'"{a}"' for a in args)])


def getSshWrapperScriptContents(keyPath: str | None, knownHostsPath: str | None = None) -> str:
    """A shell script running ssh with those options (for GIT_SSH on old gits)."""
    return f'#!/bin/sh\n{getSshCommand(keyPath, knownHostsPath)} "$@"\n'


def scp_style_to_url_syntax(address: str, port: int | None = 22, scheme: str = "ssh") -> str:
    """`user@host:path` → `ssh://user@host:22/path`; URLs and local paths are unchanged."""
    if "://" in address or ":" not in address:
        return address
    host, _, path = address.partition(":")
    return f"{scheme}://{host}:{port}/{path}"
