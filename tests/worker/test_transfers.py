"""File transfers with stock buildbot-worker 4.3 processes over PB and msgpack, through the
master-side writer and reader objects of `buildbot.process.remotetransfer`."""

from __future__ import annotations

import filecmp
import os
import stat
import tarfile
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.process.remotetransfer import (
    DirectoryWriter,
    FileReader,
    FileWriter,
    StringFileReader,
)
from tests.worker.conftest import MasterSide, run_command

pytestmark = pytest.mark.integration

STAMP = (1_700_000_000.5, 1_600_000_000.25)
BIG = 100 * 1024 * 1024


def upload_args(writer: Any, src: str, **kw: Any) -> dict[str, Any]:
    args = {"workdir": "build", "workersrc": src, "writer": writer, "maxsize": None,
            "blocksize": 8, "keepstamp": False}
    args.update(kw)
    return args


def download_args(reader: Any, dest: str, **kw: Any) -> dict[str, Any]:
    args = {"workdir": "build", "workerdest": dest, "reader": reader, "maxsize": None,
            "blocksize": 16, "mode": None}
    args.update(kw)
    return args


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest_twisted.ensureDeferred
async def test_upload_file_keeps_the_timestamps(master_side: MasterSide, tmp_path: Path) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        src = w.basedir / "b1" / "build" / "out.txt"
        src.parent.mkdir(parents=True)
        src.write_bytes(b"payload\n" * 3)
        os.utime(src, STAMP)
        dest = tmp_path / "master" / "sub" / "out.txt"
        writer = FileWriter(str(dest), None, 0o644)

        cmd = await run_command(conn, "uploadFile", upload_args(writer, "out.txt",
                                                                keepstamp=True))

        assert (cmd.failure, cmd.rc) == (None, 0)
        assert f"sending {src}" in cmd.text("header")
        # (times first: reading the file may update its atime)
        assert (dest.stat().st_atime, dest.stat().st_mtime) == STAMP
        assert dest.read_bytes() == b"payload\n" * 3
        assert stat.S_IMODE(dest.stat().st_mode) == 0o644
        assert [p.name for p in dest.parent.iterdir()] == ["out.txt"]  # no temp file left


@pytest_twisted.ensureDeferred
async def test_upload_file_truncates_at_maxsize_and_reports_missing_files(
        master_side: MasterSide, tmp_path: Path) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        src = w.basedir / "b1" / "build" / "big.txt"
        src.parent.mkdir(parents=True)
        src.write_bytes(b"0123456789" * 3)

        dest = tmp_path / "trunc.txt"
        cmd = await run_command(conn, "uploadFile", upload_args(
            FileWriter(str(dest), 12, None), "big.txt", maxsize=12, blocksize=5))
        assert cmd.rc == 1 and "Maximum filesize reached" in cmd.text("stderr")
        assert dest.read_bytes() == b"012345678901"

        writer = FileWriter(str(tmp_path / "none.txt"), None, None)
        cmd = await run_command(conn, "uploadFile", upload_args(writer, "missing.txt"))
        assert cmd.rc == 1 and "Cannot open file" in cmd.text("stderr")


@pytest_twisted.ensureDeferred
async def test_upload_directory_unpacks_into_the_destination(
        master_side: MasterSide, tmp_path: Path) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        src = w.basedir / "b1" / "build" / "d"
        (src / "sub").mkdir(parents=True)
        (src / "a.txt").write_text("A")
        (src / "sub" / "b.txt").write_text("B" * 100_000)
        dest = tmp_path / "out" / "d"
        writer = DirectoryWriter(str(dest), None, "gz", 0o600)

        cmd = await run_command(conn, "uploadDirectory", upload_args(
            writer, "d", blocksize=16384, compress="gz"))

        assert (cmd.failure, cmd.rc) == (None, 0)
        assert (dest / "a.txt").read_text() == "A"
        assert (dest / "sub" / "b.txt").read_text() == "B" * 100_000
        assert [p.name for p in dest.parent.iterdir()] == ["d"]  # archive removed


@pytest_twisted.ensureDeferred
async def test_download_file_delivers_the_bytes(master_side: MasterSide,
                                                tmp_path: Path) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        src = tmp_path / "src.bin"
        src.write_bytes(bytes(range(256)) * 40)

        with open(src, "rb") as fp:
            cmd = await run_command(conn, "downloadFile", download_args(
                FileReader(fp), "in/x.bin", blocksize=1000, mode=0o640))

        dest = w.basedir / "b1" / "build" / "in" / "x.bin"
        assert (cmd.failure, cmd.rc) == (None, 0)
        assert dest.read_bytes() == src.read_bytes()  # the reference's msgpack master: empty
        assert stat.S_IMODE(dest.stat().st_mode) == 0o640

        cmd = await run_command(conn, "downloadFile", download_args(
            StringFileReader("0123456789abcdef"), "trunc.txt", maxsize=10, blocksize=4))
        assert cmd.rc == 1 and "Maximum filesize reached" in cmd.text("stderr")
        assert (w.basedir / "b1" / "build" / "trunc.txt").read_bytes() == b"0123456789"


