"""RpmBuild, RpmLint and DebLintian with the real tools, builds on a LocalWorker."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import pytest_twisted

from buildbot.plugins import steps, util
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS
from tests.steps.harness import run_build
from tests.steps.tools_build import SPEC

pytestmark = pytest.mark.integration



@pytest.mark.skipif(shutil.which("rpmbuild") is None or shutil.which("rpmlint") is None,
                    reason="rpmbuild/rpmlint not installed (Debian packages rpm, rpmlint)")
@pytest_twisted.ensureDeferred
async def test_rpmbuild_and_rpmlint(tmp_path: Path) -> None:
    out = await run_build(tmp_path, [
        steps.StringDownload(SPEC, workerdest="hello.spec"),
        steps.SetProperty(property="got_revision", value="abc123"),
        steps.RpmBuild(specfile="hello.spec", dist=".bb", vcsRevision=True),
        # rpmlint 2 wants a path, not a package name
        steps.RpmLint(fileloc=util.Interpolate(
            "%(prop:builddir)s/build/noarch/hello-1.0-1.bb.noarch.rpm")),
    ])
    assert out.summary[2:] == [("rpmbuilder", SUCCESS, "RPMBUILD"),
                               ("rpmlint", SUCCESS, "Finished checking RPM/SPEC issues")]
    rpm_step = out.step("rpmbuilder")
    assert list(rpm_step.logs) == ["stdio", "RPM Command Log"]
    assert "Wrote: " in rpm_step.logs["RPM Command Log"]
    header = rpm_step.logs["stdio"].splitlines()[0]
    assert header == ('hrpmbuild --define "_topdir `pwd`" --define "_builddir `pwd`" '
                      '--define "_rpmdir `pwd`" --define "_sourcedir `pwd`" '
                      '--define "_specdir `pwd`" --define "_srcrpmdir `pwd`" '
                      '--define "_revision abc123" --define "dist .bb" -ba hello.spec')
    assert (out.worker_dir / "build" / "noarch" / "hello-1.0-1.bb.noarch.rpm").exists()
    # rpmlint 2 reads `-i` as --installed (rpmlint 1: --info, what 4.3 meant): it looks for
    # an installed package of that name and finds nothing to check
    lint = out.step("rpmlint")
    assert list(lint.logs) == ["stdio"]
    assert "argv: [b'rpmlint', b'-i', b'/" in lint.logs["stdio"]
    assert "there is no installed rpm" in lint.logs["stdio"]


def make_deb(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "DEBIAN" / "control").write_text(
        "Package: hello\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@x>\n"
        "Description: test\n")
    deb = tmp_path / "hello_1.0_all.deb"
    subprocess.run(["dpkg-deb", "-b", str(pkg), str(deb)], check=True, capture_output=True)
    return deb


@pytest.mark.skipif(shutil.which("lintian") is None or shutil.which("dpkg-deb") is None,
                    reason="lintian not installed")
@pytest_twisted.ensureDeferred
async def test_deblintian_counts_errors_and_warnings(tmp_path: Path) -> None:
    deb = make_deb(tmp_path)
    out = await run_build(tmp_path, [
        steps.DebLintian(fileloc=str(deb), suppressTags=["no-copyright-file"]),
    ])
    step = out.step("lintian")
    # failure only warns the build (flunkOnFailure False, warnOnFailure True)
    assert (out.results, step.results, step.state_string) == (
        WARNINGS, FAILURE, "Lintian (failure)")
    assert list(step.logs) == ["stdio", "3 Warnings", "4 Errors"]
    assert "no-copyright-file" not in step.logs["4 Errors"]
    assert all(line.startswith("E: ") for line in step.logs["4 Errors"].splitlines())
    assert ("argv: [b'lintian', b'-v', b'" + str(deb) + "', b'--suppress-tags', "
            "b'no-copyright-file']") in step.logs["stdio"]
