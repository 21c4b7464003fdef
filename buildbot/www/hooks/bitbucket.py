"""The `bitbucket` dialect: the legacy Bitbucket POST service (form field `payload`)."""

from __future__ import annotations

import json
from typing import Any

from twisted.web import server

from buildbot.util import bytes2unicode
from buildbot.www.hooks.base import BaseHookHandler
from buildbot.www.hooks.util import parse_date


class BitBucketHandler(BaseHookHandler):
    """One change per pushed commit."""

    def getChanges(self, request: server.Request) -> tuple[list[dict[str, Any]], str]:
        args: dict[bytes, list[bytes]] = request.args or {}
        if b"payload" not in args:
            raise ValueError("missing payload form field")
        try:
            payload = json.loads(bytes2unicode(args[b"payload"][0]))
        except ValueError as e:
            raise ValueError(f"Error loading JSON: {e}") from e
        event = bytes2unicode(request.getHeader(b"X-Event-Key"))
        repo_url = f"{payload['canon_url']}{payload['repository']['absolute_url']}"
        project = bytes2unicode(args.get(b"project", [b""])[0])
        changes = [{
            "author": commit["raw_author"],
            "files": [f["file"] for f in commit["files"]],
            "comments": commit["message"],
            "revision": commit["raw_node"],
            "when_timestamp": parse_date(commit["utctimestamp"].replace(" ", "T", 1)
                                         if "T" not in commit["utctimestamp"]
                                         else commit["utctimestamp"]),
            "branch": commit["branch"],
            "revlink": f"{repo_url}commits/{commit['raw_node']}",
            "repository": repo_url,
            "project": project,
            "properties": {"event": event},
        } for commit in payload["commits"]]
        return changes, payload["repository"]["scm"]


bitbucket = BitBucketHandler
