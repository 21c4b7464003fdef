"""The `gitlab` dialect: push, tag_push, merge_request and note events; `X-Gitlab-Token`
checked against the `secret` option (constant-time)."""

from __future__ import annotations

import hmac
import re
from typing import Any

from twisted.web import server

from buildbot.util import bytes2unicode
from buildbot.www.hooks.base import BaseHookHandler
from buildbot.www.hooks.util import json_body, parse_date


def _author(commit: dict[str, Any]) -> str:
    return f"{commit['author']['name']} <{commit['author']['email']}>"


def _mr_properties(mr: dict[str, Any], event: str) -> dict[str, Any]:
    """The build properties of a merge request event (4.3's names): four per side."""
    props: dict[str, Any] = {"event": event}
    for side in ("source", "target"):
        project = mr[side]
        props.update({f"{side}_branch": mr[f"{side}_branch"],
                      f"{side}_project_id": mr[f"{side}_project_id"],
                      f"{side}_repository": project["git_http_url"],
                      f"{side}_git_ssh_url": project["git_ssh_url"]})
    return props


class GitLabHandler(BaseHookHandler):
    """GitLab webhooks."""

    def _push_changes(self, payload: dict[str, Any], event: str,
                      codebase: str | None) -> list[dict[str, Any]]:
        m = re.match(r"^refs/(heads|tags)/(.+)$", payload["ref"])
        if m is None or payload.get("deleted"):
            return []
        changes = []
        for commit in payload["commits"]:
            if not commit.get("distinct", True):
                continue
            files: list[str] = []
            for kind in ("added", "modified", "removed"):
                files.extend(commit.get(kind, []))
            change = {
                "author": _author(commit), "files": files, "comments": commit["message"],
                "revision": commit["id"], "when_timestamp": parse_date(commit["timestamp"]),
                "branch": m.group(2), "revlink": commit["url"],
                "repository": payload["repository"]["url"],
                "project": payload["repository"]["name"], "category": event,
                "properties": {"event": event},
            }
            if codebase is not None:
                change["codebase"] = codebase
            changes.append(change)
        return changes

    def _mr_change(self, mr: dict[str, Any], event: str, codebase: str | None,
                   extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        commit = mr["last_commit"]
        change = {
            "author": _author(commit), "files": [],
            "comments": f"MR#{mr['iid']}: {mr['title']}\n\n{mr['description']}",
            "revision": commit["id"], "when_timestamp": parse_date(commit["timestamp"]),
            "branch": mr["target_branch"], "repository": mr["target"]["git_http_url"],
            "project": mr["target"]["name"], "category": event, "revlink": mr["url"],
            "properties": {**_mr_properties(mr, event), **(extra or {})},
        }
        if codebase is not None:
            change["codebase"] = codebase
        return [change]

    def _merge_request(self, payload: dict[str, Any], event: str,
                       codebase: str | None) -> list[dict[str, Any]]:
        attrs = payload["object_attributes"]
        if re.match("^(closed|merged|approved)$", attrs["state"]):
            return []
        action = attrs.get("action")
        if action not in ("open", "reopen") and not (action == "update" and "oldrev" in attrs):
            return []
        return self._mr_change(attrs, event, codebase)

    def _note(self, payload: dict[str, Any], event: str,
              codebase: str | None) -> list[dict[str, Any]]:
        if "merge_request" not in payload:
            return []
        return self._mr_change(payload["merge_request"], event, codebase,
                               {"comments": payload["object_attributes"]["note"]})

    async def getChanges(self, request: server.Request) -> tuple[list[dict[str, Any]], str]:
        expected = self.options.get("secret") if isinstance(self.options, dict) else None
        if expected:
            received = bytes2unicode(request.getHeader(b"X-Gitlab-Token")) or ""
            value = await self.render_secret(expected) or ""
            if not hmac.compare_digest(received.encode(), str(value).encode()):
                raise ValueError("Invalid secret")
        try:
            payload = json_body(request)
        except ValueError as e:
            raise ValueError(f"Error loading JSON: {e}") from e
        if not isinstance(payload, dict):
            raise ValueError("Error loading JSON: payload is not an object")  # noqa: TRY004
        event = payload.get("object_kind", bytes2unicode(request.getHeader(b"X-Gitlab-Event")))
        args: dict[bytes, list[bytes]] = request.args or {}
        codebase = bytes2unicode(args[b"codebase"][0]) if args.get(b"codebase") else None
        if event in ("push", "tag_push", "Push Hook"):
            changes = self._push_changes(payload, event, codebase)
        elif event == "merge_request":
            changes = self._merge_request(payload, event, codebase)
        elif event == "note":
            changes = self._note(payload, event, codebase)
        else:
            changes = []
        return changes, "git"


gitlab = GitLabHandler
