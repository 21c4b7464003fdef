"""A small asynchronous client for the Docker Engine API (what `DockerLatentWorker` needs).

It speaks HTTP with Twisted's `Agent`, over the daemon's unix socket (`unix:///var/run/
docker.sock`) or TCP (`tcp://host:2375`, `http://...`; `https://...` or `tls=` for TLS), so
no `docker` Python package and no thread is needed. Errors from the daemon raise
`DockerAPIError` (`NotFound` for 404) with the daemon's message.

`host_config(options)` turns docker-py style `create_host_config` keyword arguments
(`network_mode`, `mem_limit`, `binds`, ...), which existing master.cfg files pass as
`hostconfig`, into the Engine API's `HostConfig` object.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import struct
import tarfile
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from twisted.internet import defer, protocol
from twisted.internet.endpoints import HostnameEndpoint, UNIXClientEndpoint, wrapClientTLS
from twisted.python.failure import Failure
from twisted.web.client import Agent, HTTPConnectionPool, PotentialDataLoss, ResponseDone
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgentEndpointFactory
from zope.interface import implementer

from buildbot.util.misc import bytes2unicode


class DockerAPIError(Exception):
    """The daemon answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Docker API error {status}: {message}")
        self.status = status
        self.explanation = message


class NotFound(DockerAPIError):
    """404 from the daemon (no such container or image)."""


@implementer(IAgentEndpointFactory)
class _Endpoints:
    """Every request goes to the daemon, whatever the URL's host says."""

    def __init__(self, reactor: Any, base_url: str, tls: Any) -> None:
        self.reactor = reactor
        parts = urlsplit(base_url)
        self.scheme = parts.scheme or "unix"
        if self.scheme == "unix":
            self.path = parts.path or "/var/run/docker.sock"
            if parts.netloc:  # "unix://var/run/docker.sock"
                self.path = "/" + parts.netloc + parts.path
        else:
            self.host = parts.hostname or "localhost"
            self.port = parts.port or (2376 if self._use_tls(tls) else 2375)
        self.tls = tls

    def _use_tls(self, tls: Any) -> bool:
        return self.scheme == "https" or bool(tls)

    def endpointForURI(self, uri: Any) -> Any:
        if self.scheme == "unix":
            return UNIXClientEndpoint(self.reactor, self.path)
        endpoint: Any = HostnameEndpoint(self.reactor, self.host, self.port)
        if self._use_tls(self.tls):
            endpoint = wrapClientTLS(_tls_options(self.host, self.tls), endpoint)
        return endpoint


def _tls_options(host: str, tls: Any) -> Any:
    """Client TLS options from `tls`: True, or an object/dict with `ca_cert`, `cert`
    ((cert file, key file)) and `verify` (docker.tls.TLSConfig's attribute names)."""
    from twisted.internet import ssl

    def get(name: str) -> Any:
        if isinstance(tls, dict):
            return tls.get(name)
        return getattr(tls, name, None)

    trust: Any = None
    ca_cert = get("ca_cert")
    if ca_cert:
        with open(ca_cert, "rb") as f:
            trust = ssl.Certificate.loadPEM(f.read())
    client: Any = None
    cert = get("cert")
    if cert:
        cert_file, key_file = cert
        with open(cert_file, "rb") as f1, open(key_file, "rb") as f2:
            client = ssl.PrivateCertificate.loadPEM(f1.read() + b"\n" + f2.read())
    if get("verify") is False:
        return ssl.CertificateOptions(
            privateKey=client.privateKey.original if client else None,
            certificate=client.original if client else None)
    return ssl.optionsForClientTLS(host, trustRoot=trust, clientCertificate=client)


