"""Cost of secret redaction on the log hot path (`StreamLog.addStdout`).

    python benchmarks/log_redaction.py [--chunks N]

Feeds N output chunks of a few lines each into a stdio log whose writes go to a stand-in
data API that stores nothing, and prints microseconds per chunk for: no build secrets (the
common case), one secret never printed, and one secret printed in every tenth chunk.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from twisted.internet import defer

from buildbot.process.log import new_log
from buildbot.util.redact import SecretRedactor


class NullUpdates:
    """Accepts writes and forgets them, so that only the log's own work is measured."""

    def appendLog(self, logid: int, content: str) -> Any:
        return defer.succeed((0, 0))

    def finishLog(self, logid: int) -> Any:
        return defer.succeed(None)


def run(chunks: list[str], redactor: SecretRedactor | None) -> float:
    loog: Any = new_log(NullUpdates(), "stdio", "s", 1, redactor=redactor)
    start = time.perf_counter()
    for chunk in chunks:
        loog.addStdout(chunk)
    loog.finish()
    return (time.perf_counter() - start) / len(chunks) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=200_000)
    args = parser.parse_args()
    line = "compiling src/module_%d.c -O2 -Wall -Wextra -o build/module.o\n"
    plain = [line % i * 3 for i in range(args.chunks)]
    secret = "ghp_" + "x7" * 18
    printed = [c if i % 10 else c + f"token={secret}\n" for i, c in enumerate(plain)]
    one = SecretRedactor()
    one.add(secret, "token")
    cases = [("no redactor", plain, None), ("no secret rendered", plain, SecretRedactor()),
             ("one secret, not printed", plain, one), ("one secret, printed 1/10", printed, one)]
    for name, chunks, redactor in cases:
        best = min(run(chunks, redactor) for _ in range(3))
        print(f"{name:28s} {best:6.2f} us/chunk")


if __name__ == "__main__":
    main()
