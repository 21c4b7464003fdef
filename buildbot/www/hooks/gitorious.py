"""The `gitorious` dialect (form field `payload`); deleted refs are ignored."""

from __future__ import annotations

import json
import re
from typing import Any

from twisted.web import server

from buildbot.util import bytes2unicode
from buildbot.www.hooks.base import BaseHookHandler
from buildbot.www.hooks.util import parse_date


class GitoriousHandler(BaseHookHandler):
    """One change per pushed commit."""

    def getChanges(self, request: server.Request) -> tuple[list[dict[str, Any]], str]:
        args: dict[bytes, list[bytes]] = request.args or {}
        raw = args.get(b"payload", [b"{}"])[0]
        try:
            payload = json.loads(bytes2unicode(raw))
        except ValueError as e:
            raise ValueError(f"Error loading JSON: {e}") from e
        if re.match(r"^0*$", payload["after"]):
            return [], "git"
        repo_url = payload["repository"]["url"]
        project = payload["project"]["name"]
        changes = [{
            "author": f"{c['author']['name']} <{c['author']['email']}>",
            "files": [], "comments": c["message"], "revision": c["id"],
            "when_timestamp": parse_date(c["timestamp"]), "branch": payload["ref"],
            "revlink": c["url"], "repository": repo_url, "project": project,
        } for c in payload["commits"]]
        return changes, "git"


gitorious = GitoriousHandler
