"""Master-side transfer objects (`buildbot.process.remotetransfer`) on their own."""

from __future__ import annotations

import io
import stat
import tarfile
from pathlib import Path

import pytest
import pytest_twisted

from buildbot.process.remotetransfer import (
    MAX_READ_BLOCK,
    DirectoryWriter,
    FileReader,
    FileWriter,
    StringFileReader,
    StringFileWriter,
)


def temp_files(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith("buildbot-transfer-")]


def test_file_writer_writes_next_to_the_destination_and_renames_on_close(
        tmp_path: Path) -> None:
    dest = tmp_path / "new" / "dir" / "out.bin"
    w = FileWriter(str(dest), None, 0o640)
    w.remote_write(b"abc")
    w.remote_write("déf")
    assert not dest.exists() and len(temp_files(dest.parent)) == 1
    w.remote_close()
    assert dest.read_bytes() == "abcdéf".encode()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o640
    assert temp_files(dest.parent) == []
    w.remote_utime((1000.0, 2000.0))
    assert (dest.stat().st_atime, dest.stat().st_mtime) == (1000.0, 2000.0)
    w.remote_close()  # a second close is harmless
    with pytest.raises(ValueError):
        w.remote_write(b"late")


def test_file_writer_keeps_at_most_maxsize_bytes(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    w = FileWriter(str(dest), 5, None)
    for block in (b"012", b"345", b"678"):
        w.remote_write(block)
    w.remote_close()
    assert dest.read_bytes() == b"01234"


def test_file_writer_replaces_an_existing_file(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.write_bytes(b"old")
    w = FileWriter(str(dest), None, None)
    w.remote_write(b"new")
    w.remote_close()
    assert dest.read_bytes() == b"new"


def test_cancel_drops_an_unfinished_upload_and_purge_the_result(tmp_path: Path) -> None:
    w = FileWriter(str(tmp_path / "a"), None, None)
    w.remote_write(b"partial")
    w.cancel()
    assert list(tmp_path.iterdir()) == []

    w = FileWriter(str(tmp_path / "b"), None, None)
    w.remote_write(b"done")
    w.remote_close()
    w.cancel()  # finished: cancel keeps it
    assert (tmp_path / "b").exists()
    w.purge()
    assert list(tmp_path.iterdir()) == []


def make_tar(members: dict[str, bytes], compress: str | None,
             links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=f"w:{compress or ''}") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buf.getvalue()


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("compress", [None, "gz", "bz2"])
async def test_directory_writer_unpacks_and_removes_the_archive(tmp_path: Path,
                                                                compress: str | None) -> None:
    data = make_tar({"a.txt": b"A", "sub/b.txt": b"B"}, compress)
    dest = tmp_path / "out"
    w = DirectoryWriter(str(dest), None, compress, 0o600)
    for i in range(0, len(data), 100):
        w.remote_write(data[i:i + 100])
    await w.remote_unpack()
    assert (dest / "a.txt").read_bytes() == b"A"
    assert (dest / "sub" / "b.txt").read_bytes() == b"B"
    assert temp_files(tmp_path) == []
    w.purge()
    assert not dest.exists()


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize(("members", "links"), [
    ({"../evil.txt": b"x"}, None),
    ({}, {"link": "/etc/passwd"}),
    ({}, {"link": "../../outside"}),
])
async def test_directory_writer_refuses_members_escaping_the_destination(
        tmp_path: Path, members: dict[str, bytes], links: dict[str, str] | None) -> None:
    dest = tmp_path / "inner" / "out"
    w = DirectoryWriter(str(dest), None, None, 0o600)
    w.remote_write(make_tar(members, None, links))
    with pytest.raises(tarfile.FilterError):
        await w.remote_unpack()
    assert sorted(p.name for p in tmp_path.rglob("*")) in (["inner"], ["inner", "out"])
    assert temp_files(tmp_path / "inner") == []


@pytest_twisted.ensureDeferred
async def test_directory_writer_puts_absolute_names_inside_the_destination(
        tmp_path: Path) -> None:
    dest = tmp_path / "out"
    w = DirectoryWriter(str(dest), None, None, 0o600)
    w.remote_write(make_tar({"/abs.txt": b"x"}, None))
    await w.remote_unpack()
    assert (dest / "abs.txt").read_bytes() == b"x"


def test_file_reader_reads_blocks_and_clamps_them_below_the_banana_limit(
        tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(b"x" * (MAX_READ_BLOCK + 10))
    fp = open(src, "rb")
    r = FileReader(fp)
    assert len(r.remote_read(1 << 20)) == MAX_READ_BLOCK
    assert r.remote_read(100) == b"x" * 10
    assert r.remote_read(100) == b""
    r.remote_close()
    assert fp.closed and r.remote_read(10) == b""


def test_string_reader_and_writer() -> None:
    r = StringFileReader("héllo")
    assert r.remote_read(3) + r.remote_read(10) == "héllo".encode()
    w = StringFileWriter()
    data = "héllo wörld".encode()
    for i in range(len(data)):  # split inside multi-byte characters
        w.remote_write(data[i:i + 1])
    w.remote_close()
    assert w.buffer == "héllo wörld"
