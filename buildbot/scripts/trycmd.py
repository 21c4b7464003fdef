"""`buildbot try`: ask a master's try scheduler to build the local, uncommitted changes."""

from __future__ import annotations

from typing import Any

from twisted.python import usage

from buildbot.scripts import base

VC_NAMES = ("bzr", "cvs", "darcs", "git", "hg", "mtn", "p4", "svn")


class TryOptions(base.SubcommandOptions):
    """Options of `buildbot try`."""

    synopsis = "Usage:    buildbot try [options]"
    optParameters = [
        ["connect", "c", None, "How to reach the master: 'ssh' (Try_Jobdir) or 'pb' (Try_Userpass)"],
        ["host", None, None, "Host of the master (ssh)"],
        ["port", None, None, "ssh port of the master's host (ssh)"],
        ["jobdir", None, None, "Job directory of the Try_Jobdir scheduler on the master (ssh)"],
        ["ssh", None, None, "Command to run instead of 'ssh' (split like a shell would)"],
        ["username", "u", None, "User name (ssh login, or PB credentials)"],
        ["master", "m", None, "Address of the Try_Userpass scheduler, as host:port (pb)"],
        ["passwd", None, None, "Password (pb)"],
        ["who", "w", None, "Who the builds are for"],
        ["comment", "C", None, "A comment for the builds (shown in notifications)"],
        ["buildbotbin", None, "buildbot", "The buildbot command on the master's host (ssh)"],
        ["diff", None, None, "Use this patch file instead of the working copy's changes ('-': stdin)"],
        ["patchlevel", "p", 0, "Leading path components to strip from the patch (as patch -p)"],
        ["baserev", None, None, "Base revision for --diff"],
        ["vc", None, None, "Version control system of the working copy: " + ", ".join(VC_NAMES)],
        ["branch", None, None, "Branch of the working copy, for VC systems that cannot tell"],
        ["repository", None, None, "Repository to report instead of the working copy's path"],
        ["builder", "b", None, "A builder to run (repeatable; default: the scheduler's)"],
        ["properties", None, None, "Build properties as name=value,name=value (repeatable)"],
        ["property", None, None, "One build property as name=value (repeatable)"],
        ["topfile", None, None, "A file at the top of the working copy, to find it (svn, cvs)"],
        ["topdir", None, None, "The top directory of the working copy (svn, cvs)"],
    ]
    optFlags = [
        ["wait", None, "Wait until the builds finish and report their results"],
        ["dryrun", "n", "Work out the job and show it, but do not send it"],
        ["get-builder-names", None, "List the builders the try scheduler accepts (pb only)"],
        ["quiet", "q", "Do not print the builds' progress while waiting"],
    ]
    options_file_names = (
        ("try_connect", "connect"), ("try_vc", "vc"), ("try_branch", "branch"),
        ("try_repository", "repository"), ("try_topdir", "topdir"), ("try_topfile", "topfile"),
        ("try_host", "host"), ("try_username", "username"), ("try_jobdir", "jobdir"),
        ("try_ssh", "ssh"), ("try_buildbotbin", "buildbotbin"), ("try_passwd", "passwd"),
        ("try_master", "master"), ("try_who", "who"), ("try_comment", "comment"),
        # older names
        ("try_masterstatus", "master"), ("try_dir", "jobdir"), ("try_password", "passwd"),
    )

    def __init__(self) -> None:
        super().__init__()
        self["builders"] = []
        self["properties"] = {}

    def opt_builder(self, option: str) -> None:
        """A builder to run (repeatable; default: the scheduler's)"""
        self["builders"].append(option)

    def opt_properties(self, option: str) -> None:
        """Build properties as name=value,name=value (repeatable)"""
        for item in option.split(","):
            name, sep, value = item.partition("=")
            if not sep:
                raise usage.UsageError(f"properties must have the form name=value, not {item!r}")
            self["properties"][name] = value

    def opt_property(self, option: str) -> None:
        """One build property as name=value (repeatable)"""
        name, _, value = option.partition("=")
        self["properties"][name] = value

    def opt_patchlevel(self, option: str) -> None:
        """Leading path components to strip from the patch (as patch -p)"""
        try:
            self["patchlevel"] = int(option)
        except ValueError as e:
            raise usage.UsageError(f"patchlevel must be a number, not {option!r}") from e

    def postOptions(self) -> None:
        super().postOptions()
        opts = self.options_file
        if not self["builders"]:
            self["builders"] = list(opts.get("try_builders", []))
        if opts.get("try_wait"):
            self["wait"] = True
        if opts.get("try_quiet"):
            self["quiet"] = True
        if not self["master"]:
            self["master"] = opts.get("masterstatus")
        if self["connect"] == "pb":
            if not self["master"]:
                raise usage.UsageError("master location must be specified for 'pb' connections")
            base.validate_master_option(self["master"])


def trycmd(config: dict[str, Any]) -> int:
    """Entry point of `buildbot try`."""
    from buildbot.scripts.tryclient import TryClient

    return base.run_in_reactor(lambda: TryClient(config).run())
