"""`CommandlineUserManager`: the PB endpoint `buildbot user` talks to.

The client logs in with the manager's username/password on its port and calls
`commandline(op, bb_username, bb_password, ids, info)`; the answer is the text the client
prints (its wording is the 4.3 surface: scripts parse it).
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger
from twisted.spread import pb

from buildbot import config
from buildbot.util.deferred import as_deferred
from buildbot.util.service import BuildbotService

log = Logger()


HEADINGS = {"add": "added", "remove": "removed", "update": "updated", "get": "found"}


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

    def formatResults(self, op: str, results: list[Any]) -> str:
        """The client's report of `results`: identifiers (str), new uids (int) after them,
        users found (None: no match); empty entries of remove/update are skipped."""
        text = f"user(s) {HEADINGS[op]}:\n"
        for item in results:
            if op == "get":
                text += _describe_user(item) if item else "no match found\n"
            elif isinstance(item, str):
                text += f"identifier: {item}\n"
            elif op == "add" and item:
                text += f"uid: {item}\n\n"
        return text

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
        results: list[Any] = []
        if ids:
            for identifier in ids:
                await self._by_identifier(op, identifier, results)
        else:
            for user in info or []:
                await self._by_info(op, dict(user), bb_username, bb_password, results)
        return self.formatResults(op, results)

    async def _by_identifier(self, op: str, identifier: str, results: list[Any]) -> None:
        users = self.master.db.users
        uid = await users.identifierToUid(identifier=identifier)
        if not uid:
            log.info("Unable to find uid for identifier {identifier}", identifier=identifier)
            results.append(None)
            return
        if op == "remove":
            await users.removeUser(uid)
            results.append(identifier)
        elif op == "get":
            results.append(await users.getUser(uid))

    async def _by_info(self, op: str, user: dict[str, str], bb_username: str | None,
                       bb_password: str | None, results: list[Any]) -> None:
        users = self.master.db.users
        identifier = user.pop("identifier")
        uid = await users.identifierToUid(identifier=identifier)
        if not user:
            # only an identifier: set the web credentials of an existing user
            if uid:
                await users.updateUser(uid=uid, identifier=identifier, bb_username=bb_username,
                                       bb_password=bb_password)
                results.append(identifier)
            else:
                log.info("Unable to find uid for identifier {identifier}", identifier=identifier)
            return
        created = False
        for attr_type, attr_data in user.items():
            results.append(identifier)
            if op == "add" and not created:
                # the first attribute creates the user (or finds the one that has it)
                uid = await users.findUserByAttr(identifier=identifier, attr_type=attr_type,
                                                 attr_data=attr_data)
                created = True
                results.append(uid)
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
