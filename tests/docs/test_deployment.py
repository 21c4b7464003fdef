"""The deployment recipes of docs/deployment.md (files under docs/deploy/), tried for real:
the systemd units verify, the container's entry point runs our master with its settings from
the environment, and nginx passes REST and WebSocket traffic through to it."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "docs" / "deploy"
VENV_BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)), None)
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
OPENSSL = shutil.which("openssl")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _replace(text: str, old: str, new: str) -> str:
    """`text` with `old` replaced; the recipe must still contain it (so this test follows it)."""
    assert old in text, f"the recipe no longer contains {old!r}: update this test"
    return text.replace(old, new)


# -- documentation and files agree ------------------------------------------------------------
def test_deployment_page_shows_the_tested_files() -> None:
    """Each `<!-- file: deploy/X -->` block of deployment.md is the file this test runs."""
    page = (ROOT / "docs" / "deployment.md").read_text()
    blocks = re.findall(r"<!-- file: (deploy/[^ ]+) -->\n```[a-z]*\n(.*?)```", page, flags=re.S)
    shown = {name: body for name, body in blocks}
    files = {f"deploy/{p.name}": p.read_text() for p in DEPLOY.iterdir() if p.is_file()}
    assert shown == files


# -- systemd ------------------------------------------------------------------------------------
@pytest.mark.integration
@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_units_verify(tmp_path: Path) -> None:
    """`systemd-analyze verify` accepts both units once their paths exist on this machine."""
    units = {
        "buildbot-master.service": "buildbot-master.service",
        "buildbot-worker@.service": "buildbot-worker@linux-1.service",  # an instance
    }
    for source, name in units.items():
        text = (DEPLOY / source).read_text()
        text = _replace(text, "/opt/buildbot/venv/bin/buildbot",
                        str(VENV_BIN / "buildbot")) if "master" in source else _replace(
            text, "/opt/buildbot-worker/venv/bin/buildbot-worker",
            str(VENV_BIN / "buildbot-worker"))
        (tmp_path / name).write_text(text)
    done = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no",
                           *(str(tmp_path / n) for n in units.values())],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


# -- container image -----------------------------------------------------------------------------
def test_dockerfile_parses_and_copies_files_that_exist() -> None:
    """No Docker daemon here: BuildKit's own parser (the `dockerfile` package) reads it, and
    every file it copies from the build context exists and is not excluded from it."""
    dockerfile = pytest.importorskip("dockerfile", reason="pip install dockerfile")
    commands = dockerfile.parse_file(str(DEPLOY / "Dockerfile"))
    assert [c.cmd for c in commands if c.cmd == "FROM"] == ["FROM", "FROM"]
    sources = [src for c in commands if c.cmd == "COPY" and not c.flags
               for src in c.value[:-1]]
    assert sources and all((ROOT / src).exists() for src in sources), sources
    allowed = [line[1:].rstrip("/") for line in
               (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
               if line.startswith("!")]
    assert [s for s in sources if s != "." and not any(
        s == a or s.startswith(a + "/") for a in allowed)] == []
    entry = next(c for c in commands if c.cmd == "ENTRYPOINT")
    assert entry.json and entry.value == ("/usr/local/bin/docker-entrypoint.sh",)
    assert subprocess.run(["sh", "-n", str(DEPLOY / "docker-entrypoint.sh")],
                          check=False).returncode == 0


# -- the container's entry point, then nginx in front of it ---------------------------------------
class Master:
    """The container's entry point, run here: our master in the foreground, log on stdout."""

    def __init__(self, tmp_path: Path, web_port: int) -> None:
        env = dict(os.environ,
                   PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                   BUILDBOT_BASEDIR=str(tmp_path / "master"),
                   BUILDBOT_CONFIG=str(DEPLOY / "master.cfg"),
                   BUILDBOT_DB_URL=f"sqlite:///{tmp_path / 'state.sqlite'}",
                   BUILDBOT_WEB_PORT=str(web_port),
                   BUILDBOT_WORKER_PORT=str(_free_port()),
                   BUILDBOT_URL="https://ci.example.org/",
                   BUILDBOT_WORKERS="linux-1:secret linux-2:secret")
        self.log: list[str] = []
        self.proc = subprocess.Popen(["sh", str(DEPLOY / "docker-entrypoint.sh")], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)

    def wait_for_line(self, needle: str, timeout: float = 60) -> None:
        """Read the master's stdout until a line contains `needle`."""
        assert self.proc.stdout is not None
        while True:
            ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
            line = self.proc.stdout.readline() if ready else ""
            if not line:
                raise AssertionError(f"the master never logged {needle!r}:\n"
                                     + "".join(self.log))
            self.log.append(line)
            if needle in line:
                return

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=60)
        self.log.append(out or "")
        return self.proc.returncode


