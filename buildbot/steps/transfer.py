"""File transfer steps between the master and the worker (the stock worker's upload/download commands).

Uploads stream block by block into a temporary file beside the destination on the master;
downloads read the master file block by block. A failed or interrupted transfer leaves no
partial file behind.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Sequence
from typing import Any

from twisted.logger import Logger

from buildbot import config
from buildbot.interfaces import WorkerSetupError
from buildbot.process import remotetransfer
from buildbot.process.buildstep import BuildStep
from buildbot.process.remotecommand import RemoteCommand
from buildbot.process.results import FAILURE, SKIPPED, SUCCESS
from buildbot.steps.trigger import sourcestamp_dict
from buildbot.steps.worker import CompositeStepMixin
from buildbot.util.deferred import gather
from buildbot.util.misc import flatten

log = Logger()


def makeStatusRemoteCommand(step: Any, remote_command: str, args: dict[str, Any]) -> RemoteCommand:
    """A transfer command whose output goes to the step's stdio log; a missing rc counts as
    success (the worker sends none when it stops early)."""
    cmd = RemoteCommand(remote_command, args, decodeRC={None: SUCCESS, 0: SUCCESS})
    cmd.useLog(step.stdio_log)
    return cmd


def _check_mode(mode: Any, message: str = "mode must be an integer or None") -> None:
    if not isinstance(mode, (int, type(None))):
        config.error(message)


def _check_compress(compress: Any) -> None:
    if compress not in (None, "gz", "bz2"):
        config.error("'compress' must be one of None, 'gz', or 'bz2'")


class _TransferBuildStep(BuildStep):
    """Common part of the transfer steps: run the command, clean up after failures."""

    renderables: Sequence[str] = ("workdir",)
    haltOnFailure = True
    flunkOnFailure = True
    stdio_log: Any = None

    def __init__(self, workdir: Any = None, **buildstep_kwargs: Any) -> None:
        super().__init__(**buildstep_kwargs)
        self.workdir = workdir

    async def runTransferCommand(self, cmd: RemoteCommand,
                                 writer: remotetransfer.FileWriter | None = None) -> int:
        """Run `cmd`; drop what `writer` received unless the transfer succeeded."""
        self.cmd = cmd
        try:
            await self.runCommand(cmd)
        except BaseException:
            # interrupted or worker lost: the worker may have closed the file cleanly
            if writer is not None:
                writer.cancel()
                writer.purge()
            raise
        if writer is not None:
            writer.cancel()  # no-op after a clean close
        result = cmd.results()
        if result >= FAILURE and writer is not None:
            writer.purge()
        return result

    async def _interrupt(self, reason: Any) -> None:
        # The reference names this log "interrupt" (not "cancelled"). Unlike the reference,
        # which forgets to mark the step stopped (the transfer then ends FAILURE), an
        # interrupted transfer ends CANCELLED like any other step.
        if self.stopped:
            return
        self.stopped = True
        if self.stepid is not None and self._running:
            await self.addCompleteLog("interrupt", str(reason))
        if self.cmd is not None:
            await self.cmd.interrupt(reason)

    def _add_upload_url(self, masterdest: str) -> Any:
        text = self.urlText if self.urlText is not None else \
            os.path.basename(os.path.normpath(masterdest))
        return self.addURL(text, self.url)

    def _check_keepstamp(self, keepstamp: bool) -> None:
        if keepstamp and self.workerVersionIsOlderThan("uploadFile", "2.13"):
            raise WorkerSetupError(
                f"This worker ({self.build.workername}) does not support preserving "
                f"timestamps. Please upgrade the worker.")

    url: Any = None
    urlText: Any = None
    keepstamp: bool = False
    glob: bool = False

    def _take_upload_options(self, masterdest: Any, maxsize: int | None, blocksize: int,
                             url: Any, urlText: Any, **options: Any) -> None:
        """What every upload step is given: the master destination, size limit and block
        size, the link to add; `options` (mode, compress, keepstamp, glob) are checked
        (mode and compress) and kept as attributes."""
        self.masterdest, self.maxsize, self.blocksize = masterdest, maxsize, blocksize
        self.url, self.urlText = url, urlText
        if "mode" in options:
            _check_mode(options["mode"])
        if "compress" in options:
            _check_compress(options["compress"])
        for name, value in options.items():
            setattr(self, name, value)

    async def _open_upload(self, *worker_commands: str) -> str:
        """Check the worker can run the upload, open the stdio log; the master destination
        with `~` expanded."""
        for command in worker_commands:
            self.checkWorkerHasCommand(command)
        self.stdio_log = await self.addLog("stdio")
        result: str = os.path.expanduser(self.masterdest)
        return result

    async def _upload_file(self, source: str, masterdest: str) -> int:
        step: Any = self
        writer = remotetransfer.FileWriter(masterdest, step.maxsize, step.mode)
        args = {"workdir": self.workdir, "writer": writer, "maxsize": step.maxsize,
                "blocksize": step.blocksize, "keepstamp": step.keepstamp, "workersrc": source}
        return await self.runTransferCommand(
            makeStatusRemoteCommand(self, "uploadFile", args), writer)

    async def _upload_directory(self, source: str, masterdest: str) -> int:
        step: Any = self
        writer = remotetransfer.DirectoryWriter(masterdest, step.maxsize, step.compress, 0o600)
        args = {"workdir": self.workdir, "writer": writer, "maxsize": step.maxsize,
                "blocksize": step.blocksize, "compress": step.compress, "workersrc": source}
        return await self.runTransferCommand(
            makeStatusRemoteCommand(self, "uploadDirectory", args), writer)

    async def _download(self, reader: remotetransfer.FileReader) -> int:
        step: Any = self
        args = {"maxsize": step.maxsize, "reader": reader, "blocksize": step.blocksize,
                "workdir": self.workdir, "mode": step.mode, "workerdest": step.workerdest}
        return await self.runTransferCommand(
            makeStatusRemoteCommand(self, "downloadFile", args))


def _need(*values: Any, count: int = 3) -> None:
    if any(v is None for v in values):
        raise TypeError(f"__init__() takes at least {count} arguments")


class FileUpload(_TransferBuildStep):
    """Upload the worker file `workersrc` (relative to workdir) to `masterdest` on the
    master, optionally truncated at `maxsize`, chmod-ed to `mode`, with its timestamps
    (`keepstamp`); `url` adds a link to the step."""

    name = "upload"
    renderables = ("masterdest", "url", "urlText", "workersrc")

    def __init__(self, workersrc: Any = None, masterdest: Any = None, workdir: Any = None,
                 maxsize: int | None = None, blocksize: int = 256 * 1024,
                 mode: int | None = None, keepstamp: bool = False, url: Any = None,
                 urlText: Any = None, **buildstep_kwargs: Any) -> None:
        _need(workersrc, masterdest)
        super().__init__(workdir=workdir, **buildstep_kwargs)
        self.workersrc = workersrc
        self._take_upload_options(masterdest, maxsize, blocksize, url, urlText, mode=mode,
                                  keepstamp=keepstamp)

    async def run(self) -> int:
        masterdest = await self._open_upload("uploadFile")
        source = self.workersrc
        log.info("FileUpload started, from worker {src!r} to master {dest!r}", src=source,
                 dest=self.hide_secrets(masterdest))
        if self.description is None:
            self.description = [f"uploading {os.path.basename(source)}"]
        if self.descriptionDone is None:
            self.descriptionDone = self.description
        if self.url is not None:
            text = self.urlText if self.urlText is not None else os.path.basename(masterdest)
            await self.addURL(text, self.url)
        self._check_keepstamp(self.keepstamp)
        return await self._upload_file(source, masterdest)


class DirectoryUpload(_TransferBuildStep):
    """Upload the worker directory `workersrc` into `masterdest` (as a tar archive,
    optionally compressed "gz" or "bz2", unpacked on the master)."""

    name = "upload"
    renderables = ("workersrc", "masterdest", "url", "urlText")

    def __init__(self, workersrc: Any = None, masterdest: Any = None, workdir: Any = None,
                 maxsize: int | None = None, blocksize: int = 16 * 1024,
                 compress: str | None = None, url: Any = None, urlText: Any = None,
                 **buildstep_kwargs: Any) -> None:
        _need(workersrc, masterdest)
        super().__init__(workdir=workdir, **buildstep_kwargs)
        self.workersrc = workersrc
        self._take_upload_options(masterdest, maxsize, blocksize, url, urlText,
                                  compress=compress)

    async def run(self) -> int:
        masterdest = await self._open_upload("uploadDirectory")
        source = self.workersrc
        log.info("DirectoryUpload started, from worker {src!r} to master {dest!r}", src=source,
                 dest=self.hide_secrets(masterdest))
        self.descriptionDone = f"uploading {os.path.basename(source)}"
        if self.url is not None:
            await self._add_upload_url(masterdest)
        return await self._upload_directory(source, masterdest)


class MultipleFileUpload(_TransferBuildStep, CompositeStepMixin):
    """Upload several worker files or directories (`workersrcs`, glob patterns with
    `glob=True`) into the master directory `masterdest`; stops at the first failure."""

    name = "upload"
    logEnviron = False
    renderables = ("workersrcs", "masterdest", "url", "urlText")

    def __init__(self, workersrcs: Any = None, masterdest: Any = None, workdir: Any = None,
                 maxsize: int | None = None, blocksize: int = 16 * 1024, glob: bool = False,
                 mode: int | None = None, compress: str | None = None, keepstamp: bool = False,
                 url: Any = None, urlText: Any = None, **buildstep_kwargs: Any) -> None:
        _need(workersrcs, masterdest)
        super().__init__(workdir=workdir, **buildstep_kwargs)
        self.workersrcs = workersrcs
        self._take_upload_options(masterdest, maxsize, blocksize, url, urlText, mode=mode,
                                  compress=compress, glob=glob, keepstamp=keepstamp)

    async def uploadFile(self, source: str, masterdest: str) -> int:
        return await self._upload_file(source, masterdest)

    async def uploadDirectory(self, source: str, masterdest: str) -> int:
        return await self._upload_directory(source, masterdest)

    async def startUpload(self, source: str, destdir: str) -> int:
        """Upload one source (file or directory, found by `stat`) into `destdir`."""
        masterdest = os.path.join(destdir, os.path.basename(source))
        cmd = makeStatusRemoteCommand(self, "stat", {"file": source, "workdir": self.workdir})
        await self.runCommand(cmd)
        if cmd.rc != 0:
            await self.addCompleteLog("stderr",
                                      f"File {self.workdir}/{source} not available at worker")
            return FAILURE
        mode = cmd.updates["stat"][-1][stat.ST_MODE]
        if stat.S_ISDIR(mode):
            result = await self.uploadDirectory(source, masterdest)
        elif stat.S_ISREG(mode):
            result = await self.uploadFile(source, masterdest)
        else:
            await self.addCompleteLog("stderr",
                                      f"{source} is neither a regular file, nor a directory")
            return FAILURE
        await self._maybe_await(self.uploadDone(result, source, masterdest))
        return result

    @staticmethod
    async def _maybe_await(value: Any) -> Any:
        from buildbot.util.deferred import maybe_await

        return await maybe_await(value)

    def uploadDone(self, result: int, source: str, masterdest: str) -> Any:
        """Hook for subclasses, after each upload."""

    async def allUploadsDone(self, result: int, sources: list[str], masterdest: str) -> None:
        """Hook for subclasses, after all uploads (adds the URL)."""
        if self.url is not None:
            await self._add_upload_url(masterdest)

    async def run(self) -> int:
        masterdest = await self._open_upload("uploadDirectory", "uploadFile", "stat")
        sources = self.workersrcs if isinstance(self.workersrcs, list) else [self.workersrcs]
        self._check_keepstamp(self.keepstamp)
        if not sources:
            return SKIPPED
        if self.glob:
            found = await gather(self.runGlob(os.path.join(self.workdir, source),
                                              abandonOnFailure=False) for source in sources)
            sources = [self.workerPathToMasterPath(p) for p in flatten(found)]
        log.info("MultipleFileUpload started, from worker {src!r} to master {dest!r}",
                 src=sources, dest=self.hide_secrets(masterdest))
        self.descriptionDone = ["uploading", str(len(sources)),
                                "file" if len(sources) == 1 else "files"]
        result = SKIPPED if not sources else SUCCESS
        for source in sources:
            if await self.startUpload(source, masterdest) == FAILURE:
                result = FAILURE
                break
        await self._maybe_await(self.allUploadsDone(result, sources, masterdest))
        return result


class FileDownload(_TransferBuildStep):
    """Download the master file `mastersrc` to `workerdest` on the worker."""

    name = "download"
    renderables = ("mastersrc", "workerdest")

    def __init__(self, mastersrc: Any, workerdest: Any = None, workdir: Any = None,
                 maxsize: int | None = None, blocksize: int = 16 * 1024,
                 mode: int | None = None, **buildstep_kwargs: Any) -> None:
        _need(workerdest)
        super().__init__(workdir=workdir, **buildstep_kwargs)
        self.mastersrc = mastersrc
        self.workerdest = workerdest
        self.maxsize = maxsize
        self.blocksize = blocksize
        _check_mode(mode)
        self.mode = mode

    async def run(self) -> int:
        self.checkWorkerHasCommand("downloadFile")
        self.stdio_log = await self.addLog("stdio")
        source = os.path.expanduser(self.mastersrc)
        log.info("FileDownload started, from master {src!r} to worker {dest!r}",
                 src=self.hide_secrets(source), dest=self.hide_secrets(self.workerdest))
        self.descriptionDone = ["downloading to", os.path.basename(self.workerdest)]
        try:
            fp = open(source, "rb")  # noqa: SIM115, ASYNC230 (closed by remote_close)
        except OSError:
            await self.addCompleteLog("stderr", f"File {source!r} not available at master")
            return FAILURE
        reader = remotetransfer.FileReader(fp)
        try:
            return await self._download(reader)
        finally:
            reader.remote_close()



class StringDownload(_TransferBuildStep):
    """Write the (rendered) string `s` to `workerdest` on the worker."""

    name = "string_download"
    renderables = ("workerdest", "s")

    def __init__(self, s: Any, workerdest: Any = None, workdir: Any = None,
                 maxsize: int | None = None, blocksize: int = 16 * 1024,
                 mode: int | None = None, **buildstep_kwargs: Any) -> None:
        _need(workerdest)
        _check_mode(mode, f"StringDownload step's mode must be an integer or None, got '{mode}'")
        super().__init__(workdir=workdir, **buildstep_kwargs)
        self.s = s
        self.workerdest = workerdest
        self.maxsize = maxsize
        self.blocksize = blocksize
        self.mode = mode

    async def run(self) -> int:
        self.checkWorkerHasCommand("downloadFile")
        self.stdio_log = await self.addLog("stdio")
        log.info("StringDownload started, from master to worker {dest!r}",
                 dest=self.hide_secrets(self.workerdest))
        self.descriptionDone = ["downloading to", os.path.basename(self.workerdest)]
        return await self._download(remotetransfer.StringFileReader(self.s))


class JSONStringDownload(StringDownload):
    """Write `o` (rendered) as JSON to `workerdest`."""

    name = "json_download"

    def __init__(self, o: Any, workerdest: Any = None, **buildstep_kwargs: Any) -> None:
        _need(workerdest)
        buildstep_kwargs.pop("s", None)
        super().__init__(s=o, workerdest=workerdest, **buildstep_kwargs)

    async def run(self) -> int:
        self.s = json.dumps(self.s)
        return await super().run()


class JSONPropertiesDownload(StringDownload):
    """Write the build's properties and source stamps as JSON to `workerdest`."""

    name = "json_properties_download"

    def __init__(self, workerdest: Any = None, **buildstep_kwargs: Any) -> None:
        _need(workerdest, count=2)
        buildstep_kwargs.pop("s", None)
        super().__init__(s=None, workerdest=workerdest, **buildstep_kwargs)

    async def run(self) -> int:
        props = {key: value for key, value, _ in self.build.getProperties().asList()}
        self.s = json.dumps({
            "properties": props,
            "sourcestamps": [sourcestamp_dict(ss) for ss in self.build.getAllSourceStamps()],
        })
        return await super().run()


__all__ = [
    "DirectoryUpload", "FileDownload", "FileUpload", "JSONPropertiesDownload",
    "JSONStringDownload", "MultipleFileUpload", "StringDownload", "makeStatusRemoteCommand",
]
