"""The `bitbucketcloud` dialect: `repo:push` and `pullrequest:*` events (`X-Event-Key`)."""

from __future__ import annotations

import json
from typing import Any

from twisted.web import server

from buildbot.util import bytes2unicode
from buildbot.www.hooks.util import PullRequestMixin, codebase_for

GIT_BRANCH_REF = "refs/heads/{}"
GIT_MERGE_REF = "refs/pull-requests/{}/merge"
GIT_TAG_REF = "refs/tags/{}"


class BitbucketCloudEventHandler(PullRequestMixin):
    """Bitbucket Cloud webhooks; `BitbucketServerEventHandler` adapts the field names."""

    property_basename = "bitbucket"
    product = "Cloud"

    def __init__(self, master: Any, options: Any = None) -> None:
        self.master = master
        self.options = options if isinstance(options, dict) else {}
        self._codebase = self.options.get("codebase")
        self.external_property_whitelist = self.options.get("bitbucket_property_whitelist") or []

    # -- field access differing between Cloud and Server -----------------------------------
    def _repo_url(self, payload: dict[str, Any]) -> str:
        return payload["repository"]["links"]["self"]["href"]  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any

    def _web_url(self, payload: dict[str, Any]) -> str:
        return payload["repository"]["links"]["html"]["href"] + "/"  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any

    def _project(self, payload: dict[str, Any]) -> str:
        return payload["repository"].get("project", {"name": "none"})["name"]  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any

    def _author(self, payload: dict[str, Any]) -> str:
        actor = payload["actor"]
        return f"{actor['display_name']} <{actor['nickname']}>"

    def _scm(self, payload: dict[str, Any]) -> str:
        return payload["repository"]["scm"]  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any

    # -- dispatch --------------------------------------------------------------------------
    def getChanges(self, request: server.Request) -> tuple[list[dict[str, Any]], str]:
        return self.process(request)

    def process(self, request: server.Request) -> tuple[list[dict[str, Any]], str]:
        """The changes of the event in `request` (by its `X-Event-Key`) and the VCS."""
        content_type = bytes2unicode(request.getHeader(b"Content-Type")) or ""
        if not content_type.startswith("application/json"):
            raise ValueError(f"Unknown content type: {content_type}")
        try:
            body = request.content.read() if request.content is not None else b""
            payload = json.loads(bytes2unicode(body))
        except ValueError as e:
            raise ValueError(f"Error loading JSON: {e}") from e
        header = request.getHeader(b"X-Event-Key")
        if header is None:
            raise ValueError("Header X-Event-Key was not present")
        event = bytes2unicode(header).replace(":", "_")
        handler = getattr(self, f"handle_{event}", None)
        if handler is None:
            raise ValueError(f"Unknown event: {event}")
        return handler(payload)  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any

    def _with_codebase(self, change: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        codebase = codebase_for(self._codebase, payload)
        if codebase is not None:
            change["codebase"] = codebase
        return change

    def handle_repo_push(self, payload: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        changes = []
        for pc in payload["push"]["changes"]:
            age, category = ("new", "push") if pc["new"] else ("old", "ref-deleted")
            ref = pc[age]
            commit_hash = ref["target"]["hash"]
            branch = None
            if ref["type"] == "branch":
                branch = GIT_BRANCH_REF.format(ref["name"])
            elif ref["type"] == "tag":
                branch = GIT_TAG_REF.format(ref["name"])
            changes.append(self._with_codebase({
                "revision": commit_hash,
                "revlink": f"{self._web_url(payload)}commits/{commit_hash}",
                "repository": self._repo_url(payload),
                "author": self._author(payload),
                "comments": f"Bitbucket {self.product} commit {commit_hash}",
                "branch": branch, "project": self._project(payload), "category": category,
            }, payload))
        return changes, self._scm(payload)

    def _pr_ref(self, pr: dict[str, Any], side: str) -> dict[str, Any]:
        # Server sends fromRef/toRef; Cloud source/destination (the reference reads only
        # the former).
        legacy = {"from": "fromRef", "to": "toRef"}[side]
        modern = {"from": "source", "to": "destination"}[side]
        return pr.get(legacy) or pr[modern]  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any

    def handle_pullrequest(self, payload: dict[str, Any], refname: str,
                           category: str) -> tuple[list[dict[str, Any]], str]:
        pr = payload["pullrequest"]
        number = int(pr["id"])
        revlink = pr.get("link") or pr.get("links", {}).get("html", {}).get("href")
        change = self._with_codebase({
            "revision": self._pr_ref(pr, "from")["commit"]["hash"],
            "revlink": revlink, "repository": self._repo_url(payload),
            "author": self._author(payload),
            "comments": f"Bitbucket {self.product} Pull Request #{number}",
            "branch": refname, "project": self._project(payload), "category": category,
            "properties": {"pullrequesturl": revlink, **self.extractProperties(pr)},
        }, payload)
        return [change], self._scm(payload)

    def handle_pullrequest_created(self, payload: dict[str, Any]) -> Any:
        return self.handle_pullrequest(
            payload, GIT_MERGE_REF.format(int(payload["pullrequest"]["id"])), "pull-created")

    def handle_pullrequest_updated(self, payload: dict[str, Any]) -> Any:
        return self.handle_pullrequest(
            payload, GIT_MERGE_REF.format(int(payload["pullrequest"]["id"])), "pull-updated")

    def handle_pullrequest_fulfilled(self, payload: dict[str, Any]) -> Any:
        to = self._pr_ref(payload["pullrequest"], "to")["branch"]["name"]
        return self.handle_pullrequest(payload, GIT_BRANCH_REF.format(to), "pull-fulfilled")

    def handle_pullrequest_rejected(self, payload: dict[str, Any]) -> Any:
        frm = self._pr_ref(payload["pullrequest"], "from")["branch"]["name"]
        return self.handle_pullrequest(payload, GIT_BRANCH_REF.format(frm), "pull-rejected")


bitbucketcloud = BitbucketCloudEventHandler
