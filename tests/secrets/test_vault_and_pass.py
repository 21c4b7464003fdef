"""HashiCorpVaultKvSecretProvider against a local server implementing Vault's KV v1/v2
read and AppRole login endpoints (answers shaped as Vault's), and SecretInPass with the real
`pass` and gpg (a throwaway key in a temporary GNUPGHOME), both through a running master's
secrets manager."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import secrets, util
from tests.fixtures.master import running_master
from tests.reporters.builds import master_config
from tests.reporters.remote_services import RecordedRequest, RecordingHttpServer

pytestmark = pytest.mark.integration

ROLE_TOKEN = "hvs.CAESIJ3Zb1yXc2t0d1Q"


def vault_answer(kv: dict[str, dict[str, Any]], version: int, data: dict[str, Any]
                 ) -> dict[str, Any]:
    body: dict[str, Any] = {"request_id": "5e8a1b0c-7a4c-4d0f-9c1b-1f3e9a2b7c11",
                            "lease_id": "", "renewable": False, "lease_duration": 0,
                            "wrap_info": None, "warnings": None, "auth": None}
    if version == 1:
        body.update(lease_duration=2764800, data=data)
    else:
        body["data"] = {"data": data, "metadata": {
            "created_time": "2024-05-01T10:00:00.000000Z", "custom_metadata": None,
            "deletion_time": "", "destroyed": False, "version": 3}}
    return body


class FakeVault:
    """KV v2 mounted at secret/, KV v1 at kv/; tokens: 'root' and what AppRole hands out."""

    def __init__(self) -> None:
        self.tokens = {"root", ROLE_TOKEN}
        self.role_token = ROLE_TOKEN
        self.v2 = {"ci/db": {"password": "pa55|word", "user": "ci"}}
        self.v1 = {"team/deploy": {"key": "d3pl0y"}}

    def respond(self, req: RecordedRequest) -> tuple[int, Any]:
        if req.path == "/v1/auth/approle/login":
            if req.json() != {"role_id": "role-1", "secret_id": "secret-1"}:
                return 400, {"errors": ["invalid role or secret ID"]}
            return 200, {"request_id": "1", "lease_id": "", "renewable": False,
                         "lease_duration": 0, "data": None, "wrap_info": None,
                         "warnings": None, "auth": {
                             "client_token": self.role_token, "accessor": "acc",
                             "policies": ["default", "ci"], "token_policies": ["default", "ci"],
                             "metadata": {"role_name": "ci"}, "lease_duration": 2764800,
                             "renewable": True, "entity_id": "e", "token_type": "service",
                             "orphan": True}}
        if req.headers.get("x-vault-token") not in self.tokens:
            return 403, {"errors": ["permission denied"]}
        for prefix, store, version in (("/v1/secret/data/", self.v2, 2),
                                       ("/v1/kv/", self.v1, 1)):
            if req.path.startswith(prefix):
                path = req.path[len(prefix):]
                if path not in store:
                    return 404, {"errors": []}
                return 200, vault_answer(store, version, store[path])
        return 404, {"errors": []}


@pytest_twisted.async_yield_fixture
async def vault() -> Any:
    fake = FakeVault()
    srv = RecordingHttpServer(fake.respond)
    srv.start()
    srv.fake = fake  # type: ignore[attr-defined]
    yield srv
    await srv.stop()


@pytest_twisted.ensureDeferred
async def test_vault_kv2_with_approle_and_kv1_with_token(tmp_path: Path,
                                                         vault: RecordingHttpServer) -> None:
    cfg = master_config(secretsProviders=[
        secrets.HashiCorpVaultKvSecretProvider(
            vault_server=vault.url + "/",
            authenticator=secrets.VaultAuthenticatorApprole("role-1", "secret-1")),
        secrets.HashiCorpVaultKvSecretProvider(
            name="kv1", vault_server=vault.url, secrets_mount="kv", api_version=1,
            authenticator=secrets.VaultAuthenticatorToken("root"))])
    async with running_master(tmp_path, cfg) as master:
        manager = master.secrets_manager
        assert await manager.get("ci/db|user") == "ci"
        assert await master.render_secrets(util.Interpolate(
            "%(secret:ci/db|user)s")) == "ci"
        providers = manager.providers
        assert await providers[0].get("ci/db|password") == "pa55|word"
        assert await providers[1].get("team/deploy|key") == "d3pl0y"
        with pytest.raises(KeyError, match="The secret ci/db|nope does not exist in Vault"):
            await providers[0].get("ci/db|nope")
        with pytest.raises(KeyError, match="no secret at path 'ci/none'"):
            await providers[0].get("ci/none|x")
        with pytest.raises(KeyError, match="must contain attribute name"):
            await providers[0].get("just-a-name")
        with pytest.raises(KeyError, match="Multiple separators"):
            await providers[0].get("a|b|c")
        # the AppRole token is revoked: the provider logs in again and carries on
        fake: FakeVault = vault.fake  # type: ignore[attr-defined]
        fake.tokens, fake.role_token = {"root", "hvs.second"}, "hvs.second"
        assert await providers[0].get("ci/db|user") == "ci"
    requests = [(r.method, r.path, r.headers.get("x-vault-token")) for r in vault.requests.items]
    assert requests[:3] == [("POST", "/v1/auth/approle/login", None),
                            ("GET", "/v1/secret/data/ci/db", ROLE_TOKEN),
                            ("GET", "/v1/secret/data/ci/db", ROLE_TOKEN)]
    assert ("GET", "/v1/kv/team/deploy", "root") in requests
    assert requests[-3:] == [("GET", "/v1/secret/data/ci/db", ROLE_TOKEN),
                             ("POST", "/v1/auth/approle/login", None),
                             ("GET", "/v1/secret/data/ci/db", "hvs.second")]


def test_vault_escaped_split() -> None:
    provider = secrets.HashiCorpVaultKvSecretProvider(
        vault_server="http://v", authenticator=secrets.VaultAuthenticatorToken("t"))
    provider.path_delimiter, provider.path_escape = "|", "\\"
    assert provider.escaped_split("a\\|b|c\\\\d|e\\") == ["a|b", "c\\d", "e"]


def make_password_store(tmp_path: Path) -> tuple[Path, Path]:
    gnupg = tmp_path / "gnupg"
    gnupg.mkdir(mode=0o700)
    store = tmp_path / "store"
    env = dict(os.environ, GNUPGHOME=str(gnupg), PASSWORD_STORE_DIR=str(store))
    params = ("%no-protection\nKey-Type: EDDSA\nKey-Curve: ed25519\nSubkey-Type: ECDH\n"
              "Subkey-Curve: cv25519\nName-Real: Buildbot Test\n"
              "Name-Email: bb@example.org\nExpire-Date: 0\n%commit\n")
    subprocess.run(["gpg", "--batch", "--gen-key"], input=params, text=True, env=env,
                   check=True, capture_output=True)
    subprocess.run(["pass", "init", "bb@example.org"], env=env, check=True,
                   capture_output=True)
    subprocess.run(["pass", "insert", "-m", "ci/token"], input="t0k3n-value\nsecond line\n",
                   text=True, env=env, check=True, capture_output=True)
    return gnupg, store


@pytest.mark.skipif(shutil.which("pass") is None or shutil.which("gpg") is None,
                    reason="pass and gpg are not installed")
@pytest_twisted.ensureDeferred
async def test_secret_in_pass_reads_first_line(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    gnupg, store = make_password_store(tmp_path)
    monkeypatch.setenv("GNUPGHOME", str(gnupg))
    cfg = master_config(secretsProviders=[secrets.SecretInPass(dirname=str(store))])
    try:
        async with running_master(tmp_path / "master", cfg) as master:
            assert await master.secrets_manager.get("ci/token") == "t0k3n-value"
            assert await master.secrets_manager.get("ci/missing") is None
    finally:  # the agent gpg started for the throwaway GNUPGHOME
        from twisted.internet import threads

        await threads.deferToThread(subprocess.run, ["gpgconf", "--kill", "gpg-agent"],
                                    env=dict(os.environ), capture_output=True, check=False)
