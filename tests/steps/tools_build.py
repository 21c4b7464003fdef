"""One build of the steps whose tools cannot run here (Visual Studio, MSBuild, Robocopy,
Perforce, Monotone, Repo, mock, pbuilder/cowbuilder), run against fake tools that print
recorded outputs, for Buildbot 4.3.0 and this project alike.

Imported by `record_tools_reference.py` (run under either implementation) and by
`test_tools_reference.py`. Only `buildbot.plugins` is used, so both implementations load it.

The fake tools live in one directory (`install_fake_tools`): every tool name is a symlink to
one script that looks up, by tool name and arguments, the output to print and the exit code
to return, and echoes its stdin (p4's client spec, a login password) so the log shows it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"

FAKE_TOOL = r"""#!{python}
import json, os, re, sys
here = os.path.dirname(os.path.abspath(__file__))
name = os.path.basename(sys.argv[0])
args = " ".join(sys.argv[1:])
with open(os.path.join(here, "fake_tools.json")) as f:
    table = json.load(f)
if not sys.stdin.isatty():
    data = sys.stdin.read() if name in ("p4",) else ""
    if data:
        sys.stdout.write("stdin: " + data)
for pattern, out, err, rc in table.get(name, []):
    if re.search(pattern, args):
        sys.stdout.write(out)
        sys.stdout.flush()
        sys.stderr.write(err)
        sys.exit(rc)
