"""GitLab: the Git step for merge request builds."""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from buildbot.steps.source.git import Git

log = Logger()


class GitLab(Git):
    """Git, except that for a merge request (property `target_branch` set by the GitLab
    hook) the source branch is fetched from the source repository (`source_branch`,
    `source_git_ssh_url`) and the event's revision is ignored."""

    async def run_vc(self, branch: Any, revision: Any, patch: Any) -> int:
        self.setup_repourl()
        if self.build.hasProperty("target_branch"):
            target = self.build.getProperty("target_git_ssh_url", None) or ""
            if not target.startswith("ssh://"):
                target = "ssh://" + target
            if self.repourl != target:
                log.info("GitLab.run_vc: note: GitLab step for merge requests should probably "
                         "have repourl='{target}' instead of '{repourl}'?", target=target,
                         repourl=self.repourl)
            branch = self.build.getProperty("source_branch", None)
            self.repourl = self.build.getProperty("source_git_ssh_url", None)
            revision = None
        return await super().run_vc(branch, revision, patch)


__all__ = ["GitLab"]
