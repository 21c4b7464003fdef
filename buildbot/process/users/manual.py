"""`CommandlineUserManager`: the PB endpoint `buildbot user` talks to.

The client logs in with the manager's username/password on its port and calls
`commandline(op, bb_username, bb_password, ids, info)`; the answer is the text the client
prints (its wording is the 4.3 surface: scripts parse it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from twisted.logger import Logger
from twisted.spread import pb

from buildbot import config
from buildbot.util.deferred import as_deferred
from buildbot.util.service import BuildbotService

log = Logger()


@dataclass
class _Report:
    """What one `commandline` call did, in the order the client prints it."""

    op: str
    lines: list[str] = field(default_factory=list)

    def text(self) -> str:
        heading = {"add": "added", "remove": "removed", "update": "updated", "get": "found"}
        return f"user(s) {heading[self.op]}:\n" + "".join(self.lines)


def _describe_user(user: Any) -> str:
    text = f"uid: {user.uid}\nidentifier: {user.identifier}\nbb_username: {user.bb_username}\n"
    if user.attributes:
        text += "attributes:\n"
        text += "".join(f"\t{k}: {v}\n" for k, v in user.attributes.items()) + "\n"
    return text


class CommandlineUserManagerPerspective(pb.Avatar):
    """One logged-in `buildbot user` client."""

    def __init__(self, master: Any) -> None:
        self.master = master

    def attached(self, mind: Any) -> Any:
        return self

    def detached(self, mind: Any) -> None:
        pass

    @as_deferred  # PB answers with the Deferred's result
    async def perspective_commandline(self, op: str, bb_username: str | None,
                                      bb_password: str | None, ids: list[str] | None,
                                      info: list[dict[str, str]] | None) -> str:
        """Run `op` on the users named by `ids` (remove, get) or described by `info`
        (add, update) and return the report the client prints."""
        log.info("perspective_commandline called")
        report = _Report(op)
        if ids:
            for identifier in ids:
                await self._by_identifier(op, identifier, report)
        else:
            for user in info or []:
                await self._by_info(op, dict(user), bb_username, bb_password, report)
        return report.text()

    async def _by_identifier(self, op: str, identifier: str, report: _Report) -> None:
        users = self.master.db.users
        uid = await users.identifierToUid(identifier=identifier)
        if not uid:
            log.info("Unable to find uid for identifier {identifier}", identifier=identifier)
            if op == "get":
                report.lines.append("no match found\n")
            return
        if op == "remove":
            await users.removeUser(uid)
            report.lines.append(f"identifier: {identifier}\n")
        elif op == "get":
            found = await users.getUser(uid)
            report.lines.append(_describe_user(found) if found else "no match found\n")

    async def _by_info(self, op: str, user: dict[str, str], bb_username: str | None,
                       bb_password: str | None, report: _Report) -> None:
        users = self.master.db.users
        identifier = user.pop("identifier")
        uid = await users.identifierToUid(identifier=identifier)
        if not user:
            # only an identifier: set the web credentials of an existing user
            if uid:
                await users.updateUser(uid=uid, identifier=identifier, bb_username=bb_username,
                                       bb_password=bb_password)
                report.lines.append(f"identifier: {identifier}\n")
            else:
                log.info("Unable to find uid for identifier {identifier}", identifier=identifier)
            return
        created = False
        for attr_type, attr_data in user.items():
            report.lines.append(f"identifier: {identifier}\n")
            if op == "add" and not created:
                # the first attribute creates the user (or finds the one that has it)
                uid = await users.findUserByAttr(identifier=identifier, attr_type=attr_type,
                                                 attr_data=attr_data)
                created = True
                report.lines.append(f"uid: {uid}\n\n")
            elif uid:
                await users.updateUser(uid=uid, identifier=identifier, bb_username=bb_username,
                                       bb_password=bb_password, attr_type=attr_type,
                                       attr_data=attr_data)
            else:
                log.info("Unable to find uid for identifier {identifier}", identifier=identifier)


class CommandlineUserManager(BuildbotService):
    """Accepts `buildbot user` logins (`username`/`passwd`) on the PB `port`."""

    def checkConfig(self, username: str | None = None, passwd: str | None = None,
                    port: int | str | None = None) -> None:
        if not (username and passwd):
            config.error("A username and password pair must be given to connect and use "
                         "`buildbot user`")
        if not port:
            config.error("A port must be specified for a PB connection")
        if self.name is None:
            self.name = f"CommandlineUserManager:{port}"
        self.username, self.passwd, self.port = username, passwd, port
        self.registration: Any = None

    async def reconfigService(self, username: str | None = None, passwd: str | None = None,
                              port: int | str | None = None) -> None:
        changed = (username, passwd, port) != (self.username, self.passwd, self.port)
        self.username, self.passwd, self.port = username, passwd, port
        if changed and self.registration is not None:
            await self._unregister()
            await self._register()

    async def start(self) -> None:
        await super().start()
        if self.registration is None:
            await self._register()

    async def stop(self) -> None:
        await self._unregister()
        await super().stop()

    async def _register(self) -> None:
        self.registration = await self.master.pbmanager.register(
            self.port, self.username, self.passwd, self._perspective)

    async def _unregister(self) -> None:
        registration, self.registration = self.registration, None
        if registration is not None:
            await registration.unregister()

    def _perspective(self, mind: Any, username: str) -> CommandlineUserManagerPerspective:
        return CommandlineUserManagerPerspective(self.master)