sys.exit(0)
"""

# tool -> [(regex on the arguments, stdout, stderr, exit code)]; the first match wins
def _read(name: str) -> str:
    return (FIXTURES / name).read_text()


def fake_tool_table() -> dict[str, list[tuple[str, str, str, int]]]:
    head = "a" * 40
    return {
        "msdev": [("", _read("vc6.out"), "", 0)],
        "devenv.com": [("", _read("vs2008.out"), "", 1)],
        "vcexpress": [("", _read("vcexpress.out"), "", 0)],
        "%VCENV_BAT%": [("", "", "", 0)],
        "msbuild": [("", _read("msbuild.out"), "", 0)],
        "robocopy": [("/MIR", "", "ERROR 5 (0x00000005) Access is denied.\n", 16),
                     ("", _read("robocopy.out"), "", 3)],
        "p4": [
            ("^-V", "Perforce - The Fast Software Configuration Management System.\n", "", 0),
            ("client -i", "Client buildbot_local_b0 saved.\n", "", 0),
            ("-ztag changes", _read("p4_changes.out"), "", 0),
            ("sync", "//depot/trunk/a.txt#3 - added as a.txt\n", "", 0),
        ],
        "mtn": [
            ("automate select", head + "\n", "", 0),
            ("", "", "", 0),
        ],
        "repo": [
            ("^download", "", _read("repo_download.err"), 0),
            ("", "", "", 0),
        ],
        "mock": [("--buildsrpm", _read("mock_buildsrpm.out"), "", 0),
                 ("", "Finish: rebuild srpm\n", "", 0)],
        "pdebuild": [("", _read("pdebuild.out"), "", 0)],
        "sudo": [("", "I: pbuilder create done\n", "", 0)],
    }


def install_fake_tools(bindir: Path,
                       table: dict[str, list[tuple[str, str, str, int]]] | None = None) -> None:
    """Write the fake tools (default: `fake_tool_table()`) into `bindir`."""
    bindir.mkdir(parents=True, exist_ok=True)
    script = bindir / "fake_tool.py"
    # the interpreter by absolute path: VC6 and VC7 replace PATH entirely
    script.write_text(FAKE_TOOL.replace("{python}", sys.executable, 1))
    script.chmod(0o755)
    table = table if table is not None else fake_tool_table()
    (bindir / "fake_tools.json").write_text(json.dumps(table))
    for name in table:
        link = bindir / name
        if not link.exists():
            link.symlink_to(script)


def build_steps(bindir: Path) -> list[Any]:
    """The steps of the compared build. `bindir` is the fake tool directory; VC6 and VC7
    replace PATH entirely, so they get it as ":<bindir>:" (a clean entry between the ';'
    separators Windows would use)."""
    from buildbot.plugins import steps

    vs_path = [f":{bindir}:"]
    return [
        steps.VC6(projectfile="hello.dsw", project="hello", PATH=vs_path),
        steps.VS2008(projectfile="hello.sln", mode="build", arch="x64", INCLUDE=["C:\\inc"],
                     name="vs2008", haltOnFailure=False),
        steps.VCExpress9(projectfile="hello.sln", mode="clean", project="lib",
                         name="vcexpress"),
        steps.MsBuild4(platform="Win32", projectfile="hello.sln", project="lib",
                       defines=["A", "B"], name="msbuild4"),
        steps.MsBuild141(platform="x64", projectfile="hello.sln", mode="build",
                         name="msbuild141", haltOnFailure=False),
        steps.Robocopy(source="src", destination="dst", recursive=True,
                       exclude_files=["*.tmp"], verbose=True),
        steps.P4(p4base="//depot", p4branch="trunk", p4port="perforce:1666", p4user="u",
                 p4passwd="pw", p4extra_views=[("//depot/lib", "lib")], mode="full",
                 workdir="p4"),
        steps.Monotone(repourl="mtn://host/db", branch="main", mode="full",
                       method="clobber", workdir="mtn"),
        steps.Repo(manifestURL="https://host/manifest.git", jobs=4, workdir="repo",
                   repoDownloads=["proj 1234/5"]),
        steps.MockBuildSRPM(root="fedora-39-x86_64", spec="hello.spec"),
        steps.MockRebuild(root="fedora-39-x86_64", srpm="hello-1.0-1.src.rpm",
                          resultdir="out"),
        steps.ShellCommand(command="touch base.tgz", workdir=".", name="basetgz"),
        steps.DebPbuilder(architecture="amd64", distribution="bookworm", basetgz="base.tgz"),
        steps.UbuCowbuilder(distribution="jammy", basetgz="nothere.cow",
                            extrapackages=["ccache"], keyring="k.gpg"),
        # more variants of the same families
        steps.VC7(projectfile="a.sln", project="core", useenv=True, PATH=vs_path,
                  name="vc7"),
        steps.VS2022(projectfile="a.sln", config="Debug", LIB=["C:\\lib"], name="vs2022"),
        steps.MsBuild12(platform="x64", projectfile="a.sln", mode="clean", name="msbuild12"),
        steps.MsBuild17(platform="ARM64", projectfile="a.sln", project="core",
                        defines=["X"], name="msbuild17", haltOnFailure=False),
        steps.Robocopy(source="a", destination="b", mirror=True, move=True,
                       exclude_dirs=["obj"], custom_opts=["/R:3"], name="robomirror",
                       haltOnFailure=False),
        steps.P4(p4viewspec=[("//depot/main/", ""), ("//depot/my docs/", "docs/")],
                 p4user="u", p4passwd="pw", use_tickets=True, p4client="c1",
                 p4line_end="unix", p4client_type="readonly", p4extra_args=["-q"],
                 workdir="p4b", name="p4viewspec"),
        steps.P4(p4base="//streams", p4branch="dev", stream=True, p4client="c2",
                 workdir="p4c", name="p4stream"),
        steps.Monotone(repourl="mtn://host/db", branch="main", progress=True,
                       workdir="mtn2", name="mtn-incremental"),
        steps.Repo(manifestURL="https://host/platform/manifest", manifestBranch="dev",
                   manifestFile="m.xml", tarball="repo.tar.gz", depth=1, submodules=True,
                   syncAllBranches=True, syncQuietly=True,
                   repoDownloads=["repo download platform/manifest 77/3"],
                   workdir="repo2", name="repo-tarball"),
    ]


# -- the build with the real tools (bzr, cvs, darcs, rpmbuild, rpmlint, lintian) -----------
REAL_TOOLS = ("bzr", "cvs", "darcs", "rpmbuild", "rpmlint", "lintian", "dpkg-deb")

SPEC = """Name: hello
Version: 1.0
Release: 1%{?dist}
Summary: A test package
License: MIT
BuildArch: noarch

%description
A test package for the RpmBuild step.

%install
mkdir -p %{buildroot}/usr/share/hello
echo %{?_revision} > %{buildroot}/usr/share/hello/hi

