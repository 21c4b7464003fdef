"""`UpcloudLatentWorker`: a latent worker whose instance is an UpCloud server, cloned from
a storage template for each substantiation and deleted (with its disk) afterwards.

The server must start buildbot-worker by itself (through `hostconfig["user_data"]`, e.g. a
cloud-init script), connecting as this worker with its `password`. UpCloud's API (v1.3,
HTTP basic authentication with `api_username`/`api_password`) is called directly. Errors
of the API become a failed substantiation naming the status and UpCloud's error message;
waiting for the server to start or stop is bounded by `missing_timeout`.
"""

from __future__ import annotations

import hashlib
import json
import socket
from typing import Any

from twisted.logger import Logger

from buildbot import config
from buildbot.interfaces import LatentWorkerFailedToSubstantiate
from buildbot.util import asyncSleep, unicode2bytes
from buildbot.util.httpclientservice import HttpResponse, HTTPSession
from buildbot.worker.latent import AbstractLatentWorker

log = Logger()

# What the server gets when `hostconfig` leaves it out (4.3's public constants).
DEFAULT_OS_DISK_SIZE = 10  # GB
DEFAULT_MEMORY_AMOUNT = 512  # MB
DEFAULT_CORE_NUMBER = 1
DEFAULT_PLAN, DEFAULT_ZONE = "1xCPU-1GB", "de-fra1"
DEFAULT_BASE_URL = "https://api.upcloud.com/1.3"  # the API, unless `base_url` is given

POLL_INTERVAL = 1  # seconds between server state checks


async def _error_text(res: HttpResponse) -> str:
    """UpCloud's `{"error": {"error_code", "error_message"}}` as one line."""
    body = await res.content()
    try:
        err = json.loads(body)["error"]
        return f"{err['error_code']}: {err['error_message']}"
    except (ValueError, KeyError, TypeError):
        return body.decode("utf-8", "replace")[:200]


