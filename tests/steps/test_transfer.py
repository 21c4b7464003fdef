"""Transfer steps: in-process builds on a LocalWorker, plus big transfers with stock worker
processes over PB and msgpack."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import task

from buildbot.config.errors import capture_config_errors
from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import CANCELLED, FAILURE, SKIPPED, SUCCESS
from tests.fixtures.master import running_master, wait_for_message
from tests.fixtures.worker_process import ATTACHED, CONNECTED, running_worker
from tests.steps.harness import collect_build, force_build, make_config, run_build

pytestmark = pytest.mark.integration


def test_argument_validation() -> None:
    with capture_config_errors() as errors:
        steps.FileUpload(workersrc="a", masterdest="b", mode="644")
        steps.DirectoryUpload(workersrc="a", masterdest="b", compress="xz")
        steps.StringDownload("s", workerdest="x", mode="x")
    assert errors.errors == [
        "mode must be an integer or None",
        "'compress' must be one of None, 'gz', or 'bz2'",
        "StringDownload step's mode must be an integer or None, got 'x'",
    ]
    with pytest.raises(TypeError, match="takes at least 3 arguments"):
        steps.FileUpload(workersrc="a")
    with pytest.raises(TypeError, match="takes at least 2 arguments"):
        steps.JSONPropertiesDownload()


def put(path: Path, content: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)


@pytest_twisted.ensureDeferred
async def test_file_upload_mode_keepstamp_and_url(tmp_path: Path) -> None:
    dest = tmp_path / "up" / "out.bin"

    def prepare(wdir: Path) -> None:
        put(wdir / "build" / "out.bin", b"payload\n" * 1000)
        os.utime(wdir / "build" / "out.bin", (1_000_000_000, 1_000_000_000))

    out = await run_build(tmp_path, [
        steps.FileUpload(workersrc="out.bin", masterdest=str(dest), mode=0o640,
                         keepstamp=True, url="http://x/out.bin"),
    ], before=prepare)
    assert out.summary == [("upload", SUCCESS, "uploading out.bin")]
    assert dest.read_bytes() == b"payload\n" * 1000
    assert (dest.stat().st_mode & 0o777, int(dest.stat().st_mtime)) == (0o640, 1_000_000_000)
    assert [(u["name"], u["url"]) for u in out.steps[1].urls] == [("out.bin", "http://x/out.bin")]
    assert os.listdir(dest.parent) == ["out.bin"]


@pytest_twisted.ensureDeferred
async def test_failed_uploads_leave_nothing_behind(tmp_path: Path) -> None:
    up = tmp_path / "up"

    def prepare(wdir: Path) -> None:
        put(wdir / "build" / "big", b"x" * 100)

    out = await run_build(tmp_path, [
        steps.FileUpload(workersrc="big", masterdest=str(up / "big"), maxsize=10,
                         haltOnFailure=False),
        steps.FileUpload(workersrc="missing", masterdest=str(up / "missing"), name="missing"),
    ], before=prepare)
    assert out.summary == [
        ("upload", FAILURE, "uploading big (failure)"),
        ("missing", FAILURE, "uploading missing (failure)"),
    ]
    assert "Maximum filesize reached" in out.steps[1].logs["stdio"]
    assert "Cannot open file" in out.steps[2].logs["stdio"]
    assert os.listdir(up) == []


@pytest_twisted.ensureDeferred
async def test_directory_upload_compressed(tmp_path: Path) -> None:
    def prepare(wdir: Path) -> None:
        put(wdir / "build" / "d" / "a.txt", "A")
        put(wdir / "build" / "d" / "sub" / "b.txt", "B")

    out = await run_build(tmp_path, [
        steps.DirectoryUpload(workersrc="d", masterdest=str(tmp_path / "plain")),
        steps.DirectoryUpload(workersrc="d", masterdest=str(tmp_path / "gz"), compress="gz"),
        steps.DirectoryUpload(workersrc="d", masterdest=str(tmp_path / "bz"), compress="bz2",
                              url="http://u", urlText="dir"),
        steps.DirectoryUpload(workersrc="nothere", masterdest=str(tmp_path / "none")),
    ], before=prepare)
    assert out.summary == [
        ("upload", SUCCESS, "uploading d"),
        ("upload_1", SUCCESS, "uploading d"),
        ("upload_2", SUCCESS, "uploading d"),
        ("upload_3", FAILURE, "uploading nothere (failure)"),
    ]
    for name in ("plain", "gz", "bz"):
        assert (tmp_path / name / "a.txt").read_text() == "A"
        assert (tmp_path / name / "sub" / "b.txt").read_text() == "B"
    assert not (tmp_path / "none").exists()
    assert [u["name"] for u in out.steps[3].urls] == ["dir"]
    assert sorted(os.listdir(tmp_path)) == ["bz", "gz", "master", "plain"]


@pytest_twisted.ensureDeferred
async def test_multiple_file_upload_with_glob(tmp_path: Path) -> None:
    dest = tmp_path / "multi"

    def prepare(wdir: Path) -> None:
        put(wdir / "build" / "a.log", "a")
        put(wdir / "build" / "b.log", "b")
        put(wdir / "build" / "c.txt", "c")
        put(wdir / "build" / "dd" / "x", "x")

    out = await run_build(tmp_path, [
        steps.MultipleFileUpload(workersrcs=["*.log", "dd"], masterdest=str(dest), glob=True),
        steps.MultipleFileUpload(workersrcs=["c.txt", "gone"], masterdest=str(dest),
                                 name="partial", haltOnFailure=False),
        steps.MultipleFileUpload(workersrcs=["*.none"], masterdest=str(dest), glob=True,
                                 name="nomatch"),
    ], before=prepare)
    assert out.summary == [
        ("upload", SUCCESS, "uploading 3 files"),
        ("partial", FAILURE, "uploading 2 files (failure)"),
        ("nomatch", SKIPPED, "uploading 0 files (skipped)"),
    ]
    assert sorted(os.listdir(dest)) == ["a.log", "b.log", "c.txt", "dd"]
    assert (dest / "dd" / "x").read_text() == "x"
    assert out.steps[2].logs["stderr"] == "File build/gone not available at worker\n"


@pytest_twisted.ensureDeferred
async def test_downloads(tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(bytes(range(256)) * 300)
    out = await run_build(tmp_path, [
        steps.FileDownload(mastersrc=str(src), workerdest="sub/dl.bin", mode=0o600),
        steps.FileDownload(mastersrc=str(tmp_path / "none"), workerdest="x", name="nosrc",
                           haltOnFailure=False),
        steps.StringDownload(util.Interpolate("hello %(prop:who)s"), workerdest="s.txt"),
        steps.StringDownload("0123456789abcdef", workerdest="trunc.txt", maxsize=10,
                             name="trunc", haltOnFailure=False),
        steps.JSONStringDownload({"a": [1, util.Property("who")]}, workerdest="o.json"),
        steps.JSONPropertiesDownload(workerdest="props.json"),
    ], properties={"who": "world"})
    assert out.summary == [
        ("download", SUCCESS, "downloading to dl.bin"),
        ("nosrc", FAILURE, "downloading to x (failure)"),
        ("string_download", SUCCESS, "downloading to s.txt"),
        ("trunc", FAILURE, "downloading to trunc.txt (failure)"),
        ("json_download", SUCCESS, "downloading to o.json"),
        ("json_properties_download", SUCCESS, "downloading to props.json"),
    ]
    build = out.worker_dir / "build"
    assert (build / "sub" / "dl.bin").read_bytes() == src.read_bytes()
    assert (build / "sub" / "dl.bin").stat().st_mode & 0o777 == 0o600
    assert out.steps[2].logs["stderr"] == f"File {str(tmp_path / 'none')!r} not available at master\n"
    assert (build / "s.txt").read_text() == "hello world"
    assert json.loads((build / "o.json").read_text()) == {"a": [1, "world"]}
    doc = json.loads((build / "props.json").read_text())
    assert doc["properties"]["who"] == "world"
    assert [ss["codebase"] for ss in doc["sourcestamps"]] == [""]


# -- big transfers with stock worker processes ---------------------------------------------

BIG = 100 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def write_big(path: Path) -> None:
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as f:
        f.writelines(block[:-1] + bytes([i % 256]) for i in range(BIG // len(block)))


def same_file(a: Path, b: Path) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


@pytest.mark.parametrize("protocol", ["pb", "msgpack_experimental_v7"])
@pytest_twisted.ensureDeferred
async def test_100_mb_upload_and_download_with_bounded_memory(tmp_path: Path,
                                                              protocol: str) -> None:
    port = free_port()
    big_src = tmp_path / "big.src"
    write_big(big_src)
    up = tmp_path / "up" / "big.up"
    build_steps = [
        steps.FileDownload(mastersrc=str(big_src), workerdest="big.dl"),
        steps.FileUpload(workersrc="big.dl", masterdest=str(up), keepstamp=True),
        steps.StringDownload("x" * 20, workerdest="s.txt"),
    ]
    cfg = {
        "workers": [worker.Worker("w", "pw")],
        "protocols": {protocol: {"port": f"tcp:{port}:interface=127.0.0.1"}},
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b0"])],
        "builders": [util.BuilderConfig(name="b0", workernames=["w"],
                                        factory=util.BuildFactory(build_steps))],
    }
    peak = [0]
    sampler = task.LoopingCall(lambda: peak.__setitem__(0, max(peak[0], rss_bytes())))
    async with running_master(tmp_path / "m", cfg) as master:
        wait_line = CONNECTED if protocol == "pb" else ATTACHED
        async with running_worker(tmp_path / "w", port, "w", "pw", protocol=protocol,
                                  wait_for=wait_line):
            start = rss_bytes()
            sampler.start(0.05)
            try:
                out = await force_build(master)
            finally:
                sampler.stop()
    assert out.results == SUCCESS, out.summary
    assert same_file(big_src, up)
    assert (tmp_path / "w" / "b0" / "build" / "s.txt").read_text() == "x" * 20
    assert same_file(big_src, tmp_path / "w" / "b0" / "build" / "big.dl")
    grown = peak[0] - start
    assert grown < 40 * 1024 * 1024, f"master memory grew by {grown >> 20} MiB"


@pytest_twisted.ensureDeferred
async def test_interrupted_upload_is_cancelled_and_removes_partial_file(tmp_path: Path) -> None:
    up = tmp_path / "up"
    cfg = make_config([steps.FileUpload(workersrc="big", masterdest=str(up / "big"),
                                        blocksize=4096)])
    async with running_master(tmp_path / "m", cfg) as master:
        put(Path(master.basedir) / "workers" / "local" / "b0" / "build" / "big",
            b"z" * (20 * 1024 * 1024))
        started = wait_for_message(master, ("logs", None, "new"))
        done = wait_for_message(master, ("buildsets", None, "complete"))
        await master.data.control("force", {"builderNames": ["b0"]},
                                  ("forceschedulers", "force"))
        await started
        builds = await master.data.get(("builds",))
        await master.data.control("stop", {"reason": "stop it"},
                                  ("builds", builds[0]["buildid"]))
        await done
        out = await collect_build(master, builds[0]["buildid"])
    assert out.summary == [("upload", CANCELLED, "uploading big (cancelled)")]
    assert out.steps[1].logs["interrupt"] == "stop it\n"
    assert os.listdir(up) == []
