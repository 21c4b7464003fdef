"""Steps writing secrets to files on the worker and removing them again
(`BuildFactory.withSecrets`, `addSteps(..., withSecrets=...)`)."""

from __future__ import annotations

import stat
from typing import Any

from buildbot.process.buildstep import BuildStep
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.steps.worker import CompositeStepMixin


class DownloadSecretsToWorker(BuildStep, CompositeStepMixin):
    """Write each (path, secret) of `populated_secret_list` to its path on the worker,
    readable by the worker's user only (mode 0600)."""

    renderables = ("secret_to_be_populated",)

    def __init__(self, populated_secret_list: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.secret_to_be_populated = populated_secret_list

    async def runPopulateSecrets(self) -> int:
        result = SUCCESS
        for path, value in self.secret_to_be_populated:
            if not isinstance(path, str):
                raise ValueError(f"Secret path {path} is not a string")  # noqa: TRY004 (as the reference)
            self.secret_to_be_interpolated = value
            reader = await self.downloadFileContentToWorker(
                path, value, mode=stat.S_IRUSR | stat.S_IWUSR)
            if reader is None:
                result = FAILURE
        return result

    async def run(self) -> int:
        return await self.runPopulateSecrets()


class RemoveWorkerFileSecret(BuildStep, CompositeStepMixin):
    """Delete the secret files written by DownloadSecretsToWorker.

    As in the reference, a file that cannot be removed does not fail the step.
    """

    renderables = ("secret_to_be_populated",)

    def __init__(self, populated_secret_list: Any, logEnviron: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.logEnviron = logEnviron
        self.secret_to_be_populated = populated_secret_list

    async def runRemoveWorkerFileSecret(self) -> int:
        for path, _ in self.secret_to_be_populated:
            await self.runRmFile(path, abandonOnFailure=False)
        return SUCCESS

    async def run(self) -> int:
        return await self.runRemoveWorkerFileSecret()


__all__ = ["DownloadSecretsToWorker", "RemoveWorkerFileSecret"]
