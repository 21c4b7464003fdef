"""`DockerLatentWorker`: a latent worker whose instance is a Docker container.

The container runs an image with buildbot-worker installed (for example
`buildbot/buildbot-worker`) and finds the master through its environment: `BUILDMASTER`,
`BUILDMASTER_PORT`, `BUILDMASTER_PROTOCOL`, `WORKERNAME`, `WORKERPASS`. The daemon is
reached through the Engine API (`docker_api.DockerClient`: unix socket or TCP), so the
`docker` Python package is not needed.
"""

from __future__ import annotations

import hashlib
import socket
from typing import Any

from twisted.logger import Logger

from buildbot import config
from buildbot.interfaces import LatentWorkerCannotSubstantiate, LatentWorkerFailedToSubstantiate
from buildbot.util.misc import unicode2bytes
from buildbot.worker.docker_api import (
    DockerAPIError,
    DockerClient,
    NotFound,
    dockerfile_context,
    host_config,
    unknown_host_config_keys,
)
from buildbot.worker.latent import AbstractLatentWorker, CompatibleLatentWorkerMixin

log = Logger()

MSGPACK = "msgpack_experimental_v7"


def _renderable(value: Any) -> bool:
    return hasattr(value, "getRenderingFor")


class DockerBaseWorker(AbstractLatentWorker):
    """What container-based latent workers share: image, master address, environment."""

    def checkConfig(self, name: str, password: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    image: Any = None, masterFQDN: str | None = None,
                    master_protocol: str = "pb", **kwargs: Any) -> None:
        # Starting a container is quick: by default one container per build.
        kwargs.setdefault("build_wait_timeout", 0)
        if image is not None and not isinstance(image, str) and not _renderable(image):
            config.error("image must be a string")
        if master_protocol not in ("pb", MSGPACK):
            config.error(f"worker '{name}': master_protocol must be 'pb' or '{MSGPACK}'")
        super().checkConfig(name, password, **kwargs)

    async def reconfigService(self, name: str, password: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              image: Any = None, masterFQDN: str | None = None,
                              master_protocol: str = "pb", **kwargs: Any) -> None:
        kwargs.setdefault("build_wait_timeout", 0)
        if password is None:
            password = self.getRandomPass()
        self.masterFQDN = masterFQDN if masterFQDN is not None else socket.getfqdn()
        self.master_protocol = master_protocol
        self.image = image
        self.masterhash = hashlib.sha1(unicode2bytes(self.master.name)).hexdigest()[:6]
        await super().reconfigService(name, password, **kwargs)

    @property
    def shortid(self) -> str | None:
        """The first 6 characters of the container id (None without a container, or for
        the subclasses whose instance is no Docker container)."""
        instance = getattr(self, "instance", None)
        if not isinstance(instance, dict) or "Id" not in instance:
            return None
        return str(instance["Id"])[:6]

    def getContainerName(self) -> str:
        return f"buildbot-{self.workername}-{self.masterhash}".replace("_", "-")

    def createEnvironment(self, build: Any = None) -> dict[str, str]:
        """The environment telling the container's worker where and who to connect as."""
        env = {"BUILDMASTER": str(self.masterFQDN),
               "BUILDMASTER_PROTOCOL": self.master_protocol,
               "WORKERNAME": str(self.name), "WORKERPASS": str(self.password)}
        port = self.master.workers.get_port(
            self.name, "msgpack" if self.master_protocol == MSGPACK else "pb")
        if port is not None:
            env["BUILDMASTER_PORT"] = str(port)
        if ":" in self.masterFQDN:
            env["BUILDMASTER"], env["BUILDMASTER_PORT"] = self.masterFQDN.split(":", 1)
        return env

    @staticmethod
    def get_fqdn() -> str:
        return socket.getfqdn()

    @classmethod
    def get_ip(cls) -> str:
        """The master's address for a container: its name resolved (get_fqdn, which a
        subclass may override), or the name itself when it does not resolve."""
        name = cls.get_fqdn()
        try:
            return socket.gethostbyname(name)
        except socket.gaierror:  # (no DNS entry: the container may still know the name)
            return name


