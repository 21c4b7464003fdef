"""Who may run which chat command: `authz` tables of IRC/Telegram bots evaluated as 4.3
does (own entry, "*", then "!" for dangerous commands or "" for the others), recorded from
4.3's Contact.getCommandMethod and StatusBot.isValidUser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from buildbot.reporters.words import Channel, Contact, StatusBot

CASES = json.loads((Path(__file__).parent / "reference_chat_acl.json").read_text())


def authz_of(rows: list[Any] | None) -> dict[Any, Any] | None:
    if rows is None:
        return None
    return {tuple(k) if isinstance(k, list) else k: v for k, v in rows}


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_command_permissions_follow_the_reference(case: dict[str, Any]) -> None:
    bot = StatusBot(authz=authz_of(case["authz"]))
    channel = Channel(bot, "#chan")
    allowed = {}
    for user, commands in case["allowed"].items():
        contact = Contact(user, channel)
        allowed[user] = {cmd: contact.getCommandMethod(cmd.lower())
                         not in (None, contact.access_denied) for cmd in commands}
    assert allowed == case["allowed"]
    assert {user: bot.isValidUser(user) for user in case["valid"]} == case["valid"]