class MeasuringWriter(FileWriter):
    """Checks, block by block, that received data is on disk rather than held in memory."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.received = 0
        self.largest_block = 0
        self.peak_rss = rss_bytes()

    def remote_write(self, data: bytes | str) -> None:
        super().remote_write(data)
        self.received += len(data)
        self.largest_block = max(self.largest_block, len(data))
        assert self.tmpname is not None
        on_disk = os.path.getsize(self.tmpname)
        assert self.received - on_disk <= 64 * 1024, "writer holds data in memory"
        self.peak_rss = max(self.peak_rss, rss_bytes())


class MeasuringReader(FileReader):
    def __init__(self, fp: Any) -> None:
        super().__init__(fp)
        self.peak_rss = rss_bytes()
        self.sent = 0

    def remote_read(self, maxlength: int) -> bytes:
        self.peak_rss = max(self.peak_rss, rss_bytes())
        data = super().remote_read(maxlength)
        self.sent += len(data)
        return data


def make_big_file(path: Path) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        f.writelines(i.to_bytes(8, "big") + block[8:] for i in range(BIG >> 20))


# (msgpack moves 200 MB in over a minute on a loaded 2-core machine; the waits inside fail
# as soon as the transfer stalls, this only bounds the total)
@pytest.mark.timeout(900)
@pytest_twisted.ensureDeferred
async def test_100mb_upload_and_download_stream_with_bounded_memory(
        master_side: MasterSide, tmp_path: Path) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        src = w.basedir / "b1" / "build" / "big.bin"
        src.parent.mkdir(parents=True)
        make_big_file(src)

        baseline = rss_bytes()
        dest = tmp_path / "big.bin"
        writer = MeasuringWriter(str(dest), None, None)
        # A loaded machine may need minutes for 100 MB: only a stalled transfer fails.
        cmd = await run_command(conn, "uploadFile", upload_args(writer, "big.bin",
                                                                blocksize=256 * 1024),
                                progress=lambda: writer.received)
        assert (cmd.failure, cmd.rc) == (None, 0)
        assert writer.received == BIG and writer.largest_block == 256 * 1024
        assert writer.peak_rss - baseline < 48 * 1024 * 1024
        assert filecmp.cmp(src, dest, shallow=False)
        src.unlink()

        baseline = rss_bytes()
        with open(dest, "rb") as fp:
            reader = MeasuringReader(fp)
            cmd = await run_command(conn, "downloadFile", download_args(
                reader, "back.bin", blocksize=256 * 1024), progress=lambda: reader.sent)
        assert (cmd.failure, cmd.rc) == (None, 0)
        assert reader.peak_rss - baseline < 48 * 1024 * 1024
        assert filecmp.cmp(dest, w.basedir / "b1" / "build" / "back.bin", shallow=False)


@pytest_twisted.ensureDeferred
async def test_upload_directory_with_unsafe_members_is_refused(
        master_side: MasterSide, tmp_path: Path, logged_errors: Any) -> None:
    # The worker archives whatever is in the directory; a symlink pointing outside the
    # destination must not be recreated by the master's extraction.
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        src = w.basedir / "b1" / "build" / "d"
        src.mkdir(parents=True)
        (src / "escape").symlink_to("/etc/passwd")
        dest = tmp_path / "out"
        writer = DirectoryWriter(str(dest), None, None, 0o600)

        cmd = await run_command(conn, "uploadDirectory", upload_args(
            writer, "d", blocksize=16384, compress=None))

        assert "link to an absolute path" in str(cmd.failure)
        assert not (dest / "escape").is_symlink()
        assert len(logged_errors.flush(tarfile.AbsoluteLinkError)) == 1


class FailingWriter(FileWriter):
    """A writer whose disk fills up after the first block."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.calls: list[str] = []

    def remote_write(self, data: bytes | str) -> None:
        self.calls.append("write")
        if len(self.calls) > 1:
            raise OSError(28, "No space left on device")
        super().remote_write(data)

    def remote_close(self) -> None:
        self.calls.append("close")
        super().remote_close()


@pytest_twisted.ensureDeferred
async def test_master_side_write_error_stops_the_upload_and_fails_the_command(
        master_side: MasterSide, tmp_path: Path, logged_errors: Any) -> None:
    worker = await master_side.add_worker("w1")
    async with master_side.run_worker("w1") as w:
        conn = await master_side.connected(worker, w)
        src = w.basedir / "b1" / "build" / "f.bin"
        src.parent.mkdir(parents=True)
        src.write_bytes(b"x" * 100_000)
        writer = FailingWriter(str(tmp_path / "f.bin"), None, None)

        cmd = await run_command(conn, "uploadFile", upload_args(writer, "f.bin", blocksize=10))

        assert "No space left on device" in str(cmd.failure)
        assert writer.calls.count("write") < 100  # the worker stopped sending early
        assert len(logged_errors.flush(OSError)) == 1
        writer.cancel()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith("buildbot-transfer-")]
