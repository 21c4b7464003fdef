"""Master-side ends of the file transfer commands (the stock worker's upload/download protocol).

The worker calls these objects block by block, stop-and-wait: `remote_write(data)` for
uploads, `remote_read(maxlength)` for downloads. Every block goes straight to (or comes straight
from) disk, so a transfer of any size uses one block of memory. All are `pb.Referenceable`
so that the PB connection can pass them as they are; the msgpack and in-process connections
call the same `remote_*` methods.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from typing import IO, Any

from twisted.internet import defer
from twisted.spread import pb

# Banana (PB) refuses strings over 640 KiB; a read never returns more than this.
MAX_READ_BLOCK = 512 * 1024

_TEMP_PREFIX = "buildbot-transfer-"


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


class FileWriter(pb.Referenceable):
    """Receives an uploaded file into `destfile`.

    Data goes to a temporary file next to the destination, renamed onto it by `remote_close`
    (so readers never see a half-written file); `mode` (an int) is applied then. At most
    `maxsize` bytes are kept (None: no limit). Missing parent directories are created.
    """

    def __init__(self, destfile: str, maxsize: int | None, mode: int | None) -> None:
        self.destfile = os.path.abspath(destfile)
        self.mode = mode
        self.remaining = maxsize
        self.tmpname: str | None = None
        self.fp: IO[bytes] | None = None
        self._open_temp(os.path.dirname(self.destfile))

    def _open_temp(self, dirname: str) -> None:
        os.makedirs(dirname, exist_ok=True)
        fd, self.tmpname = tempfile.mkstemp(dir=dirname, prefix=_TEMP_PREFIX)
        self.fp = os.fdopen(fd, "wb")

    def remote_write(self, data: bytes | str) -> None:
        """Append one block (truncated to what `maxsize` still allows)."""
        if self.fp is None:
            raise ValueError(f"upload to {self.destfile} is already closed")
        data = _as_bytes(data)
        if self.remaining is not None:
            if len(data) > self.remaining:
                data = data[: self.remaining]
            self.remaining -= len(data)
        self.fp.write(data)

    def remote_utime(self, accessed_modified: tuple[float, float] | list[float]) -> None:
        """Set the destination's access and modification times (sent after `close`)."""
        atime, mtime = accessed_modified
        os.utime(self.destfile, (atime, mtime))

    def remote_close(self) -> None:
        """End of data: move the file into place."""
        if self.fp is None:
            return
        self.fp.close()
        self.fp = None
        assert self.tmpname is not None
        os.replace(self.tmpname, self.destfile)
        self.tmpname = None
        if self.mode is not None:
            os.chmod(self.destfile, self.mode)

    def remote_unpack(self) -> defer.Deferred[None]:
        """Only a directory upload (DirectoryWriter) is an archive to unpack."""
        raise NotImplementedError(f"{type(self).__name__} receives a file, not an archive")

    def cancel(self) -> None:
        """The transfer ended without `close`: drop what was received (called by the step)."""
        if self.fp is not None:
            self.fp.close()
            self.fp = None
            self.purge()

    def purge(self) -> None:
        """Remove the destination and any temporary file (the step failed)."""
        for path in (self.destfile, self.tmpname):
            if path and os.path.exists(path):
                os.unlink(path)


class DirectoryWriter(FileWriter):
    """Receives a tar archive of a worker directory and unpacks it into `destroot`.

    The archive is written next to `destroot` (not in the system temp dir, which may be
    memory-backed) and deleted after extraction. Extraction uses tar's "data" filter: members
    that would land outside `destroot`, links pointing out of it, and device files are refused.
    `compress` is None, "gz" or "bz2".
    """

    def __init__(self, destroot: str, maxsize: int | None, compress: str | None,
                 mode: int | None) -> None:
        self.destroot = os.path.abspath(destroot)
        self.compress = compress
        self.destfile = ""
        self.mode = mode
        self.remaining = maxsize
        self.tmpname = None
        self.fp = None
        self._open_temp(os.path.dirname(self.destroot))
        self.tarname = self.tmpname

    def remote_close(self) -> None:
        if self.fp is not None:
            self.fp.close()
            self.fp = None

    def remote_utime(self, accessed_modified: tuple[float, float] | list[float]) -> None:
        pass  # the worker never sends it for directories

    def remote_unpack(self) -> defer.Deferred[None]:
        """End of data: extract the archive (in a thread) and delete it."""
        from twisted.internet import threads

        self.remote_close()
        return threads.deferToThread(self._thd_unpack)

    def _thd_unpack(self) -> None:
        assert self.tarname is not None
        try:
            with tarfile.open(self.tarname, mode="r:*") as archive:
                archive.extractall(path=self.destroot, filter="data")
        finally:
            os.remove(self.tarname)
            self.tmpname = None

    def purge(self) -> None:
        if self.tmpname and os.path.exists(self.tmpname):
            os.unlink(self.tmpname)
        if os.path.isdir(self.destroot):
            shutil.rmtree(self.destroot)


class FileReader(pb.Referenceable):
    """Serves a download from the open binary file `fp` (closed by `remote_close`)."""

    def __init__(self, fp: IO[bytes] | None) -> None:
        self.fp = fp

    def remote_read(self, maxlength: int) -> bytes:
        """The next block, at most `maxlength` bytes; `b""` at the end."""
        if self.fp is None:
            return b""
        return _as_bytes(self.fp.read(min(maxlength, MAX_READ_BLOCK)))

    def remote_close(self) -> None:
        if self.fp is not None:
            self.fp.close()
            self.fp = None


class StringFileReader(FileReader):
    """Serves a download whose content is the string (or bytes) `s`."""

    def __init__(self, s: str | bytes) -> None:
        super().__init__(io.BytesIO(_as_bytes(s)))


class StringFileWriter(pb.Referenceable):
    """Receives an upload into memory; `buffer` is the text received (for small files)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    @property
    def buffer(self) -> str:
        return b"".join(self._chunks).decode("utf-8", "replace")

    def remote_write(self, data: bytes | str) -> None:
        self._chunks.append(_as_bytes(data))

    def remote_close(self) -> None:
        pass

    def remote_utime(self, accessed_modified: Any) -> None:
        pass

    def remote_unpack(self) -> None:
        """A string upload is never an archive (as in 4.3, asking is an error)."""
        raise NotImplementedError("StringFileWriter receives a file, not an archive")
