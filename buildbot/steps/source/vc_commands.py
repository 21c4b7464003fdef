"""Worker commands shared by the Bzr, CVS, Darcs, Monotone, P4 and Repo source steps.

`VcCommandMixin` goes before `Source` in a step's bases. It runs a tool in the step's
workdir (output to the step's "stdio" log, `env`, `logEnviron`, `timeout`), removes and
copies directories; `Source.with_retries` repeats a checkout as `retry=(delay, repeats)`
asks.
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from buildbot.process.buildstep import BuildStepFailed
from buildbot.process.remotecommand import RemoteCommand, RemoteShellCommand
from buildbot.process.results import SUCCESS
from buildbot.steps.source.base import effective_method

log = Logger()


class VcCommandMixin:
    """Helpers for source steps that drive a version-control tool on the worker."""

    stdio_log: Any = None

    async def run_tool(self, argv: list[Any], *, workdir: str | None = None,
                       collectStdout: bool = False, initialStdin: str | None = None,
                       decodeRC: dict[int | None, int] | None = None,
                       abandonOnFailure: bool = True,
                       with_timeout: bool = True, **kwargs: Any) -> Any:
        """Run `argv` on the worker; its stdout when `collectStdout`, else its exit code.

        A failure raises BuildStepFailed when `abandonOnFailure`.
        """
        step: Any = self
        if not argv:
            raise ValueError("No command specified")
        if with_timeout:
            kwargs["timeout"] = step.timeout
        cmd = RemoteShellCommand(
            workdir if workdir is not None else step.workdir, argv, env=step.env,
            logEnviron=step.logEnviron, collectStdout=collectStdout, initialStdin=initialStdin,
            decodeRC=decodeRC or {0: SUCCESS}, **kwargs)
        cmd.useLog(self.stdio_log, False)
        await step.runCommand(cmd)
        if abandonOnFailure and cmd.didFail():
            log.info("Source step failed while running command {cmd}", cmd=cmd)
            raise BuildStepFailed()
        return cmd.stdout if collectStdout else cmd.rc

    async def tool_works(self, argv: list[Any], abandonOnFailure: bool = False,
                         with_timeout: bool = True) -> bool:
        """Whether `argv` (the tool's version query) exits 0 on the worker. 4.3's checkBzr and
        checkCvs fail the step instead of answering False (`abandonOnFailure=True`)."""
        rc = await self.run_tool(argv, abandonOnFailure=abandonOnFailure,
                                 with_timeout=with_timeout)
        return bool(rc == 0)

    async def _worker_command(self, name: str, args: dict[str, Any]) -> RemoteCommand:
        step: Any = self
        cmd = RemoteCommand(name, {**args, "logEnviron": step.logEnviron})
        cmd.useLog(self.stdio_log, False)
        await step.runCommand(cmd)
        return cmd

    async def remove_dir(self, path: Any, with_timeout: bool = False) -> int | None:
        """`rmdir` on the worker (a path or a list of them); returns the exit code."""
        step: Any = self
        args: dict[str, Any] = {"dir": path}
        if with_timeout:
            args["timeout"] = step.timeout
        return (await self._worker_command("rmdir", args)).rc

    async def copy_dir(self, fromdir: str, todir: str, with_timeout: bool = False) -> int | None:
        """`cpdir` on the worker; returns the exit code."""
        step: Any = self
        args: dict[str, Any] = {"fromdir": fromdir, "todir": todir}
        if with_timeout:
            args["timeout"] = step.timeout
        return (await self._worker_command("cpdir", args)).rc


# kept under this name for the steps importing it from here
method_for_mode = effective_method


def full_copy_mode_errors(step: Any, possible_methods: tuple[str, ...]) -> list[str]:
    """Problems with `step.mode`/`step.method` for the steps whose full mode copies a
    pristine "source" by default (Darcs, Monotone); sets that default method."""
    problems = []
    if not step._hasAttrGroupMember("mode", step.mode):
        problems.append(
            f"mode {step.mode} is not one of {step._listAttrGroupMembers('mode')}")
    if step.mode == "incremental" and step.method:
        problems.append("Incremental mode does not require method")
    if step.mode == "full" and step.method is None:
        step.method = "copy"
    elif step.mode == "full" and step.method not in possible_methods:
        problems.append(f"Invalid method for mode == {step.mode}")
    return problems


def required_errors(**values: Any) -> list[str]:
    """"you must provide <name>" for each of `values` that is None."""
    return [f"you must provide {name}" for name, value in values.items() if value is None]


__all__ = ["VcCommandMixin", "full_copy_mode_errors", "method_for_mode", "required_errors"]