class DockerClient:
    """`DockerClient(reactor, "unix:///var/run/docker.sock", version="1.41")`."""

    def __init__(self, reactor: Any, base_url: str, version: str | None = None,
                 tls: Any = None) -> None:
        self.reactor = reactor
        self.base_url = base_url
        self._prefix = f"/v{version}" if version and version != "auto" else ""
        self._pool = HTTPConnectionPool(reactor, persistent=False)
        self._agent = Agent.usingEndpointFactory(reactor, _Endpoints(reactor, base_url, tls),
                                                 pool=self._pool)

    async def close(self) -> None:
        await self._pool.closeCachedConnections()

    async def request(self, method: str, path: str, params: dict[str, Any] | None = None,
                      body: bytes | None = None, content_type: str = "application/json",
                      extra_headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """One request; (status, body). Raises DockerAPIError for statuses >= 400."""
        from twisted.web.client import FileBodyProducer

        url = f"http://docker{self._prefix}{path}"
        if params:
            url += "?" + urlencode({k: _param(v) for k, v in params.items() if v is not None})
        headers = Headers({"Host": ["docker"]})
        if body is not None:
            headers.setRawHeaders("Content-Type", [content_type])
        for name, value in (extra_headers or {}).items():
            headers.setRawHeaders(name, [value])
        producer = FileBodyProducer(io.BytesIO(body)) if body is not None else None
        response = await self._agent.request(method.encode(), url.encode(), headers, producer)
        data = await _read_body(response)
        if response.code >= 400:
            message = _error_message(data)
            cls = NotFound if response.code == 404 else DockerAPIError
            raise cls(response.code, message)
        return response.code, data

    async def _json(self, method: str, path: str, **kw: Any) -> Any:
        _, data = await self.request(method, path, **kw)
        return json.loads(data) if data.strip() else None

    # -- containers -----------------------------------------------------------------------
    async def containers(self, all: bool = True, filters: dict[str, Any] | None = None
                         ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"all": all}
        if filters:
            params["filters"] = json.dumps({k: v if isinstance(v, list) else [v]
                                            for k, v in filters.items()})
        return list(await self._json("GET", "/containers/json", params=params) or [])

    async def create_container(self, image: str, command: Any = None, name: str | None = None,
                               volumes: list[str] | None = None,
                               environment: dict[str, str] | None = None,
                               host_config: dict[str, Any] | None = None,
                               hostname: str | None = None) -> dict[str, Any]:
        if isinstance(command, str):
            command = shlex.split(command)
        spec: dict[str, Any] = {"Image": image, "Cmd": command or None,
                                "Env": [f"{k}={v}" for k, v in (environment or {}).items()],
                                "Volumes": {v: {} for v in volumes or []},
                                "HostConfig": host_config or {}}
        if hostname:
            spec["Hostname"] = hostname
        return dict(await self._json("POST", "/containers/create", params={"name": name},
                                     body=json.dumps(spec).encode()))

    async def start(self, container: str) -> None:
        await self.request("POST", f"/containers/{quote(container)}/start")

    async def stop(self, container: str, timeout: int | None = None) -> None:
        await self.request("POST", f"/containers/{quote(container)}/stop",
                           params={"t": timeout})

    async def wait(self, container: str) -> dict[str, Any]:
        return dict(await self._json("POST", f"/containers/{quote(container)}/wait") or {})

    async def remove_container(self, container: str, v: bool = True, force: bool = True
                               ) -> None:
        await self.request("DELETE", f"/containers/{quote(container)}",
                           params={"v": v, "force": force})

    async def logs(self, container: str, tail: int | str = "all") -> bytes:
        _, data = await self.request("GET", f"/containers/{quote(container)}/logs",
                                     params={"stdout": True, "stderr": True, "tail": tail})
        return demultiplex(data)

    # -- images ---------------------------------------------------------------------------
    async def images(self) -> list[dict[str, Any]]:
        return list(await self._json("GET", "/images/json") or [])

    async def image_exists(self, name: str) -> bool:
        """Whether an image is tagged `name` (with a tag) or `name:<any tag>`."""
        for image in await self.images():
            for tag in image.get("RepoTags") or []:
                if (":" in name and tag == name) or tag.startswith(name + ":"):
                    return True
        return False

    async def pull(self, image: str) -> list[str]:
        repo, tag = split_image(image)
        _, data = await self.request("POST", "/images/create",
                                     params={"fromImage": repo, "tag": tag})
        return stream_lines(data)

    async def build(self, context: bytes, tag: str, pull: bool = False, target: str = "",
                    buildargs: dict[str, str] | None = None, encoding: str | None = None
                    ) -> list[str]:
        """Build from a tar `context` (see `dockerfile_context`); the build's output lines.
        A build error raises DockerAPIError."""
        params: dict[str, Any] = {"t": tag, "pull": pull, "rm": True}
        if target:
            params["target"] = target
        if buildargs:
            params["buildargs"] = json.dumps(buildargs)
        headers = {"Content-Encoding": encoding} if encoding else None
        _, data = await self.request("POST", "/build", params=params, body=context,
                                     content_type="application/x-tar", extra_headers=headers)
        return stream_lines(data)

    async def remove_image(self, image: str) -> None:
        await self.request("DELETE", f"/images/{quote(image, safe='')}")


class _BodyCollector(protocol.Protocol):
    def __init__(self, done: defer.Deferred[bytes]) -> None:
        self.done = done
        self.chunks: list[bytes] = []

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        if reason.check(ResponseDone, PotentialDataLoss):
            self.done.callback(b"".join(self.chunks))
        else:
            self.done.errback(reason)


async def _read_body(response: Any) -> bytes:
    """The whole body (twisted's readBody warns on unix-socket transports)."""
    done: defer.Deferred[bytes] = defer.Deferred()
    response.deliverBody(_BodyCollector(done))
    return await done


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _error_message(data: bytes) -> str:
    try:
        return str(json.loads(data).get("message", ""))
    except (ValueError, AttributeError):
        return str(bytes2unicode(data, errors="replace")).strip()


def stream_lines(data: bytes) -> list[str]:
    """The text of a streamed build/pull answer (JSON objects); an `error` entry raises."""
    out: list[str] = []
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            out.append(bytes2unicode(raw, errors="replace"))
            continue
        if "error" in entry:
            raise DockerAPIError(200, str(entry["error"]))
        text = entry.get("stream") or entry.get("status") or ""
        out.extend(line for line in str(text).split("\n") if line)
    return out


def demultiplex(data: bytes) -> bytes:
    """Container logs without the 8-byte frame headers the daemon adds (no-TTY streams)."""
    out = bytearray()
    pos = 0
    while pos + 8 <= len(data) and data[pos] in (0, 1, 2) and data[pos + 1:pos + 4] == b"\0\0\0":
        (size,) = struct.unpack(">I", data[pos + 4:pos + 8])
        out += data[pos + 8:pos + 8 + size]
        pos += 8 + size
    if pos == 0:
        return data  # a TTY container: raw output
    return bytes(out)


def split_image(image: str) -> tuple[str, str]:
    """`repo[:tag]` → (repo, tag or "latest"); a registry port is not a tag."""
    repo, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:
        return image, "latest"
    return repo, tag


def dockerfile_context(dockerfile: str) -> bytes:
    """A tar build context holding one file, `Dockerfile`, with this text."""
    buf = io.BytesIO()
    content = dockerfile.encode("utf-8")
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


# docker-py `create_host_config` keywords whose value passes unchanged.
_PLAIN_KEYS = {
    "binds": "Binds", "publish_all_ports": "PublishAllPorts", "privileged": "Privileged",
    "dns": "Dns", "dns_search": "DnsSearch", "dns_opt": "DnsOptions",
    "volumes_from": "VolumesFrom", "network_mode": "NetworkMode",
    "restart_policy": "RestartPolicy", "cap_add": "CapAdd", "cap_drop": "CapDrop",
    "read_only": "ReadonlyRootfs", "pid_mode": "PidMode", "ipc_mode": "IpcMode",
    "security_opt": "SecurityOpt", "cpu_quota": "CpuQuota", "cpu_period": "CpuPeriod",
    "cpu_shares": "CpuShares", "cpuset_cpus": "CpusetCpus", "cpuset_mems": "CpusetMems",
    "nano_cpus": "NanoCpus", "oom_kill_disable": "OomKillDisable",
    "oom_score_adj": "OomScoreAdj", "sysctls": "Sysctls", "userns_mode": "UsernsMode",
    "uts_mode": "UTSMode", "pids_limit": "PidsLimit", "isolation": "Isolation",
    "auto_remove": "AutoRemove", "init": "Init", "init_path": "InitPath",
    "runtime": "Runtime", "device_requests": "DeviceRequests",
    "cgroup_parent": "CgroupParent", "cgroupns": "CgroupnsMode", "storage_opt": "StorageOpt",
    "volume_driver": "VolumeDriver", "mounts": "Mounts", "blkio_weight": "BlkioWeight",
    "mem_swappiness": "MemorySwappiness", "cpu_count": "CpuCount",
    "cpu_percent": "CpuPercent", "cpu_rt_period": "CPURealtimePeriod",
    "cpu_rt_runtime": "CPURealtimeRuntime", "device_cgroup_rules": "DeviceCgroupRules",
    "lxc_conf": "LxcConf",
}
_BYTES_KEYS = {"mem_limit": "Memory", "memswap_limit": "MemorySwap",
               "mem_reservation": "MemoryReservation", "kernel_memory": "KernelMemory",
               "shm_size": "ShmSize"}
HOST_CONFIG_KEYS = frozenset(_PLAIN_KEYS) | frozenset(_BYTES_KEYS) | {
    "port_bindings", "links", "devices", "extra_hosts", "ulimits", "log_config", "tmpfs",
    "group_add"}


def unknown_host_config_keys(options: dict[str, Any]) -> list[str]:
    """Keys that are neither docker-py keywords nor Engine API names (CapWords)."""
    return sorted(k for k in options if k not in HOST_CONFIG_KEYS and not k[:1].isupper())


def host_config(options: dict[str, Any]) -> dict[str, Any]:
    """Engine API `HostConfig` from docker-py keywords (CapWords keys pass unchanged)."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if value is None:
            continue
        if key[:1].isupper():
            out[key] = value
        elif key in _PLAIN_KEYS:
            out[_PLAIN_KEYS[key]] = value
        elif key in _BYTES_KEYS:
            out[_BYTES_KEYS[key]] = parse_bytes(value)
        elif key == "port_bindings":
            out["PortBindings"] = _port_bindings(value)
        elif key == "links":
            items = value.items() if isinstance(value, dict) else value
            out["Links"] = [f"{name}:{alias}" for name, alias in items]
        elif key == "devices":
            out["Devices"] = [_device(d) for d in value]
        elif key == "extra_hosts":
            out["ExtraHosts"] = ([f"{h}:{ip}" for h, ip in value.items()]
                                 if isinstance(value, dict) else list(value))
        elif key == "ulimits":
            out["Ulimits"] = [{k.capitalize(): v for k, v in u.items()} for u in value]
        elif key == "log_config":
            out["LogConfig"] = {k.capitalize(): v for k, v in value.items()}
        elif key == "tmpfs":
            out["Tmpfs"] = value if isinstance(value, dict) else dict(
                (t.split(":", 1) + [""])[:2] for t in value)
        elif key == "group_add":
            out["GroupAdd"] = [str(g) for g in value]
        else:
            raise ValueError(f"unknown hostconfig key {key!r}")
    return out


def parse_bytes(value: Any) -> int:
    """`'512m'`, `'2g'`, `1024` → bytes."""
    if isinstance(value, (int, float)):
        return int(value)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)b?\s*", str(value).lower())
    if match is None:
        raise ValueError(f"invalid size {value!r}")
    number, unit = float(match.group(1)), match.group(2)
    return int(number * 1024 ** "bkmgt".index(unit or "b"))


def _port_bindings(value: dict[Any, Any]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for port, binding in value.items():
        key = str(port) if "/" in str(port) else f"{port}/tcp"
        bindings = binding if isinstance(binding, list) else [binding]
        out[key] = [_one_binding(b) for b in bindings]
    return out


def _one_binding(binding: Any) -> dict[str, str]:
    if binding is None:
        return {"HostIp": "", "HostPort": ""}
    if isinstance(binding, dict):
        return {"HostIp": str(binding.get("HostIp", "")),
                "HostPort": str(binding.get("HostPort", ""))}
    if isinstance(binding, tuple):
        ip, port = (binding + ("",))[:2] if len(binding) == 1 else binding[:2]
        return {"HostIp": str(ip), "HostPort": "" if port is None else str(port)}
    return {"HostIp": "", "HostPort": str(binding)}


def _device(spec: Any) -> dict[str, str]:
    if isinstance(spec, dict):
        return spec
    parts = str(spec).split(":")
    host = parts[0]
    container = parts[1] if len(parts) > 1 else host
    perms = parts[2] if len(parts) > 2 else "rwm"
    return {"PathOnHost": host, "PathInContainer": container, "CgroupPermissions": perms}
