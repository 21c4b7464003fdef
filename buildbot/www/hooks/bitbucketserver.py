"""The `bitbucketserver` dialect: `repo:refs_changed` (and legacy `repo:push`),
`pullrequest:*` from Bitbucket Server / Data Center."""

from __future__ import annotations

from typing import Any

from buildbot.www.hooks.bitbucketcloud import BitbucketCloudEventHandler


class BitbucketServerEventHandler(BitbucketCloudEventHandler):
    """Same events as Cloud, with Bitbucket Server's field names."""

    product = "Server"

    def _repo_url(self, payload: dict[str, Any]) -> str:
        url: str = payload["repository"]["links"]["self"][0]["href"]
        return url.removesuffix("browse")

    def _web_url(self, payload: dict[str, Any]) -> str:
        return self._repo_url(payload)

    def _project(self, payload: dict[str, Any]) -> str:
        return payload["repository"]["project"]["name"]  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any

    def _author(self, payload: dict[str, Any]) -> str:
        actor = payload["actor"]
        return f"{actor['displayName']} <{actor['username']}>"

    def _scm(self, payload: dict[str, Any]) -> str:
        return payload["repository"]["scmId"]  # type: ignore[no-any-return, unused-ignore]  # values from JSON or an untyped library are Any

    def handle_repo_refs_changed(self, payload: dict[str, Any]) -> Any:
        return self.handle_repo_push(payload)


bitbucketserver = BitbucketServerEventHandler


# Git refs of Bitbucket Server events ({} is the branch, tag or pull request id).
GIT_BRANCH_REF = "refs/heads/{}"
GIT_MERGE_REF = "refs/pull-requests/{}/merge"
GIT_TAG_REF = "refs/tags/{}"
