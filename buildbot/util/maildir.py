"""`MaildirService`: calls `messageReceived(filename)` for each new message in a maildir's
`new/` directory (filename relative to it).

New files are noticed through inotify where the platform has it (Linux) and by a scan every
`pollInterval` seconds otherwise; the directory is also scanned at start, so messages
delivered while the master was down are read too.
"""

from __future__ import annotations

import os
from typing import IO, Any

from twisted.internet import defer, task
from twisted.logger import Logger
from twisted.python import filepath

from buildbot.util.deferred import maybe_await
from buildbot.util.service import BuildbotService

log = Logger()


class NoSuchMaildir(Exception):
    """The directory has no `new/` or `cur/` subdirectory."""


class MaildirService(BuildbotService):
    """Watches `basedir`/new; subclasses implement `messageReceived(filename)` and usually
    call `moveToCurDir(filename)` to take the message out of `new/`."""

    pollInterval = 10  # seconds between scans when inotify is unavailable
    name: str | None = "MaildirService"

    def __init__(self, basedir: str | None = None) -> None:
        super().__init__()
        self.basedir: str | None = None
        if basedir:
            self.setBasedir(basedir)
        self.files: list[str] = []
        self._notifier: Any = None
        self._loop: task.LoopingCall | None = None
        self._scan_lock = defer.DeferredLock()

    def setBasedir(self, basedir: str) -> None:
        """Set the maildir (users that learn it late call this before start)."""
        self.basedir = basedir
        self.newdir = os.path.join(basedir, "new")
        self.curdir = os.path.join(basedir, "cur")

    async def start(self) -> None:
        if self.basedir is None or not os.path.isdir(self.newdir) or \
                not os.path.isdir(self.curdir):
            raise NoSuchMaildir(f"invalid maildir '{self.basedir}'")
        if not self._watch_with_inotify():
            self._loop = task.LoopingCall(self.poll)
            self._loop.clock = self.master.reactor if self.master is not None else \
                self._global_reactor()
            self._loop.start(self.pollInterval, now=False)
        await super().start()
        await self.poll()

    @staticmethod
    def _global_reactor() -> Any:
        from twisted.internet import reactor

        return reactor

    def _watch_with_inotify(self) -> bool:
        try:
            from twisted.internet import inotify
        except ImportError:  # not Linux
            return False
        try:
            notifier = inotify.INotify()
            notifier.startReading()
            notifier.watch(filepath.FilePath(self.newdir),
                           mask=inotify.IN_CLOSE_WRITE | inotify.IN_MOVED_TO,
                           callbacks=[lambda *_: self.dnotify_callback()])
        except OSError as e:
            log.info("inotify unavailable ({err}); polling maildir '{dir}' every {n} s",
                     err=e, dir=self.basedir, n=self.pollInterval)
            return False
        self._notifier = notifier
        return True

    async def stop(self) -> None:
        if self._notifier is not None:
            self._notifier.loseConnection()
            self._notifier = None
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None
        await self._scan_lock.acquire()  # a scan in progress finishes first
        self._scan_lock.release()
        await super().stop()

    def dnotify_callback(self) -> None:
        """The directory watch saw a new message: scan `new/` now (4.3's name, from when the
        watch was dnotify; here it is inotify). Scans are serialised, so a burst of events
        costs one scan each, never two at once."""
        log.debug("maildir '{dir}' changed, scanning it", dir=self.basedir)
        self.poll()

    def poll(self) -> defer.Deferred[None]:
        """Scan `new/` and hand each file not seen before to `messageReceived`."""
        return self._scan_lock.run(lambda: defer.ensureDeferred(self._scan()))

    async def _scan(self) -> None:
        try:
            present = set(os.listdir(self.newdir))
            self.files = [f for f in self.files if f in present]
            fresh = sorted(present.difference(self.files))
            self.files.extend(fresh)
            for filename in fresh:
                try:
                    await maybe_await(self.messageReceived(filename))
                except Exception:  # noqa: BLE001 - one bad mail must not stop the rest
                    log.failure("while reading '{f}' from maildir '{dir}':", f=filename,
                                dir=self.basedir)
        except Exception:  # noqa: BLE001 - the next scan retries
            log.failure("while polling maildir '{dir}':", dir=self.basedir)

    def moveToCurDir(self, filename: str) -> IO[str]:
        """Move `new/<filename>` to `cur/` and return it opened for reading (opened first,
        so that a cleaner removing it from cur/ cannot race us)."""
        src = os.path.join(self.newdir, filename)
        f = open(src, encoding="utf-8")  # noqa: SIM115 (the caller closes it)
        os.rename(src, os.path.join(self.curdir, filename))
        return f

    def messageReceived(self, filename: str) -> Any:
        raise NotImplementedError


# The reference's optional dnotify module (Linux directory notification); this master uses
# inotify or polling, never dnotify.
dnotify = None