class Nginx:
    """A real nginx serving the recipe's site, with ports and certificate of this test."""

    def __init__(self, tmp_path: Path, web_port: int) -> None:
        assert NGINX is not None and OPENSSL is not None
        self.dir = tmp_path / "nginx"
        self.dir.mkdir()
        self.http_port, self.https_port = _free_port(), _free_port()
        cert, key = self.dir / "cert.pem", self.dir / "key.pem"
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=ci.example.org", "-keyout", str(key), "-out", str(cert)],
                       capture_output=True, check=True, timeout=60)
        site = (DEPLOY / "nginx-buildbot.conf").read_text()
        for old, new in (("listen 80;", f"listen 127.0.0.1:{self.http_port};"),
                         ("listen 443 ssl;", f"listen 127.0.0.1:{self.https_port} ssl;"),
                         ("server 127.0.0.1:8010;", f"server 127.0.0.1:{web_port};"),
                         ("/etc/ssl/certs/ci.example.org.pem", str(cert)),
                         ("/etc/ssl/private/ci.example.org.key", str(key))):
            site = _replace(site, old, new)
        (self.dir / "site.conf").write_text(site)
        temp = "\n".join(f"    {kind}_temp_path {self.dir}/{kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(f"pid {self.dir}/nginx.pid;\nerror_log {self.dir}/error.log;\n"
                             f"events {{}}\nhttp {{\n    access_log {self.dir}/access.log;\n"
                             f"{temp}\n    include {self.dir}/site.conf;\n}}\n")
        self._nginx("-t")  # the recipe's syntax, as `nginx -t` checks it on a server
        # Daemon mode: the command returns once the sockets listen.
        self._nginx()
        self.pid = int((self.dir / "nginx.pid").read_text())

    def _nginx(self, *args: str) -> None:
        assert NGINX is not None
        done = subprocess.run([NGINX, "-p", str(self.dir), "-c", str(self.conf), *args],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr

    def stop(self) -> None:
        pidfd = os.pidfd_open(self.pid)
        try:
            self._nginx("-s", "stop")
            ready, _, _ = select.select([pidfd], [], [], 30)  # readable once nginx exited
            assert ready, "nginx did not stop within 30 s"
        finally:
            os.close(pidfd)


@pytest.fixture
def master_behind_nginx(tmp_path: Path) -> Iterator[tuple[Master, Nginx]]:
    web_port = _free_port()
    master = Master(tmp_path, web_port)
    try:
        master.wait_for_line("BuildMaster is running")
        nginx = Nginx(tmp_path, web_port)
        try:
            yield master, nginx
        finally:
            nginx.stop()
    finally:
        status = master.stop()
        # twistd ends a SIGTERM-stopped master by the same signal (systemd counts it clean).
        assert status in (0, -signal.SIGTERM), "".join(master.log)


def _tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    return context


@pytest.mark.integration
@pytest.mark.skipif(NGINX is None or OPENSSL is None,
                    reason="nginx (apt-get install nginx-light) or openssl is not installed")
def test_rest_and_websocket_pass_through_nginx(
        master_behind_nginx: tuple[Master, Nginx]) -> None:
    master, nginx = master_behind_nginx
    # Configured from the environment: the workers of BUILDBOT_WORKERS, the builder using them.
    conn = http.client.HTTPSConnection("127.0.0.1", nginx.https_port, timeout=30,
                                       context=_tls())
    conn.request("GET", "/api/v2/workers", headers={"Host": "ci.example.org"})
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    assert resp.status == 200
    assert sorted(w["name"] for w in body["workers"]) == ["linux-1", "linux-2"]

    # Plain HTTP is sent to HTTPS.
    plain = http.client.HTTPConnection("127.0.0.1", nginx.http_port, timeout=30)
    plain.request("GET", "/api/v2/builders", headers={"Host": "ci.example.org"})
    redirect = plain.getresponse()
    plain.close()
    assert (redirect.status, redirect.getheader("Location")) == (
        301, "https://ci.example.org/api/v2/builders")

    # The WebSocket upgrade reaches the master, and frames flow both ways.
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection(("127.0.0.1", nginx.https_port), timeout=30) as raw, \
            _tls().wrap_socket(raw, server_hostname="ci.example.org") as ws:
        ws.sendall((f"GET /ws HTTP/1.1\r\nHost: ci.example.org\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                    f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = ws.recv(4096)
            assert chunk, f"connection closed during the handshake: {head!r}"
            head += chunk
        status, *header_lines = head.split(b"\r\n\r\n")[0].decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        assert (status.split(" ")[1], headers.get("upgrade", "").lower(),
                headers.get("sec-websocket-accept")) == ("101", "websocket", accept)

        ws.sendall(_masked_text_frame(json.dumps({"cmd": "ping", "_id": 1})))
        assert json.loads(_read_text_frame(ws, head.split(b"\r\n\r\n", 1)[1])) == {
            "msg": "pong", "code": 200, "_id": 1}


def _masked_text_frame(text: str) -> bytes:
    payload = text.encode()
    assert len(payload) < 126
    mask = os.urandom(4)
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(
        b ^ mask[i % 4] for i, b in enumerate(payload))


def _read_text_frame(sock: ssl.SSLSocket, buffered: bytes) -> str:
    data = buffered
    while True:
        if len(data) >= 2:
            length, start = data[1] & 0x7F, 2
            if length == 126 and len(data) >= 4:
                length, start = int.from_bytes(data[2:4], "big"), 4
            if length < 127 and len(data) >= start + length:
                assert data[0] == 0x81, f"not a text frame: {data[:2]!r}"
                return data[start:start + length].decode()
        chunk = sock.recv(4096)
        assert chunk, "connection closed before the reply frame"
        data += chunk


# -- backing up and restoring SQLite --------------------------------------------------------------
def _buildbot(*args: str | Path) -> str:
    done = subprocess.run([str(VENV_BIN / "buildbot"), *map(str, args)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _rest(port: int, method: str, path: str, body: dict[str, object] | None = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=json.dumps(body) if body else None,
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()
        return json.loads(resp.read())
    finally:
        conn.close()


@pytest.mark.integration
def test_sqlite_online_backup_restores_into_a_stopped_master(tmp_path: Path) -> None:
    """deployment.md's SQLite recipe: copy with the backup API while the master runs, then
    put the copy in place (without the old WAL files) and start again."""
    basedir, web = tmp_path / "master", _free_port()
    _buildbot("create-master", "-q", basedir)
    cfg = (basedir / "master.cfg.sample").read_text()
    cfg = _replace(cfg, "'port': 9989", f"'port': {_free_port()}")
    (basedir / "master.cfg").write_text(_replace(cfg, "port=8010", f"port={web}"))
    backup = tmp_path / "backup.sqlite"
    _buildbot("start", basedir)  # returns once the master runs
    try:
        forced = _rest(web, "POST", "/api/v2/forceschedulers/force", {
            "jsonrpc": "2.0", "method": "force", "id": 1,
            "params": {"builderNames": ["runtests"]}})
        bsid = forced["result"][0]
        page = (ROOT / "docs" / "deployment.md").read_text()
        assert "sqlite3.connect('/var/lib/buildbot/master/state.sqlite').backup(" in page
        with sqlite3.connect(basedir / "state.sqlite") as src, sqlite3.connect(backup) as dst:
            src.backup(dst)
    finally:
        _buildbot("stop", basedir)

    (basedir / "state.sqlite").rename(tmp_path / "state.sqlite.old")
    for leftover in ("state.sqlite-wal", "state.sqlite-shm"):
        (basedir / leftover).unlink(missing_ok=True)
    shutil.copy(backup, basedir / "state.sqlite")
    _buildbot("start", basedir)
    try:
        found = _rest(web, "GET", f"/api/v2/buildsets/{bsid}")
        assert [b["bsid"] for b in found["buildsets"]] == [bsid]
    finally:
        _buildbot("stop", basedir)
