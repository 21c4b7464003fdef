"""HashiCorpVaultKvSecretProvider: secrets in a HashiCorp Vault KV engine (version 1 or 2).

4.3 drives Vault through the blocking `hvac` client in a thread; we speak Vault's HTTP API
with the master's own HTTP client instead (`GET /v1/<mount>/<path>` for KV v1,
`GET /v1/<mount>/data/<path>` for KV v2, `POST /v1/auth/approle/login` for AppRole), so no
extra package is needed and nothing blocks.

A secret is named `<path>|<key>` (delimiter and escape character configurable).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from twisted.logger import Logger

from buildbot import config
from buildbot.reporters.http_session import http_session
from buildbot.util.deferred import as_deferred
from buildbot.secrets.providers.base import SecretProviderBase

log = Logger()


class VaultError(Exception):
    """Vault refused a request (status and Vault's `errors` in the message)."""


async def _vault_json(res: Any) -> dict[str, Any]:
    try:
        body = await res.json()
    except ValueError:
        body = {}
    return body if isinstance(body, dict) else {}


class VaultAuthenticator:
    """How the provider gets a Vault token."""

    async def vault_token(self, session: Any) -> str:
        """A token for `session` (an HTTPSession on the Vault server)."""
        raise NotImplementedError

    def authenticate(self, client: Any) -> None:
        """4.3's hook on an hvac client; kept for configurations that call it."""


class VaultAuthenticatorToken(VaultAuthenticator):
    """`secrets.VaultAuthenticatorToken(token)`: a fixed token."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def vault_token(self, session: Any) -> str:
        return self.token

    def authenticate(self, client: Any) -> None:
        client.token = self.token


class VaultAuthenticatorApprole(VaultAuthenticator):
    """`secrets.VaultAuthenticatorApprole(roleId, secretId)`: logs in with the AppRole
    method (again whenever Vault refuses the token it gave)."""

    def __init__(self, roleId: str, secretId: str) -> None:
        self.roleId = roleId
        self.secretId = secretId

    async def vault_token(self, session: Any) -> str:
        res = await session.post("/v1/auth/approle/login",
                                 json={"role_id": self.roleId, "secret_id": self.secretId})
        body = await _vault_json(res)
        if res.code != 200 or not isinstance(body.get("auth"), dict):
            raise VaultError(f"Vault AppRole login failed with HTTP {res.code}: "
                             f"{body.get('errors', '')}")
        return str(body["auth"]["client_token"])

    def authenticate(self, client: Any) -> None:
        client.auth.approle.login(role_id=self.roleId, secret_id=self.secretId)


class HashiCorpVaultKvSecretProvider(SecretProviderBase):
    """`secrets.HashiCorpVaultKvSecretProvider(vault_server, authenticator,
    secrets_mount="secret", api_version=2, path_delimiter='|', path_escape='\\\\')`."""

    name = "SecretInVaultKv"  # type: ignore[assignment]  # Twisted declares None

    def checkConfig(self, vault_server: Any = None, authenticator: Any = None,
                    secrets_mount: str | None = None, api_version: int = 2,
                    path_delimiter: str = "|", path_escape: str = "\\") -> None:
        def single_char(value: Any) -> bool:
            return isinstance(value, str) and len(value) <= 1

        problems = [
            (isinstance(vault_server, str),
             f"vault_server must be a string while it is {type(vault_server)}"),
            (single_char(path_delimiter), "path_delimiter must be a single character"),
            (single_char(path_escape), "path_escape must be a single character"),
            (isinstance(authenticator, VaultAuthenticator),
             "authenticator must be instance of VaultAuthenticator while it is "
             f"{type(authenticator)}"),
            (api_version in (1, 2), f"api_version {api_version} is not supported"),
        ]
        for message in (m for ok, m in problems if not ok):
            config.error(message)

    async def reconfigService(self, vault_server: Any = None,
                              authenticator: Any = None, secrets_mount: str | None = None,
                              api_version: int = 2, path_delimiter: str = "|",
                              path_escape: str = "\\") -> None:
        self.secrets_mount = secrets_mount if secrets_mount is not None else "secret"
        self.path_delimiter, self.path_escape = path_delimiter, path_escape
        self.authenticator = authenticator
        self.api_version = api_version
        self._session = await http_session(self, str(vault_server).rstrip("/"))
        self._token: str | None = None

    def escaped_split(self, s: str) -> list[str]:
        """`s` split at unescaped delimiters, escape characters removed (a trailing lone
        escape is dropped: the name may be meant for another provider)."""
        parts, current = [], ""
        chars = iter(s)
        for ch in chars:
            if ch == self.path_escape:
                current += next(chars, "")
            elif ch == self.path_delimiter:
                parts.append(current)
                current = ""
            else:
                current += ch
        return [*parts, current]

    def _url(self, path: str) -> str:
        infix = "/data" if self.api_version == 2 else ""
        return f"/v1/{self.secrets_mount}{infix}/{path.lstrip('/')}"

    async def _read(self, path: str) -> tuple[int, dict[str, Any]]:
        fresh = self._token is None
        code, body = await self._read_once(path)
        if code == 403 and not fresh:  # the token expired or was revoked: log in again
            self._token = None
            code, body = await self._read_once(path)
        return code, body

    def thd_hvac_wrap_read(self, path: str) -> dict[str, Any]:
        """Vault's answer for the secret at `path`, with the current token (4.3's hvac call).

        Blocking: call it from a thread (`deferToThread`), never from the reactor thread,
        which runs the request. KeyError when nothing is stored at `path`."""
        return self._from_thread(self._read_once, path)

    def thd_hvac_get(self, path: str) -> dict[str, Any]:
        """As `thd_hvac_wrap_read`, logging in first when there is no valid token yet."""
        return self._from_thread(self._read, path)

    def _from_thread(self, read: Callable[[str], Awaitable[tuple[int, dict[str, Any]]]],
                     path: str) -> dict[str, Any]:
        from twisted.internet import threads

        async def answer() -> dict[str, Any]:
            code, body = await read(path)
            if code == 404:
                raise KeyError(f"no secret at path '{path}'")
            if code != 200:
                raise VaultError(f"Vault answered HTTP {code} reading '{path}': "
                                 f"{body.get('errors', '')}")
            return body

        reactor: Any = getattr(self.master, "reactor", None)
        if reactor is None:
            from twisted.internet import reactor as global_reactor

            reactor = global_reactor
        body: dict[str, Any] = threads.blockingCallFromThread(reactor, as_deferred(answer))
        return body

    async def _read_once(self, path: str) -> tuple[int, dict[str, Any]]:
        if self._token is None:
            self._token = await self.authenticator.vault_token(self._session)
        res = await self._session.get(self._url(path), headers={"X-Vault-Token": self._token})
        return res.code, await _vault_json(res)

    async def get(self, entry: str) -> Any:
        """The value of attribute `<key>` of the secret at `<path>`, for `<path>|<key>`.

        KeyError for a malformed name or a missing path, version or attribute; VaultError
        when Vault refuses the request."""
        parts = self.escaped_split(entry)
        if len(parts) == 1:
            raise KeyError("Vault secret specification must contain attribute name separated "
                           f"from path by '{self.path_delimiter}'")
        if len(parts) > 2:
            raise KeyError(f"Multiple separators ('{self.path_delimiter}') found in vault path "
                           f"'{entry}'. All occurrences of '{self.path_delimiter}' in path or "
                           f"attribute name must be escaped using '{self.path_escape}'")
        path, key = parts
        code, body = await self._read(path)
        if code == 404:
            raise KeyError(f"The secret {entry} does not exist in Vault provider: no secret at "
                           f"path '{path}'")
        if code != 200:
            raise VaultError(f"Vault answered HTTP {code} reading '{path}': "
                             f"{body.get('errors', '')}")
        data = body.get("data") or {}
        if self.api_version == 2:  # KV v2 wraps the values with their metadata
            data = data.get("data")
            if data is None:  # the newest version is deleted (hvac raises here too)
                raise KeyError(f"The secret {entry} does not exist in Vault provider: the "
                               f"current version of '{path}' is deleted")
        try:
            return data[key]
        except KeyError as e:
            raise KeyError(f"The secret {entry} does not exist in Vault provider: {e}") from e
