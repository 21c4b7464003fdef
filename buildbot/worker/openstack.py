"""`OpenStackLatentWorker`: a latent worker whose instance is an OpenStack Nova server,
through python-novaclient and keystoneauth1 (optional dependencies).

The server boots `image` (name or id) or `block_devices` (Horizon-like mappings, volume
sizes found from their source when not given) with `flavor` (name or id), `meta` (plus
`BUILDBOT:instance`, the master's hash, used to find servers a previous master left
behind) and `nova_args` (more `servers.create` arguments, e.g. `userdata`, `key_name`).
The image must start buildbot-worker and connect as this worker.

novaclient blocks: its calls run in threads; waiting for the server to leave BUILD polls
every `_poll_resolution` seconds in the reactor and gives up after `missing_timeout`
(4.3 waits without limit). Nova's errors fail the substantiation with their message.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any, TypeVar

from twisted.internet import threads
from twisted.logger import Logger

from buildbot import config
from buildbot.interfaces import LatentWorkerFailedToSubstantiate
from buildbot.util import asyncSleep, unicode2bytes
from buildbot.util.latent import CompatibleLatentWorkerMixin
from buildbot.worker.latent import AbstractLatentWorker

try:
    from keystoneauth1 import loading, session
    from novaclient import client
    from novaclient.exceptions import ClientException, NotFound
except ImportError:  # optional: the config errors below name the packages
    client = None  # type: ignore[assignment, unused-ignore]  # placeholder while the optional library is missing
    loading = session = None  # type: ignore[assignment, unused-ignore]  # placeholder while the optional library is missing
    NotFound = ClientException = Exception

log = Logger()
T = TypeVar("T")

ACTIVE = "ACTIVE"
BUILD = "BUILD"
DELETED = "DELETED"
UNKNOWN = "UNKNOWN"

GIB = 1024 ** 3


class OpenStackLatentWorker(CompatibleLatentWorkerMixin, AbstractLatentWorker):
    """`OpenStackLatentWorker(name, password, flavor, os_username=None,
    os_password=None, os_tenant_name=None, os_auth_url=None, os_user_domain=None,
    os_project_domain=None, os_auth_args=None, block_devices=None, region=None,
    image=None, meta=None, nova_args=None, client_version="2", ...)`."""

    instance: Any = None
    _poll_resolution: float = 5  # seconds; tests make it short

    def checkConfig(self, name: str, password: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    flavor: Any, os_username: Any = None, os_password: Any = None,
                    os_tenant_name: Any = None, os_auth_url: Any = None,
                    os_user_domain: Any = None, os_project_domain: Any = None,
                    os_auth_args: dict[str, Any] | None = None, block_devices: Any = None,
                    region: str | None = None, image: Any = None, meta: Any = None,
                    nova_args: Any = None, client_version: str = "2",
                    **kwargs: Any) -> None:
        if client is None:
            config.error("The python module 'novaclient' is needed  to use a "
                         "OpenStackLatentWorker. Please install 'python-novaclient' package.")
        if loading is None or session is None:
            config.error("The python module 'keystoneauth1' is needed to use a "
                         "OpenStackLatentWorker. Please install the 'keystoneauth1' package.")
        if block_devices is None and image is None:
            raise ValueError("One of block_devices or image must be given")
        if os_auth_args is not None:
            if os_auth_args.get("auth_url") is None:
                config.error("Missing 'auth_url' from os_auth_args for "
                             "OpenStackLatentWorker")
        else:
            if os_auth_url is None:
                config.error("Missing os_auth_url OpenStackLatentWorker and os_auth_args "
                             "not provided.")
            if os_username is None or os_password is None:
                config.error("Missing os_username / os_password for OpenStackLatentWorker "
                             "and os_auth_args not provided.")
        super().checkConfig(name, password, **kwargs)

    async def reconfigService(self, name: str, password: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              flavor: Any, os_username: Any = None, os_password: Any = None,
                              os_tenant_name: Any = None, os_auth_url: Any = None,
                              os_user_domain: Any = None, os_project_domain: Any = None,
                              os_auth_args: dict[str, Any] | None = None,
                              block_devices: Any = None, region: str | None = None,
                              image: Any = None, meta: Any = None, nova_args: Any = None,
                              client_version: str = "2", **kwargs: Any) -> None:
        await super().reconfigService(name, password, **kwargs)
        if os_auth_args is None:
            optional = {"project_name": os_tenant_name, "user_domain_name": os_user_domain,
                        "project_domain_name": os_project_domain}
            os_auth_args = {"auth_url": os_auth_url, "username": os_username,
                            "password": os_password,
                            **{k: v for k, v in optional.items() if v is not None}}
        self.flavor = flavor
        self.client_version = client_version
        if client is not None:
            auth_args = dict(await self.renderSecrets(os_auth_args))
            self.novaclient = self._constructClient(client_version, auth_args)
            if region is not None:
                self.novaclient.client.region_name = region
        self.block_devices = [self._parseBlockDevice(bd) for bd in block_devices] \
            if block_devices is not None else None
        self.image = image
        self.meta = meta
        self.nova_args = nova_args if nova_args is not None else {}
        self.masterhash = hashlib.sha1(unicode2bytes(self.master.name)).hexdigest()[:6]

    def _constructClient(self, client_version: str, auth_args: dict[str, Any]) -> Any:
        """A novaclient authenticating with keystoneauth's `auth_type` plugin
        ("password" unless auth_args say otherwise)."""
        plugin: Any = loading.get_plugin_loader(auth_args.pop("auth_type", "password"))
        auth = plugin.load_from_options(**auth_args)
        return client.Client(client_version, session=session.Session(auth=auth))

    def _parseBlockDevice(self, block_device: dict[str, Any]) -> dict[str, Any]:
        """novaclient's block_device_mapping_v2 entry for a Horizon-like description
        (`uuid` required; volume_size may stay None: found at start)."""
        return {
            "device_name": block_device.get("device_name", "vda"),
            "source_type": block_device.get("source_type", "image"),
            "destination_type": block_device.get("destination_type", "volume"),
            "delete_on_termination": bool(block_device.get("delete_on_termination", True)),
            "uuid": block_device["uuid"],
            "boot_index": int(block_device.get("boot_index", 0)),
            "volume_size": block_device.get("volume_size"),
        }

    # -- novaclient calls (blocking: run in a thread) -------------------------------------
    async def _nova(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await threads.deferToThread(fn, *args, **kwargs)

    def _determineVolumeSize(self, source_type: str, source_uuid: str) -> int | None:
        """The smallest volume (GiB) holding the source."""
        nova = self.novaclient
        if source_type == "image":
            image = nova.glance.get(source_uuid)
            size = getattr(image, "OS-EXT-IMG-SIZE:size", None)
            return math.ceil(size / GIB) if size is not None else None
        if source_type == "volume":
            return int(nova.volumes.get(source_uuid).size)
        if source_type == "snapshot":
            return int(nova.volume_snapshots.get(source_uuid).size)
        raise ValueError(f"The source type '{source_type}' for UUID '{source_uuid}' is "
                         "unknown")

    async def _renderBlockDevice(self, block_device: dict[str, Any], build: Any
                                 ) -> dict[str, Any]:
        rendered = dict(await build.render(block_device))
        if rendered["volume_size"] is None:
            rendered["volume_size"] = await self._nova(
                self._determineVolumeSize, rendered["source_type"], rendered["uuid"])
        return rendered

    async def _getImage(self, build: Any) -> str | None:
        name = await build.render(self.image)
        if name is None:  # booting from block devices
            return None

        def find() -> str:
            try:
                return str(self.novaclient.glance.find_image(name).id)  # by name or id
            except NotFound as e:
                raise ValueError(f"Cannot find OpenStack image {name}") from e
        return await self._nova(find)

    async def _getFlavor(self, build: Any) -> Any:
        wanted = await build.render(self.flavor)
        flavors = await self._nova(self.novaclient.flavors.list)
        by_name = {f.name: f.id for f in flavors}
        return by_name.get(wanted, wanted)

    async def renderWorkerProps(self, build: Any) -> Any:
        image = await self._getImage(build)
        flavor = await self._getFlavor(build)
        nova_args = await build.render(self.nova_args)
        meta = dict(await build.render(self.meta) or {})
        meta["BUILDBOT:instance"] = self.masterhash
        block_devices = None
        if self.block_devices is not None:
            block_devices = [await self._renderBlockDevice(bd, build)
                             for bd in self.block_devices]
        return (image, flavor, block_devices, nova_args, meta)

    # -- the latent worker ---------------------------------------------------------------
    async def start_instance(self, build: Any) -> list[Any]:
        if self.instance is not None:
            raise ValueError("instance active")
        try:
            image, flavor, block_devices, nova_args, meta = \
                await self.renderWorkerPropsOnStart(build)
            # servers a previous master left behind under our name go first
            await self._nova(self._thd_delete, None)
            server = await self._nova(self._thd_create, image, flavor, block_devices,
                                      nova_args, meta)
            self.instance = server
            log.info("{cls} {name} starting instance {id} (image {image})",
                     cls=type(self).__name__, name=self.workername, id=server.id, image=image)
            waited = await self._wait_while_building()
        except ClientException as e:
            raise LatentWorkerFailedToSubstantiate(
                self.name, f"OpenStack error: {e}") from e
        minutes, seconds = divmod(int(waited), 60)
        return [self.instance.id, image, f"{minutes // 60:02d}:{minutes % 60:02d}:{seconds:02d}"]

    def _thd_create(self, image: str | None, flavor: Any, block_devices: Any,
                    nova_args: dict[str, Any], meta: dict[str, Any]) -> Any:
        created = self.novaclient.servers.create(
            self.workername, image, flavor, meta=meta, block_device_mapping_v2=block_devices,
            **nova_args)
        # the answer to create has no status yet: read the server back
        try:
            return self.novaclient.servers.get(created.id)
        except NotFound as e:
            log.info("{cls} {name} instance {id} never found", cls=type(self).__name__,
                     name=self.workername, id=created.id)
            raise LatentWorkerFailedToSubstantiate(created.id, BUILD) from e

    async def _wait_while_building(self) -> float:
        waited = 0.0
        while self.instance.status.startswith(BUILD):
            if self.missing_timeout and waited >= self.missing_timeout:
                raise LatentWorkerFailedToSubstantiate(
                    self.instance.id, f"still {self.instance.status} after {waited:.0f} s")
            await asyncSleep(self._poll_resolution, reactor=self.clock)
            waited += self._poll_resolution
            try:
                self.instance = await self._nova(self.novaclient.servers.get,
                                                 self.instance.id)
            except NotFound as e:
                log.info("{cls} {name} instance {id} went missing", cls=type(self).__name__,
                         name=self.workername, id=self.instance.id)
                raise LatentWorkerFailedToSubstantiate(self.instance.id,
                                                       self.instance.status) from e
        if self.instance.status != ACTIVE:
            self.failed_to_start(self.instance.id, self.instance.status)
        log.info("{cls} {name} instance {id} ({server}) started in about {s:.0f} seconds",
                 cls=type(self).__name__, name=self.workername, id=self.instance.id,
                 server=self.instance.name, s=waited)
        return waited

    async def stop_instance(self, fast: bool = False) -> None:
        instance, self.instance = self.instance, None
        self.resetWorkerPropsOnStop()
        await self._nova(self._thd_delete, instance)

    def _thd_delete(self, instance: Any) -> None:
        """Delete `instance`, or (None) every server named like us that this master
        started."""
        try:
            if instance is None:
                servers = [s for s in self.novaclient.servers.findall(name=self.name)
                           if s.metadata.get("BUILDBOT:instance", "") == self.masterhash]
            else:
                servers = [self.novaclient.servers.get(instance.id)]
        except NotFound:
            log.info("{cls} {name} instance already terminated", cls=type(self).__name__,
                     name=self.workername)
            return
        for server in servers:
            if server.status not in (DELETED, UNKNOWN):
                server.delete()
                log.info("{cls} {name} terminating instance {id} ({server})",
                         cls=type(self).__name__, name=self.workername, id=server.id,
                         server=server.name)
