"""The configuration of the tool-steps family build, shared by our test
(`test_tool_steps_reference.py`) and the script recording Buildbot 4.3.0's outcome
(`record_tool_family.py`, run with the reference's interpreter).

It only uses `buildbot.plugins`, so it loads in both implementations. The tools' output
comes from the recorded files in `tool_outputs/`, which `prepare_worker_dir` copies into the
build directory, so the build needs none of the tools.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from buildbot.plugins import schedulers, steps, util, worker

OUTPUTS = Path(__file__).parent / "tool_outputs"
# Named for the base of CatMaxQ: mypy takes no attribute of a plugin namespace as a base class.
MaxQ: Any = steps.MaxQ

BBTRAVIS = """\
env:
  global: GLOBAL=1
matrix:
  include:
    - env: PY=3.11
    - env: PY=3.12 DB=pg
script:
  - echo one
  - title: second
    cmd: echo two
  - "# a comment becomes the name\\necho three"
"""

# a repository whose commits have fixed dates, so that hashes are the same in every run
MAKE_REPO = """\
set -e
rm -rf repo && mkdir repo && cd repo
git init -q -b base
printf 'a\\nb\\nc\\n' > f.txt
git add f.txt && git commit -q -m one
git checkout -q -b topic
printf 'a\\nB\\nc\\nd\\n' > f.txt
printf 'new\\n' > g.txt
git add f.txt g.txt && git commit -q -m two
"""
GIT_ENV = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com",
           "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.com",
           "GIT_AUTHOR_DATE": "2020-01-01T00:00:00Z",
           "GIT_COMMITTER_DATE": "2020-01-01T00:00:00Z", "HOME": "/nonexistent"}

# logs holding the command's output (or, for HTTP steps, headers that differ between the
# reference's requests library and treq): their text is not compared
UNCOMPARED_LOGS = frozenset({"stdio", "stdio-merge-base", "stdio-diff", "log", "content",
                             "test.log"})

# properties both implementations must set to the same values
COMPARED_PROPERTIES = (
    "pyflakes-unused", "pyflakes-undefined", "pyflakes-redefs", "pyflakes-import*",
    "pyflakes-misc", "pyflakes-total", "pylint-convention", "pylint-error", "pylint-fatal",
    "pylint-info", "pylint-refactor", "pylint-warning", "pylint-total", "cppcheck-error",
    "cppcheck-warning", "cppcheck-style", "cppcheck-performance", "cppcheck-portability",
    "cppcheck-information", "cppcheck-total", "diffinfo-merge-base-commit")


class CatMaxQ(MaxQ):
    """MaxQ reading the recorded output instead of running run_maxq.py."""

    binary = "cat"


def prepare_worker_dir(builder_dir: Path) -> None:
    """Put the recorded outputs and the CI file into the build directory."""
    build = builder_dir / "build"
    build.mkdir(parents=True, exist_ok=True)
    for f in OUTPUTS.glob("*.out"):
        shutil.copy(f, build / f.name)
    (build / ".bbtravis.yml").write_text(BBTRAVIS)


def family_steps(http_port: int, closed_port: int) -> list[Any]:
    url = f"http://127.0.0.1:{http_port}"
    return [
        steps.BuildEPYDoc(command=["cat", "epydoc.out"]),
        steps.PyFlakes(command=["cat", "pyflakes.out"]),
        steps.PyLint(command=["cat", "pylint.out"]),
        steps.Sphinx(sphinx="cat", sphinx_sourcedir="/dev/null", sphinx_builddir="sphinx.out"),
        steps.Trial(trial="cat", trialMode=[], tests=["trial.out"], testpath=None),
        steps.Trial(trial="sh", trialMode=["-c", "cat trial.out; exit 1"], tests=["x"],
                    testpath=".", name="trial_fail"),
        steps.PyFlakes(command=["cat", "pyflakes_syntax.out"], name="pyflakes_syntax"),
        steps.PyLint(command=["cat", "pylint_formats.out"], name="pylint_formats",
                     store_results=False),
        steps.Sphinx(sphinx="cat", sphinx_sourcedir="/dev/null",
                     sphinx_builddir="sphinx_strict.out", strict_warnings=False,
                     haltOnFailure=False, name="sphinx_strict"),
        steps.Trial(trial="sh", trialMode=["-c", "cat trial_warnings.out"], tests=["x"],
                    testpath=None, reactor="epoll", name="trial_warnings"),
        steps.RemovePYCs(),
        steps.CMake(cmake="echo", generator="Ninja", path="..", options=["-Wno-dev"],
                    definitions={"CMAKE_BUILD_TYPE": "Release"}),
        steps.Cppcheck(binary="cat", source=["cppcheck.out"]),
        CatMaxQ(testdir="maxq.out"),
        steps.SubunitShellCommand(command=["cat", "subunit.out"], name="subunit"),
        steps.HLint(),
        steps.GET(url=f"{url}/ok", name="get"),
        steps.POST(url=f"{url}/missing", data={"a": "b"}, name="post"),
        steps.GET(url=f"{url}/moved", name="redirected"),
        steps.GET(url=f"http://127.0.0.1:{closed_port}/", name="unreachable"),
        steps.ShellCommand(name="mkrepo", command=["sh", "-c", MAKE_REPO], env=GIT_ENV),
        steps.GitDiffInfo(compareToRef="base", workdir="build/repo"),
        steps.BuildbotCiSetupSteps(),
        steps.BuildbotTestCiTrigger(scheduler="ci-jobs"),
    ]


def family_config(http_port: int, closed_port: int) -> dict[str, Any]:
    return {
        "workers": [worker.LocalWorker("local", max_builds=3)],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b0"]),
                       schedulers.Triggerable(name="ci-jobs", builderNames=["job"])],
        "builders": [
            util.BuilderConfig(name="b0", workernames=["local"], tags=["tools"],
                               factory=util.BuildFactory(family_steps(http_port, closed_port))),
            # no collapsing: whether 4.3 collapses the first triggered request into the second
            # depends on how soon its distributor claims it
            util.BuilderConfig(name="job", workernames=["local"], collapseRequests=False,
                               factory=util.BuildFactory(
                [steps.ShellCommand(command=["echo", util.Property("PY")])]))],
        "protocols": {"null": {}},
        "buildbotNetUsageData": None,
    }


def http_site() -> Any:
    """A twisted.web site answering /ok (200, "hello"), /moved (a redirect to /ok) and 404
    for anything else."""
    from twisted.web import pages, resource, server, util as webutil

    class Ok(resource.Resource):
        isLeaf = True

        def render(self, request: Any) -> bytes:
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"hello\n"

    class Root(resource.Resource):
        def getChild(self, path: bytes, request: Any) -> Any:
            return pages.notFound()

    root = Root()
    root.putChild(b"ok", Ok())
    root.putChild(b"moved", webutil.Redirect(b"/ok"))
    return server.Site(root)


def closed_port() -> int:
    """A local port nothing listens on (bound then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
