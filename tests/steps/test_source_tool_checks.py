"""The check<Tool> methods of the source steps (a version query that must exit 0 before
anything else runs), the removeFiles helper and CVS's clean/fresh, against fake tools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.interfaces import WorkerSetupError
from buildbot.plugins import steps
from buildbot.process.results import EXCEPTION, FAILURE
from buildbot.steps.source.base import remove_each
from tests.steps.harness import run_build
from tests.steps.test_fake_tool_steps import argv_lines, fake_bin  # noqa: F401 (fixture)

# (tool, version query, step, result when the query fails): 4.3's checkBzr and checkCvs run
# the query as an ordinary command, so its failure fails the step; the others answer False
# and the step raises WorkerSetupError (an exception result).
CASES = [
    ("bzr", "--version", lambda: steps.Bzr(repourl="http://h/b"), FAILURE),
    ("cvs", "--version", lambda: steps.CVS(cvsroot=":pserver:h:/r", cvsmodule="m"), FAILURE),
    ("darcs", "--version", lambda: steps.Darcs(repourl="http://h/d"), EXCEPTION),
    ("mtn", "--version", lambda: steps.Monotone(repourl="mtn://h/db", branch="b"), EXCEPTION),
    ("p4", "-V", lambda: steps.P4(p4base="//depot", p4client="ws"), EXCEPTION),
]


@pytest.mark.integration
@pytest.mark.parametrize("tool,query,make_step,result", CASES, ids=[c[0] for c in CASES])
@pytest_twisted.ensureDeferred
async def test_failing_version_query_stops_the_step(tmp_path: Path, fake_bin: Any, tool: str,
                                                    query: str, make_step: Any, result: int,
                                                    logged_errors: Any) -> None:
    fake_bin({tool: [(query, "", f"{tool}: broken\n", 1), ("", "", "", 0)]})
    out = await run_build(tmp_path, [make_step()])
    step = out.steps[1]
    assert step.results == result, out.summary
    if result == EXCEPTION:
        assert logged_errors.flush(WorkerSetupError)
    # nothing ran after the version query
    assert argv_lines(step.logs["stdio"]) == [f"[b'{tool}', b'{query}']"]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_cvs_full_fresh_discards_ignored_files_then_updates(tmp_path: Path,
                                                                  fake_bin: Any) -> None:
    root, module = ":pserver:h:/r", "m"
    fake_bin({"cvs": [("", "", "", 0)], "cvsdiscard": [("", "", "", 0)]})

    def checkout(builder_dir: Path) -> None:
        # a checkout of this root and module, so that the step updates it in place
        cvsdir = builder_dir / "build" / "CVS"
        cvsdir.mkdir(parents=True)
        for name, text in (("Root", root), ("Repository", module), ("Entries", "D")):
            (cvsdir / name).write_text(text + "\n")
    out = await run_build(tmp_path, [steps.CVS(cvsroot=root, cvsmodule=module, mode="full",
                                               method="fresh")], before=checkout)
    argvs = argv_lines(out.steps[1].logs["stdio"])
    assert argvs[-2:] == ["[b'cvsdiscard', b'--ignore']",
                          "[b'cvs', b'-z3', b'update', b'-dP']"], argvs


def _recorder(failing: set[str], result: Any) -> tuple[list[str], Any]:
    seen: list[str] = []

    async def remove(path: str) -> Any:
        seen.append(path)
        return result if path in failing else False
    return seen, remove


@pytest_twisted.ensureDeferred
async def test_remove_each_stops_at_the_first_failure() -> None:
    seen, remove = _recorder({"b"}, 2)
    assert await remove_each(["a", "b", "c"], remove) == 2
    assert seen == ["a", "b"]
    seen, remove = _recorder(set(), True)
    assert await remove_each(["a", "c"], remove) == 0
    assert seen == ["a", "c"]
