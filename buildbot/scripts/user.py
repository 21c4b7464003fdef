"""`buildbot user`: add, remove, update or show users through a master's user manager (PB)."""

from __future__ import annotations

import binascii
import hashlib
import os
import sys
import traceback
from typing import Any

from twisted.python import usage

from buildbot.scripts import base

OPERATIONS = ("add", "remove", "update", "get")
#: Attribute types --info accepts: the version-control names users are known by, and email.
VC_ATTR_TYPES = ("git", "svn", "hg", "cvs", "darcs", "bzr", "fossil")
#: Bytes of random salt in a stored password.
SALT_BYTES = 8


class UserOptions(base.SubcommandOptions):
    """Options of `buildbot user`."""

    synopsis = "Usage:    buildbot user [options]"
    optParameters = [
        ["master", "m", None, "Address of the master's user manager, as host:port"],
        ["username", "u", None, "User name for the PB login"],
        ["passwd", "p", None, "Password for the PB login"],
        ["op", None, None, "Operation: " + ", ".join(OPERATIONS)],
        ["bb_username", None, None,
         "Web login name to set (update only; needs --bb_password too)"],
        ["bb_password", None, None,
         "Web password to set (update only; needs --bb_username too)"],
        ["ids", None, None,
         "Identifiers of the users to remove or get, comma-separated (repeatable)"],
        ["info", None, None,
         "User attributes as type=value,... (repeatable; update: --info=id:type=value,...)"],
    ]
    options_file_names = (("master", "master"), ("user_master", "master"),
                          ("user_username", "username"), ("user_passwd", "passwd"))
    required_options = ("master",)
    longdesc = ("Attribute types for --info: email and the version-control names "
                + ", ".join(VC_ATTR_TYPES) + ".")

    def __init__(self) -> None:
        super().__init__()
        self["ids"] = []
        self["info"] = []

    def opt_ids(self, option: str) -> None:
        """Identifiers of the users to remove or get, comma-separated (repeatable)"""
        self["ids"].extend(option.split(","))

    def opt_info(self, option: str) -> None:
        """User attributes as type=value,... (repeatable; update: --info=id:type=value,...)"""
        items = option.split(",")
        user: dict[str, str] = {}
        if len(items) == 1 and "=" not in items[0]:
            user["identifier"] = items[0]
        else:
            for item in items:
                key, sep, value = item.partition("=")
                if not sep:
                    raise usage.UsageError(f"--info items must be type=value, not {item!r}")
                if ":" in key:
                    user["identifier"], key = key.split(":", 1)
                user[key] = value
        self["info"].append(user)

    def postOptions(self) -> None:
        super().postOptions()
        base.validate_master_option(self["master"])
        op = self.get("op")
        if not op:
            raise usage.UsageError("you must specify an operation: add, remove, update, get")
        if op not in OPERATIONS:
            raise usage.UsageError(f"bad op {op!r}, use 'add', 'remove', 'update', or 'get'")
        if not self.get("username") or not self.get("passwd"):
            raise usage.UsageError("A username and password must be given")
        bb_username, bb_password = self.get("bb_username"), self.get("bb_password")
        if bb_username or bb_password:
            if op != "update":
                raise usage.UsageError("bb_username and bb_password only work with update")
            if not bb_username or not bb_password:
                raise usage.UsageError("Must specify both bb_username and bb_password or neither.")
        info, ids = self["info"], self["ids"]
        if not info and not ids:
            raise usage.UsageError("must specify either --ids or --info")
        if op in ("add", "update"):
            if ids:
                raise usage.UsageError("cannot use --ids with 'add' or 'update'")
            valid = {"identifier", "email", *VC_ATTR_TYPES}
            for user in info:
                for attr_type in user:
                    if attr_type not in valid:
                        raise usage.UsageError(
                            "Type not a valid attr_type, must be in: " + ", ".join(sorted(valid)))
            if op == "update" and any("identifier" not in user for user in info):
                raise usage.UsageError(
                    "no ids found in update info; use: --info=id:type=value,type=value,..")
            if op == "add" and any("identifier" in user for user in info):
                raise usage.UsageError(
                    "identifier found in add info, use: --info=type=value,type=value,..")
        if op in ("remove", "get") and info:
            raise usage.UsageError("cannot use --info with 'remove' or 'get'")


def encrypt_password(password: str) -> str:
    """A password as the users table stores it: hex salt followed by sha1(password + salt)."""
    salt = binascii.hexlify(os.urandom(SALT_BYTES))
    return salt.decode() + hashlib.sha1(password.encode() + salt).hexdigest()


async def user_async(config: dict[str, Any]) -> int:
    """Send the operation to the master and print its answer; returns the exit status."""
    from buildbot.scripts.sendchange import pb_call

    op = config["op"]
    bb_username, bb_password = config.get("bb_username"), config.get("bb_password")
    if bb_password:
        bb_password = encrypt_password(bb_password)
    info = config.get("info") or []
    if op == "add":
        for user in info:
            # a new user is identified by the smallest of its attribute values
            user["identifier"] = min(user.values())
    try:
        output = await pb_call(config["master"], config["username"], config["passwd"],
                               "commandline", op, bb_username, bb_password,
                               config.get("ids") or [], info)
    except Exception:
        print("user command failed:")
        traceback.print_exc(file=sys.stdout)
        return 1
    if output:
        print(output)
    return 0


def user(config: dict[str, Any]) -> int:
    """Entry point of `buildbot user`."""
    return base.run_in_reactor(lambda: user_async(config))