%files
/usr/share/hello/hi
"""


def _run(cwd: Path, *argv: str) -> None:
    env = dict(os.environ, BRZ_EMAIL="t <t@x>", BZR_EMAIL="t <t@x>")
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)


def make_real_inputs(root: Path) -> None:
    """A bzr branch `bzr/trunk` (2 revisions), a CVS root with module `mod`, a darcs
    repository and a .deb, under `root`."""
    trunk = root / "bzr" / "trunk"
    trunk.parent.mkdir(parents=True)
    _run(root, "bzr", "init", "-q", str(trunk))
    for n, text in enumerate(("one\n", "two\n")):
        (trunk / "a.txt").write_text(text)
        if n == 0:
            _run(trunk, "bzr", "add", "-q", "a.txt")
        _run(trunk, "bzr", "commit", "-q", "-m", text.strip())
    src = root / "import"
    src.mkdir()
    (src / "a.txt").write_text("one\n")
    _run(root, "cvs", "-Q", "-d", str(root / "cvsroot"), "init")
    _run(src, "cvs", "-Q", "-d", str(root / "cvsroot"), "import", "-m", "i", "mod", "v", "s")
    darcs = root / "darcsrepo"
    _run(root, "darcs", "init", "--repo", str(darcs))
    (darcs / "a.txt").write_text("one\n")
    _run(darcs, "darcs", "add", "a.txt")
    _run(darcs, "darcs", "record", "-a", "-m", "one", "--author", "t <t@x>")
    pkg = root / "pkg"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "DEBIAN" / "control").write_text(
        "Package: hello\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@x>\n"
        "Description: test\n")
    _run(root, "dpkg-deb", "-b", str(pkg), str(root / "hello_1.0_all.deb"))


def real_tool_steps(root: Path) -> list[Any]:
    """The steps of the build with the real tools, on the inputs of `make_real_inputs`."""
    from buildbot.plugins import steps

    return [
        steps.CVS(cvsroot=str(root / "cvsroot"), cvsmodule="mod", workdir="cvs"),
        steps.Darcs(repourl=str(root / "darcsrepo"), mode="full", method="clobber",
                    workdir="darcs"),
        steps.Bzr(baseURL=str(root / "bzr"), defaultBranch="trunk", mode="full",
                  method="clobber", workdir="bzr2", name="bzr-clobber"),
        steps.Bzr(repourl=str(root / "bzr" / "trunk"), workdir="bzr"),
        steps.StringDownload(SPEC, workerdest="hello.spec"),
        steps.RpmBuild(specfile="hello.spec", vcsRevision=True),
        steps.RpmLint(fileloc="hello.spec"),
        steps.DebLintian(fileloc=str(root / "hello_1.0_all.deb")),
    ]


# -- what is compared -------------------------------------------------------------------
_HEADER_ENV = ("PATH", "INCLUDE", "LIB", "VCENV_BAT")
_COMPARED_PROPS = ("got_revision", "repo_downloaded", "srpm", "deb-changes",
                   "warnings-count")


def normalize(text: str, paths: dict[str, str]) -> str:
    for real, placeholder in sorted(paths.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(real, placeholder)
    return re.sub(r"elapsedTime=[0-9.]+", "elapsedTime=X", text)


def digest_log(name: str, content: str, paths: dict[str, str],
               outputs: bool = True) -> list[str]:
    """The comparable lines of a log: for the log of a shell command, the argv and the
    environment values we set, the output (unless not `outputs`) and the exit codes; other
    logs whole (nothing unless `outputs`)."""
    content = normalize(content, paths)
    if "\nh argv: " not in content:  # not the log of a shell command
        return content.splitlines() if outputs else []
    kept = ("o", "e", "h argv:", "hprogram finished") if outputs else (
        "h argv:", "hprogram finished")
    lines = []
    for line in content.splitlines():
        if line.startswith(kept) or (
                line.startswith("h  ") and line[3:].split("=", 1)[0] in _HEADER_ENV):
            lines.append(line)
    return lines


def digest_build(steps_out: list[dict[str, Any]], props: dict[str, Any],
                 paths: dict[str, str], outputs: bool = True) -> dict[str, Any]:
    """A JSON-able digest of a finished build: per step name, results, state string and
    digested logs; the properties the steps set."""
    return {
        "steps": [{"name": s["name"], "results": s["results"],
                   "state_string": normalize(s["state_string"], paths),
                   "logs": {n: digest_log(n, c, paths, outputs)
                            for n, c in s["logs"].items()}}
                  for s in steps_out],
        "properties": {k: props[k] for k in _COMPARED_PROPS if k in props},
    }


def placeholder_paths(bindir: Path, builder_dir: Path) -> dict[str, str]:
    """Paths that differ between runs -> their placeholders (`bindir` is also where the
    inputs of the real-tool build are)."""
    out = {str(bindir): "<BIN>", str(builder_dir): "<BUILDER>"}
    out[os.environ.get("PATH", "")] = "<ENVPATH>"
    return out