class UpcloudLatentWorker(AbstractLatentWorker):
    """`UpcloudLatentWorker(name, password=None, api_username=..., api_password=...,
    image=<template title>, hostconfig={zone, plan, hostname, user_data, ssh_keys,
    os_disk_size, core_number, memory_amount}, base_url=..., masterFQDN=None, ...)`."""

    instance: dict[str, Any] | None = None

    def checkConfig(self, name: str, password: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    api_username: Any = None, api_password: Any = None, image: Any = None,
                    hostconfig: Any = None, base_url: str = DEFAULT_BASE_URL,
                    masterFQDN: str | None = None, **kwargs: Any) -> None:
        if image is None or api_username is None or api_password is None:
            config.error("UpcloudLatentWorker: You need to specify at least an image name, "
                         "zone, api_username and api_password")
        super().checkConfig(name, password, **kwargs)

    async def reconfigService(self, name: str, password: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              zone: Any = None, api_username: Any = None,
                              api_password: Any = None, image: Any = None,
                              hostconfig: Any = None, base_url: str = DEFAULT_BASE_URL,
                              masterFQDN: str | None = None, **kwargs: Any) -> None:
        if password is None:
            password = self.getRandomPass()
        self.masterFQDN = masterFQDN or socket.getfqdn()
        self.image = image
        self.hostconfig = hostconfig or {}
        self.client = HTTPSession(self.master.httpservice, base_url,
                                  auth=(api_username, api_password),
                                  debug=kwargs.get("debug", False))
        self.masterhash = hashlib.sha1(unicode2bytes(self.master.name)).hexdigest()[:6]
        await super().reconfigService(name, password, **kwargs)

    def getContainerName(self) -> str:
        return f"buildbot-{self.workername}-{self.masterhash}".replace("_", "-")

    async def _resolve_image(self, image: str) -> str | None:
        """The UUID of the storage template titled `image` (None if there is none)."""
        res = await self.client.get("/storage/template")
        if res.code != 200:
            return None
        listing = await res.json()
        for template in listing["storages"]["storage"]:
            if template["title"] == image:
                return str(template["uuid"])
        return None

    def _server_request(self, image_uuid: str, hostconfig: dict[str, Any]) -> dict[str, Any]:
        name = self.getContainerName()
        plan = hostconfig.get("plan", DEFAULT_PLAN)
        server: dict[str, Any] = {
            "zone": hostconfig.get("zone", DEFAULT_ZONE),
            "title": name,
            "hostname": hostconfig.get("hostname", self.name),
            "user_data": hostconfig.get("user_data", ""),
            "login_user": {"username": "root",
                           "ssh_keys": {"ssh_key": hostconfig.get("ssh_keys", [])}},
            "password_delivery": "none",
            "storage_devices": {"storage_device": [{
                "action": "clone", "storage": image_uuid, "title": name,
                "size": hostconfig.get("os_disk_size", DEFAULT_OS_DISK_SIZE),
                "tier": "maxiops"}]},
            "plan": plan,
        }
        if plan == "custom":
            server["core_number"] = hostconfig.get("core_number", DEFAULT_CORE_NUMBER)
            server["memory_amount"] = hostconfig.get("memory_amount", DEFAULT_MEMORY_AMOUNT)
        return {"server": server}

    async def start_instance(self, build: Any) -> list[str]:
        if self.instance is not None:
            raise ValueError("instance active")
        image, hostconfig = await build.render([self.image, self.hostconfig])
        image_uuid = await self._resolve_image(image)
        if image_uuid is None:
            log.info("{cls} {name}: Instance creation failed: Cannot find template {image}",
                     cls=type(self).__name__, name=self.workername, image=image)
            raise LatentWorkerFailedToSubstantiate(self.getContainerName(), "resolving image")
        request = self._server_request(image_uuid, hostconfig)
        res = await self.client.post("/server", json=request)
        if res.code // 100 != 2:
            log.info("{cls} {name}: Instance creation failed: {code} {reason}",
                     cls=type(self).__name__, name=self.workername, code=res.code,
                     reason=await _error_text(res))
            self.failed_to_start(request["server"]["hostname"], "starting")
        server = (await res.json())["server"]
        server["Id"] = server["uuid"].split("-")[-1]
        self.instance = server
        await self._wait_for_state(("started",), "start")
        log.info("{cls} {name}: Instance {id} created", cls=type(self).__name__,
                 name=self.workername, id=server["Id"])
        # builds may need it to log in (4.3 also logs it; not done here: it is a secret)
        self.properties.setProperty("root_password", server.get("password"), "Worker")
        return [server["Id"], image]

    async def _state(self) -> str:
        assert self.instance is not None
        res = await self.client.get(f"/server/{self.instance['uuid']}")
        if res.code == 404:
            return "absent"
        return str((await res.json())["server"]["state"])

    async def _wait_for_state(self, wanted: tuple[str, ...], action: str) -> None:
        """Poll until the server is in one of `wanted`; fail after missing_timeout (4.3
        waits forever) or if the server vanished while starting."""
        deadline = self.clock.seconds() + (self.missing_timeout or 0)
        while True:
            state = await self._state()
            if state in wanted:
                return
            if state == "absent" or self.clock.seconds() > deadline:
                assert self.instance is not None
                raise LatentWorkerFailedToSubstantiate(
                    self.instance["Id"], f"server is {state} after trying to {action} it")
            await asyncSleep(POLL_INTERVAL, reactor=self.clock)

    async def stop_instance(self, fast: bool = False) -> None:
        server = self.instance
        if server is None:
            # nothing was started (a substantiation that failed early)
            return
        log.info("{cls} {name}: Stopping instance {id}...", cls=type(self).__name__,
                 name=self.workername, id=server["Id"])
        res = await self.client.post(f"/server/{server['uuid']}/stop",
                                     json={"stop_server": {"stop_type": "hard",
                                                           "timeout": "1"}})
        if res.code // 100 != 2:
            self.instance = None
            raise RuntimeError(f"{type(self).__name__} {self.workername} failed to stop "
                               f"instance {server['Id']}: {await _error_text(res)}")
        await self._wait_for_state(("stopped", "absent"), "stop")
        res = await self.client.delete(f"/server/{server['uuid']}?storages=1")
        self.instance = None
        if res.code // 100 != 2:
            raise RuntimeError(f"{type(self).__name__} {self.workername} failed to delete "
                               f"instance {server['Id']}: {await _error_text(res)}")
