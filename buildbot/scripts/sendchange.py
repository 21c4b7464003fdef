"""`buildbot sendchange`: send one Change to a master's PBChangeSource over PB."""

from __future__ import annotations

import getpass
import sys
import traceback
from typing import Any

from twisted.python import usage

from buildbot.scripts import base

#: Version-control names accepted by --vc (the Change's `src`).
VC_NAMES = ("cvs", "svn", "darcs", "hg", "bzr", "git", "mtn", "p4")


class SendChangeOptions(base.SubcommandOptions):
    """Options of `buildbot sendchange`."""

    synopsis = "Usage:    buildbot sendchange [options] filenames.."
    optParameters = [
        ["master", "m", None, "Address of the master's PBChangeSource, as host:port"],
        ["auth", "a", "change:changepw",
         "PB credentials as user:password; with no ':', the password is asked for"],
        ["who", "W", None, "Author of the change"],
        ["repository", "R", "", "Repository of the change"],
        ["vc", "s", None, "Version control system: " + ", ".join(VC_NAMES)],
        ["project", "P", "", "Project of the change"],
        ["branch", "b", None, "Branch of the change"],
        ["category", "C", None, "Category of the change"],
        ["codebase", None, None, "Codebase of the change"],
        ["revision", "r", None, "Revision of the change"],
        ["revision_file", None, None, "Read the revision from this file"],
        ["property", "p", None, "A property of the change, as name:value (repeatable)"],
        ["comments", "c", None, "Commit message"],
        ["logfile", "F", None, "Read the commit message from this file ('-': stdin)"],
        ["when", "w", None, "Time of the change, in seconds since the epoch"],
        ["revlink", "l", "", "Link to a web page showing the revision"],
        ["encoding", "e", "utf8", "Encoding of byte-string values"],
    ]
    options_file_names = (("master", "master"), ("who", "who"), ("branch", "branch"),
                          ("category", "category"), ("vc", "vc"))
    required_options = ("who", "master")

    def __init__(self) -> None:
        super().__init__()
        self["properties"] = {}

    def opt_property(self, prop: str) -> None:
        """A property of the change, as name:value (repeatable)"""
        name, sep, value = prop.partition(":")
        if not sep:
            raise usage.UsageError(f"property must have the form name:value, not {prop!r}")
        self["properties"][name] = value

    def parseArgs(self, *files: str) -> None:
        self["files"] = files

    def postOptions(self) -> None:
        super().postOptions()
        revision_file = self.get("revision_file")
        if revision_file:
            self["revision"] = _file_text(revision_file)
        self["when"] = _parse_when(self.get("when"))
        self["comments"] = self._commit_message()
        self["auth"] = _credentials(self["auth"])
        if self.get("vc") and self["vc"] not in VC_NAMES:
            raise usage.UsageError(f"vc must be one of {', '.join(VC_NAMES)}")
        base.validate_master_option(self["master"])

    def _commit_message(self) -> str:
        # --comments wins over --logfile ("-": standard input); none at all is ""
        given = self.get("comments")
        logfile = self.get("logfile")
        if given or not logfile:
            return given or ""
        return sys.stdin.read() if logfile == "-" else _file_text(logfile)


def _file_text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _parse_when(value: Any) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as e:
        raise usage.UsageError(f"invalid 'when' value {value}") from e


def _credentials(auth: str) -> tuple[str, ...]:
    """(user, password) from "user:password"; the password is asked for when missing."""
    if ":" not in auth:
        auth += ":" + getpass.getpass(f"Enter password for '{auth}': ")
    return tuple(auth.split(":", 1))


def change_dict(config: dict[str, Any]) -> dict[str, Any]:
    """The Change as PBChangeSource's `addChange` expects it (byte strings decoded)."""
    encoding = config.get("encoding") or "utf8"

    def text(value: Any) -> Any:
        return value.decode(encoding, "replace") if isinstance(value, bytes) else value

    change: dict[str, Any] = {
        "project": config.get("project", ""),
        "repository": config.get("repository", ""),
        "who": config.get("who"),
        "files": [text(f) for f in config.get("files", ())],
        "comments": config.get("comments"),
        "branch": config.get("branch"),
        "revision": config.get("revision"),
        "category": config.get("category"),
        "when": config.get("when"),
        "properties": config.get("properties", {}),
        "revlink": config.get("revlink", ""),
        "src": config.get("vc"),
    }
    if config.get("codebase"):
        change["codebase"] = config["codebase"]
    return {k: (v if k == "files" else text(v)) for k, v in change.items()}


async def pb_call(master: str, username: str, password: str, method: str, *args: Any) -> Any:
    """Log in to a PB service at `master` (host:port), call `method`, disconnect."""
    from twisted.cred import credentials
    from twisted.spread import pb

    host, port = base.validate_master_option(master)
    factory: Any = pb.PBClientFactory()  # unannotated Twisted
    base.get_reactor().connectTCP(host, port, factory)
    try:
        remote = await factory.login(
            credentials.UsernamePassword(username.encode(), password.encode()))
        return await remote.callRemote(method, *args)
    finally:
        factory.disconnect()


async def sendchange_async(config: dict[str, Any]) -> int:
    """Send the change; returns the exit status."""
    username, password = config["auth"]
    try:
        await pb_call(config["master"], username, password, "addChange", change_dict(config))
    except Exception:
        print("change not sent:")
        traceback.print_exc(file=sys.stdout)
        return 1
    print("change sent successfully")
    return 0


def sendchange(config: dict[str, Any]) -> int:
    """Entry point of `buildbot sendchange`."""
    return base.run_in_reactor(lambda: sendchange_async(config))
