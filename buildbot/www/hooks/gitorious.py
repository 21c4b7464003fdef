"""The `gitorious` dialect (form field `payload`); deleted refs are ignored."""

from __future__ import annotations

import json
from typing import Any

from twisted.logger import Logger
from twisted.web import server

from buildbot.util import bytes2unicode
from buildbot.www.hooks.base import BaseHookHandler
from buildbot.www.hooks.util import parse_date

log = Logger()


class GitoriousHandler(BaseHookHandler):
    """One change per pushed commit."""

    def getChanges(self, request: server.Request) -> tuple[list[dict[str, Any]], str]:
        args: dict[bytes, list[bytes]] = request.args or {}
        try:
            payload = json.loads(bytes2unicode(args.get(b"payload", [b"{}"])[0]))
        except ValueError as e:
            raise ValueError(f"Error loading JSON: {e}") from e
        repository = payload["repository"]
        return self.process_change(payload, repository["owner"]["name"], repository["name"],
                                   repository["url"], payload["project"]["name"]), "git"

    def process_change(self, payload: dict[str, Any], user: str, repo: str, repo_url: str,
                       project: str) -> list[dict[str, Any]]:
        """One change per commit of the push in `payload`; none for a deleted ref (`after`
        all zeros). `user` and `repo` (the repository's owner and name) are not used."""
        if not payload["after"].strip("0"):
            log.info("gitorious: ref {ref} deleted, nothing to build", ref=payload["ref"])
            return []
        return [{"author": f"{c['author']['name']} <{c['author']['email']}>", "files": [],
                 "comments": c["message"], "revision": c["id"],
                 "when_timestamp": parse_date(c["timestamp"]), "branch": payload["ref"],
                 "revlink": c["url"], "repository": repo_url, "project": project}
                for c in payload["commits"]]


gitorious = GitoriousHandler
