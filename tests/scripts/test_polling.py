"""The reactor-free loop of `buildbot start` and `reconfig` (buildbot.scripts.polling)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from twisted.internet import defer

from buildbot.scripts.polling import PollingClock, run_polling


def test_calls_run_in_time_order_then_creation_order() -> None:
    clock = PollingClock()
    ran: list[str] = []
    clock.callLater(0.002, ran.append, "late")
    clock.callLater(0, ran.append, "first")
    clock.callLater(0, ran.append, "second")

    clock.run_until(lambda: len(ran) == 3)

    assert ran == ["first", "second", "late"]


def test_cancelled_and_reset_calls() -> None:
    clock = PollingClock()
    ran: list[str] = []
    cancelled = clock.callLater(0, ran.append, "cancelled")
    moved = clock.callLater(0, ran.append, "moved")
    clock.callLater(0.001, ran.append, "middle")
    cancelled.cancel()
    moved.reset(0.003)

    clock.run_until(lambda: False)  # returns once nothing is left

    assert ran == ["middle", "moved"]
    assert not moved.active() and not cancelled.active()
    assert moved.getTime() <= clock.seconds()


def test_run_polling_returns_the_commands_status() -> None:
    async def command(clock: PollingClock) -> int:
        d: defer.Deferred[None] = defer.Deferred()
        clock.callLater(0.001, d.callback, None)
        await d
        return 3

    assert run_polling(command) == 3


def test_run_polling_turns_an_exception_into_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    async def command(clock: PollingClock) -> int:
        raise RuntimeError("boom")

    assert run_polling(command) == 1
    assert "RuntimeError: boom" in capsys.readouterr().err


def test_run_polling_reports_an_interrupted_command(capsys: pytest.CaptureFixture[str]) -> None:
    async def command(clock: PollingClock) -> int:
        clock.callLater(0, os.kill, os.getpid(), signal.SIGTERM)
        await defer.Deferred()  # never fires
        return 0

    previous = signal.getsignal(signal.SIGTERM)
    assert run_polling(command) == 1
    assert capsys.readouterr().err == "interrupted before the command finished\n"
    assert signal.getsignal(signal.SIGTERM) == previous


@pytest.mark.integration  # a Python process of its own
def test_start_and_reconfig_do_not_import_the_reactor() -> None:
    code = ("import sys\n"
            "from buildbot.scripts import runner\n"
            "for name in ('start', 'reconfig'):\n"
            "    runner.options_class(name), runner.command_function(name)\n"
            "print('twisted.internet.reactor' in sys.modules, 'OpenSSL' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout

    assert out == "False False\n"