class DockerLatentWorker(CompatibleLatentWorkerMixin, DockerBaseWorker):
    """`DockerLatentWorker(name, password, docker_host, image=..., ...)` (4.3 arguments).

    Renderable (per build): docker_host, image, dockerfile, volumes, hostconfig,
    custom_context, encoding, target, buildargs, hostname. A running container only takes
    builds that render them the same.
    """

    instance: dict[str, Any] | None = None
    # set by reconfigService, under 4.3's names
    docker_host: Any
    dockerfile: Any
    volumes: list[Any]
    hostconfig: dict[str, Any]
    custom_context: Any
    encoding: Any
    target: Any
    buildargs: Any
    hostname: Any
    command: list[str]
    followStartupLogs: bool
    autopull: bool
    alwaysPull: bool

    def checkConfig(self, name: str, password: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    docker_host: Any, image: Any = None, command: Any = None,
                    volumes: Any = None, dockerfile: Any = None, version: str | None = None,
                    tls: Any = None, followStartupLogs: bool = False,
                    masterFQDN: str | None = None, master_protocol: str = "pb",
                    hostconfig: Any = None, autopull: bool = False, alwaysPull: bool = False,
                    custom_context: Any = False, encoding: Any = "gzip",
                    buildargs: Any = None, hostname: Any = None, *, target: Any = "",
                    **kwargs: Any) -> None:
        # (4.3's checkConfig has no `target` between encoding and buildargs, unlike its
        # reconfigService: positional arguments bind as there; target is a keyword)
        super().checkConfig(name, password, image, masterFQDN=masterFQDN,
                            master_protocol=master_protocol, **kwargs)
        if not image and not dockerfile:
            config.error("DockerLatentWorker: You need to specify at least an image name, "
                         "or a dockerfile")
        if isinstance(volumes, list):
            for volume in volumes:
                if isinstance(volume, str) and ":" not in volume:
                    config.error(f"Invalid volume definition for docker {volume}. "
                                 "Skipping...")
        if isinstance(hostconfig, dict):
            unknown = unknown_host_config_keys(hostconfig)
            if unknown:
                config.error(f"DockerLatentWorker '{name}': unknown hostconfig keys "
                             f"{unknown}")

    async def reconfigService(self, name: str, password: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              docker_host: Any, image: Any = None, command: Any = None,
                              volumes: Any = None, dockerfile: Any = None,
                              version: str | None = None, tls: Any = None,
                              followStartupLogs: bool = False, masterFQDN: str | None = None,
                              master_protocol: str = "pb", hostconfig: Any = None,
                              autopull: bool = False, alwaysPull: bool = False,
                              custom_context: Any = False, encoding: Any = "gzip",
                              target: Any = "", buildargs: Any = None, hostname: Any = None,
                              **kwargs: Any) -> None:
        await super().reconfigService(name, password, image, masterFQDN=masterFQDN,
                                      master_protocol=master_protocol, **kwargs)
        # The settings each build renders (renderWorkerProps) and the fixed ones; all are
        # attributes under their 4.3 names, read by subclasses.
        vars(self).update(
            docker_host=docker_host, dockerfile=dockerfile, volumes=volumes or [],
            hostconfig=hostconfig or {}, custom_context=custom_context, encoding=encoding,
            target=target, buildargs=buildargs, hostname=hostname,
            command=command or [], followStartupLogs=followStartupLogs, autopull=autopull,
            alwaysPull=alwaysPull)
        # docker_host is left out: it is rendered per build
        self.client_args: dict[str, Any] = {
            key: value for key, value in (("version", version), ("tls", tls))
            if value is not None}
        self._client: DockerClient | None = None

    def _make_client(self, docker_host: str) -> DockerClient:
        return DockerClient(self.clock, docker_host, **self.client_args)

    def renderWorkerProps(self, build: Any) -> Any:
        return build.render((self.docker_host, self.image, self.dockerfile, self.volumes,
                             self.hostconfig, self.custom_context, self.encoding,
                             self.target, self.buildargs, self.hostname))

    @staticmethod
    def parse_volumes(volumes: list[str]) -> tuple[list[str], list[str]]:
        """(container paths, binds) of `src:dst[:ro|rw]` volume strings."""
        paths: list[str] = []
        for volume in volumes or []:
            try:
                _, path = volume.split(":", 1)
            except ValueError:
                log.warn("Invalid volume definition for docker {v}. Skipping...", v=volume)
                continue
            if path.endswith((":ro", ":rw")):
                path = path[:-3]
            paths.append(path)
        return paths, list(volumes or [])

    async def start_instance(self, build: Any) -> list[str]:
        if self.instance is not None:
            raise ValueError("instance active")
        (docker_host, image, dockerfile, volumes, hostconfig, custom_context, encoding,
         target, buildargs, hostname) = await self.renderWorkerPropsOnStart(build)
        client = self._make_client(docker_host)
        try:
            return await self._start(client, image, dockerfile, volumes, hostconfig,
                                     custom_context, encoding, target, buildargs, hostname)
        finally:
            await client.close()

    async def _start(self, client: DockerClient, image: str | None, dockerfile: str | None,
                     volumes: list[str], hostconfig: dict[str, Any], custom_context: Any,
                     encoding: str, target: str, buildargs: Any, hostname: str | None
                     ) -> list[str]:
        name = self.getContainerName()
        # A container left over by an earlier run of this master would clash by name.
        for old in await client.containers(all=True, filters={"name": name}):
            if f"/{name}" in old.get("Names", []):
                try:
                    await client.remove_container(old["Id"], v=True, force=True)
                except NotFound:
                    pass  # gone meanwhile
        found = False
        if image is not None:
            found = await client.image_exists(image)
        else:
            image = f"{self.workername}_{id(self)}_image"
        if not found and dockerfile is not None:
            log.info("Image '{image}' not found, building it from scratch", image=image)
            if custom_context:
                with open(dockerfile, "rb") as f:
                    context = f.read()
                lines = await client.build(context, tag=image, pull=self.alwaysPull,
                                           target=target, buildargs=buildargs,
                                           encoding=encoding)
            else:
                lines = await client.build(dockerfile_context(dockerfile), tag=image,
                                           pull=self.alwaysPull, target=target)
            for line in lines:
                log.info("{line}", line=line)
        exists = await client.image_exists(image)
        if (not exists or self.alwaysPull) and self.autopull:
            if not exists:
                log.info("Image '{image}' not found, pulling from registry", image=image)
            await client.pull(image)
            exists = await client.image_exists(image)
        if not exists:
            msg = f'Image "{image}" not found on docker host.'
            log.info("{msg}", msg=msg)
            raise LatentWorkerCannotSubstantiate(msg)
        paths, binds = self.parse_volumes(volumes)
        options = dict(hostconfig or {})
        options["binds"] = binds
        options.setdefault("init", True)
        instance = await client.create_container(
            image, self.command, name=name, volumes=paths,
            environment=self.createEnvironment(), host_config=host_config(options),
            hostname=hostname)
        if instance.get("Id") is None:
            log.info("Failed to create the container")
            raise LatentWorkerFailedToSubstantiate("Failed to start container")
        instance["image"] = image
        self.instance = instance
        log.info("Container created, Id: {id}...", id=self.shortid)
        self._host = client.base_url
        try:
            await client.start(instance["Id"])
        except DockerAPIError as e:
            if "The container operating system does not match the host operating system" in \
                    e.explanation:
                raise LatentWorkerCannotSubstantiate(f"Image used for build is wrong: {e}") \
                    from e
            raise
        log.info("Container started")
        if self.followStartupLogs:
            logs = await client.logs(instance["Id"])
            for line in logs.decode("utf-8", "replace").splitlines():
                log.info("docker VM {id}: {line}", id=self.shortid, line=line.strip())
        return [instance["Id"], image]

    async def check_instance(self) -> tuple[bool, str]:
        if self.instance is None:
            return True, ""
        client = self._make_client(self._host)
        try:
            name = self.getContainerName()
            for c in await client.containers(all=True, filters={"name": name}):
                if f"/{name}" not in c.get("Names", []):
                    continue
                if c.get("State") == "exited":
                    logs = await client.logs(c["Id"], tail=100)
                    return False, "logs: \n" + logs.decode("utf-8", "replace")
            return True, ""
        finally:
            await client.close()

    async def stop_instance(self, fast: bool = False) -> None:
        if self.instance is None:
            # Nothing started (a failure before the container existed).
            return
        instance, self.instance = self.instance, None
        self.resetWorkerPropsOnStop()
        client = self._make_client(self._host)
        cid = instance["Id"]
        try:
            log.info("Stopping container {id}...", id=cid[:6])
            try:
                await client.stop(cid)
            except NotFound as e:
                log.info("Cannot stop container {id}: {e}", id=cid[:6], e=e)
                fast = True  # nothing to wait for
            if not fast:
                await client.wait(cid)
            try:
                await client.remove_container(cid, v=True, force=True)
            except NotFound as e:
                log.info("Cannot remove container {id}: {e}", id=cid[:6], e=e)
            if self.image is None:
                try:
                    await client.remove_image(instance["image"])
                except DockerAPIError as e:
                    log.info("Error while removing the image: {e}", e=e)
        finally:
            await client.close()
