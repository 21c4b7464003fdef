"""Helpers on the users known to the master (change authors, web logins).

They take the master, as in the reference, and reach its database through it.
"""

from __future__ import annotations

import binascii
import hashlib
import os
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot.util.deferred import ensure_deferred, maybe_await

log = Logger()

# Bytes of random salt in a stored password (hex-encoded: twice as many characters).
salt_len = 8
# Version control systems whose authors become users.
srcs = ["git", "svn", "hg", "cvs", "darcs", "bzr", "fossil"]


def createUserObject(master: Any, author: str, src: str | None = None) -> defer.Deferred[Any]:
    """The uid of the user for `author` in `src`, created if new (None for other sources)."""
    if not src:
        log.info("No vcs information found, unable to create User Object")
        return defer.succeed(None)
    if src not in srcs:
        log.info("Unrecognized source argument: {src}", src=src)
        return defer.succeed(None)
    log.info("checking for User Object from {src} change for: {author}", src=src, author=author)
    return ensure_deferred(maybe_await(master.db.users.findUserByAttr(
        identifier=author, attr_type=src, attr_data=author)))


def getUserContact(master: Any, contact_types: list[str], uid: int) -> defer.Deferred[Any]:
    """The first of `contact_types` (e.g. ["email", "irc"]) the user has, else None."""
    async def find() -> Any:
        user = await maybe_await(master.db.users.getUser(uid))
        if user is None:
            return None
        attributes = user.attributes if hasattr(user, "attributes") else user
        for kind in contact_types:
            if attributes and kind in attributes:
                return attributes[kind]
        return None
    return ensure_deferred(find())


def _salted(passwd: str | bytes, salt: bytes) -> str:
    raw = passwd.encode("utf-8") if isinstance(passwd, str) else passwd
    return salt.decode("ascii") + hashlib.sha1(raw + salt).hexdigest()


def encrypt(passwd: str | bytes) -> str:
    """A password as the users table stores it: hex salt then sha1(password + salt)."""
    return _salted(passwd, binascii.hexlify(os.urandom(salt_len)))


def check_passwd(guess: str | bytes, passwd: str) -> bool:
    """True if `guess` matches the stored `passwd` (made by `encrypt`)."""
    salt = passwd[:salt_len * 2].encode("ascii")
    return _salted(guess, salt) == passwd
