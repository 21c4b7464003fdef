"""`LibVirtWorker`: a latent worker whose instance is a libvirt domain (a VM), through the
libvirt Python binding (an optional dependency: `pip install libvirt-python`).

Either `xml` (a domain definition, started as a transient domain) or a defined domain named
like the worker, which is started after its metadata was set to
`<auth username=... password=... master=.../>` (namespace http://buildbot.net/) so that the
guest can configure its worker. With `base_image`, `hd_image` is first made a copy-on-write
clone of it (`qemu-img create -b`) and removed when the instance stops.

libvirt calls block: each URI's calls run, in order, on one thread of their own, which
keeps the connection (reopened after an error). libvirt's errors fail the substantiation
with the libvirt message.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

from twisted.internet import threads
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

from buildbot import config
from buildbot.interfaces import LatentWorkerFailedToSubstantiate
from buildbot.util import runprocess
from buildbot.util.internal import internal_class, internal_function
from buildbot.worker.latent import TypeSettingsLatentWorker

try:
    import libvirt
except ImportError:  # optional: the config error below names the package
    libvirt = None

log = Logger()

# 4.3 drives libvirt from its own queue-fed threads; here blocking libvirt calls go to a
# dedicated Twisted thread pool owned by each worker, so these names have no counterpart.
_WHY = "libvirt calls run in a Twisted thread pool owned by each LibVirtWorker"
ThreadWithQueue = internal_class(__name__, "ThreadWithQueue", _WHY)
ServerThreadPool = internal_class(__name__, "ServerThreadPool", _WHY)
handle_connect_close = internal_function(__name__, "handle_connect_close", _WHY)
threadpool = internal_function(__name__, "threadpool", _WHY)


class Connection:
    """`util.Connection(uri)`: kept for configurations written for older versions."""

    def __init__(self, uri: str) -> None:
        self.uri = uri


class _UriThread:
    """One thread running the calls for one libvirt URI, holding its connection."""

    def __init__(self, uri: str, reactor: Any) -> None:
        self.uri = uri
        self.conn: Any = None
        self._reactor = reactor
        self._pool = ThreadPool(1, 1, name=f"libvirt {uri}")
        self._pool.start()

    def run(self, fn: Callable[[Any], Any]) -> Any:
        return threads.deferToThreadPool(self._reactor, self._pool, self._call, fn)

    def _call(self, fn: Callable[[Any], Any]) -> Any:
        if self.conn is None:
            log.info("Connecting to {uri}", uri=self.uri)
            self.conn = libvirt.open(self.uri)
        try:
            return fn(self.conn)
        except libvirt.libvirtError:
            # a broken connection fails every later call: start afresh next time
            self._close()
            raise

    def _close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()
            except libvirt.libvirtError:
                pass

    def stop(self) -> Any:
        d = threads.deferToThreadPool(self._reactor, self._pool, self._close)
        d.addBoth(lambda _: self._pool.stop())
        return d


class _WorkerCalls:
    """What `LibVirtWorker.pool` gives: 4.3's `do(uri, func, *args, **kwargs)`."""

    def __init__(self, worker: LibVirtWorker) -> None:
        self._worker = worker

    def do(self, uri: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self._worker._libvirt(lambda conn: func(*args, **kwargs), uri)


class LibVirtWorker(TypeSettingsLatentWorker):
    """`LibVirtWorker(name, password, hd_image=None, base_image=None, uri="system:///",
    xml=None, masterFQDN=None, **latent worker options)`."""

    metadata = '<auth username="{}" password="{}" master="{}"/>'
    ns = "http://buildbot.net/"
    metakey = "buildbot"

    def __init__(self, name: str, password: Any, *args: Any, **kwargs: Any) -> None:
        self._threads: dict[str, _UriThread] = {}  # a call thread per libvirt URI
        super().__init__(name, password, *args, **kwargs)

    def _check_type(self, name: str, password: Any,
                    hd_image: Any = None, base_image: Any = None, uri: str = "system:///",
                    xml: str | None = None, masterFQDN: str | None = None,
                    **kwargs: Any) -> None:
        self._check_common(name, password, **kwargs)
        if libvirt is None:
            config.error("The python module 'libvirt' is needed to use a LibVirtWorker")

    async def _configure_type(self, name: str, password: Any,
                              hd_image: Any = None,
                              base_image: Any = None, uri: str = "system:///",
                              xml: str | None = None, masterFQDN: str | None = None,
                              **kwargs: Any) -> None:
        await self._configure_common(name, password, **kwargs)
        # threads of a URI no longer configured close their connection
        for old in [u for u in self._threads if u != uri]:
            await self._threads.pop(old).stop()
        self.uri = uri
        self.image = hd_image
        self.base_image = base_image
        self.xml = xml
        self.masterFQDN = masterFQDN or socket.getfqdn()
        self.cheap_copy = True
        self.graceful_shutdown = False

    def _libvirt(self, fn: Callable[[Any], Any], uri: str | None = None) -> Any:
        """Run `fn(connection)` on the thread of `uri` (default: the worker's); a Deferred
        of its result."""
        uri = self.uri if uri is None else uri
        thread = self._threads.get(uri)
        if thread is None:
            thread = self._threads[uri] = _UriThread(uri, self.master.reactor)
        return thread.run(fn)

    @property
    def pool(self) -> _WorkerCalls:
        """4.3's queue of libvirt calls: `pool.do(uri, func, *args, **kwargs)` runs
        `func(*args, **kwargs)` on the thread of that URI, in order, and returns a
        Deferred of its result."""
        return _WorkerCalls(self)

    def _domain_or_none(self, conn: Any) -> Any:
        try:
            return conn.lookupByName(self.workername)
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise

    async def _running_domain(self) -> Any:
        """The worker's domain if it is running (has an id), else None."""
        def find(conn: Any) -> Any:
            domain = self._domain_or_none(conn)
            return domain if domain is not None and domain.ID() != -1 else None
        return await self._libvirt(find)

    async def _prepare_base_image(self) -> None:
        """Make hd_image a fresh (copy-on-write, unless cheap_copy is off) copy of
        base_image."""
        if not self.base_image:
            return
        if self.cheap_copy:
            argv = ["qemu-img", "create", "-o", "backing_fmt=qcow2", "-b", self.base_image,
                    "-f", "qcow2", self.image]
        else:
            argv = ["cp", self.base_image, self.image]
        log.info("Cloning base image: {argv}", argv=argv)
        rc = await runprocess.run_process(self.master.reactor, argv, collect_stdout=False,
                                          collect_stderr=False)
        if rc != 0:
            raise LatentWorkerFailedToSubstantiate(f"Failed to clone image (rc={rc})")

    async def start_instance(self, build: Any) -> bool:
        try:
            running = await self._running_domain()
        except Exception as e:
            raise LatentWorkerFailedToSubstantiate(
                f"{self}: Got error while retrieving domain ID: {e}") from e
        if running is not None:
            raise LatentWorkerFailedToSubstantiate(
                f"{self}: Cannot start_instance as it's already active")
        await self._prepare_base_image()
        try:
            if self.xml:
                await self._libvirt(lambda conn: conn.createXML(self.xml, 0))
            else:
                await self._libvirt(self._start_defined_domain)
        except Exception as e:
            raise LatentWorkerFailedToSubstantiate(
                f"{self}: Got error while starting VM: {e}") from e
        return True

    def _start_defined_domain(self, conn: Any) -> None:
        domain = conn.lookupByName(self.workername)
        # the guest reads who to connect as from its metadata
        domain.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT,
                           self.metadata.format(self.workername, self.password,
                                                self.masterFQDN),
                           self.metakey, self.ns, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        domain.create()

    async def stop_instance(self, fast: bool = False) -> None:
        domain = await self._running_domain()
        if domain is None:
            log.info("{w}: Domain is unexpectedly not running", w=self)
            return
        if self.graceful_shutdown and not fast:
            log.info("Graceful shutdown chosen for {name}", name=self.workername)
            try:
                await self._libvirt(lambda conn: domain.shutdown())
            except Exception as e:
                log.info("{w}: Graceful shutdown failed ({e}). Force destroying domain",
                         w=self, e=e)
                await self._libvirt(lambda conn: domain.destroy())
        else:
            await self._libvirt(lambda conn: domain.destroy())
        if self.base_image:
            log.info("{w}: Removing image {image}", w=self, image=self.image)
            os.remove(self.image)

    async def stop(self) -> None:
        await super().stop()
        threads_, self._threads = list(self._threads.values()), {}
        for thread in threads_:
            await thread.stop()
