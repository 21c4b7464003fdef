"""GerritStatusPush's version handshake and review process, through 4.3's overridable
members (spawnProcess, VersionPP, LocalPP, callWithVersion, processVersion)."""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet.error import ProcessDone, ProcessTerminated
from twisted.python.failure import Failure

from buildbot.reporters.gerrit import GerritStatusPush


class ScriptedPush(GerritStatusPush):
    """Answers each spawned ssh command from `answers` (exit code, stdout) at once."""

    def __init__(self, answers: dict[str, tuple[int, bytes]]) -> None:
        super().__init__("gerrit.example.org", "bot")
        self.answers = answers
        self.commands: list[list[str]] = []
        # what reconfigService sets (it also subscribes to the master's mq, absent here)
        self.gerrit_server, self.gerrit_username, self.gerrit_port = "g.example.org", "bot", 22

    def spawnProcess(self, proto: Any, exe: str, args: list[str], env: Any = None) -> Any:
        self.commands.append(args)
        code, out = self.answers[args[args.index("gerrit") + 1]]
        if out:
            proto.outReceived(out[:5])  # in two pieces, as a pipe may deliver it
            proto.outReceived(out[5:])
        proto.processEnded(Failure(ProcessDone(0) if code == 0 else ProcessTerminated(code)))
        return None


def test_call_with_version_caches_it_then_calls() -> None:
    push = ScriptedPush({"version": (0, b"gerrit version 3.5.1-12-gabc\n")})
    called: list[Any] = []
    push.callWithVersion(lambda: called.append(push.gerrit_version))
    assert called == [(3, 5, 1)]
    assert push.getCachedVersion() == (3, 5, 1)
    assert push.commands[0][-2:] == ["gerrit", "version"]


def test_unreadable_or_failed_version_never_calls() -> None:
    for answer in [(0, b"hello\n"), (1, b"")]:
        push = ScriptedPush({"version": answer})
        called: list[int] = []
        push.callWithVersion(lambda: called.append(1))
        assert called == [] and push.gerrit_version is None


@pytest_twisted.ensureDeferred
async def test_review_goes_through_the_overridable_protocols() -> None:
    seen: list[str] = []

    class Push(ScriptedPush):
        class LocalPP(GerritStatusPush.LocalPP):
            def processEnded(self, reason: Any) -> None:
                seen.append(f"review ended {reason.value.exitCode}")
                super().processEnded(reason)

        def processVersion(self, gerrit_version: Any, func: Any) -> Any:
            seen.append(f"version {gerrit_version}")
            return super().processVersion(gerrit_version, func)

    push = Push({"version": (0, b"gerrit version 2.12\n"), "review": (0, b"")})
    await push.send_code_review("proj", "abc", "it's fine", {"Verified": 1})
    await push.send_code_review("proj", "def", None, {})  # version cached: asked once
    assert seen == ["version (2, 12)", "review ended 0", "review ended 0"]
    assert [c[c.index("gerrit"):] for c in push.commands] == [
        ["gerrit", "version"],
        # before 2.13: no --tag; from 2.6: --label
        ["gerrit", "review", "--project proj", "--message 'it\"s fine'", "--label Verified=1",
         "abc"],
        ["gerrit", "review", "--project proj", "def"]]
