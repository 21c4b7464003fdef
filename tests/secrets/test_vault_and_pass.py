"""HashiCorpVaultKvSecretProvider against a local server implementing Vault's KV v1/v2
read and AppRole login endpoints (answers shaped as Vault's), and SecretInPass with the real
`pass` and gpg (a throwaway key in a temporary GNUPGHOME), both through a running master's
secrets manager."""

from __future__ import annotations

import json
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
from tests.reporters.remote_services import RecordingHttpServer
from tests.secrets.fake_vault import LOOKUPS, ROLE_TOKEN, FakeVault

pytestmark = pytest.mark.integration


class VaultServer(RecordingHttpServer):
    """The recording server answering as `fake` does."""

    def __init__(self, fake: FakeVault) -> None:
        super().__init__(fake.respond)
        self.fake = fake


@pytest_twisted.async_yield_fixture
async def vault() -> Any:
    srv = VaultServer(FakeVault())
    srv.start()
    yield srv
    await srv.stop()


RECORDED = json.loads((Path(__file__).parent / "vault_4_3.json").read_text())


@pytest_twisted.ensureDeferred
async def test_vault_kv2_with_approle_and_kv1_with_token_as_4_3(
        tmp_path: Path, vault: VaultServer) -> None:
    """The lookups of record_vault_4_3.py give 4.3's values and errors and make the same
    reads and logins (4.3's hvac also asks lookup-self before each read)."""
    cfg = master_config(secretsProviders=[
        secrets.HashiCorpVaultKvSecretProvider(
            vault_server=vault.url + "/",
            authenticator=secrets.VaultAuthenticatorApprole("role-1", "secret-1")),
        secrets.HashiCorpVaultKvSecretProvider(
            name="kv1", vault_server=vault.url, secrets_mount="kv", api_version=1,
            authenticator=secrets.VaultAuthenticatorToken("root"))])
    fake = vault.fake
    results = []
    async with running_master(tmp_path, cfg) as master:
        approle, token_v1 = master.secrets_manager.providers
        for which, name in LOOKUPS:
            if which == "revoke":  # the AppRole token is revoked: log in again, carry on
                fake.tokens, fake.role_token = {"root", "hvs.second"}, "hvs.second"
            provider = token_v1 if which == "token-v1" else approle
            try:
                results.append({"name": name, "value": await provider.get(name)})
            except KeyError as e:
                results.append({"name": name, "error": "KeyError", "message": str(e)})
        assert await master.render_secrets(util.Interpolate(
            "%(secret:ci/db|user)s")) == "ci"
    expected = RECORDED["lookups"]
    # hvac raises its InvalidPath for a missing path; we raise a KeyError naming the secret
    assert expected[3]["error"] == "InvalidPath"
    expected[3] = {"name": "ci/none|x", "error": "KeyError", "message":
                   "\"The secret ci/none|x does not exist in Vault provider: no secret at "
                   "path 'ci/none'\""}
    assert results == expected
    theirs = [(m, p) for m, p, _ in RECORDED["requests"] if p != "/v1/auth/token/lookup-self"]
    # hvac notices the revoked token by a lookup-self before the read, we by the read
    relogin = len(theirs) - 2
    assert theirs[relogin] == ("POST", "/v1/auth/approle/login")
    theirs.insert(relogin, ("GET", "/v1/secret/data/ci/db"))
    ours = [(r.method, r.path) for r in vault.requests.items]
    assert ours == [*theirs, ("GET", "/v1/secret/data/ci/db")]  # (+ the render)
    tokens = [r.headers.get("x-vault-token") for r in vault.requests.items if r.method == "GET"]
    assert tokens == [ROLE_TOKEN] * 4 + ["root", ROLE_TOKEN, "hvs.second", "hvs.second"]


@pytest_twisted.ensureDeferred
async def test_vault_reads_from_a_thread_as_4_3_hvac_calls(
        tmp_path: Path, vault: VaultServer) -> None:
    """thd_hvac_get / thd_hvac_wrap_read, called from a thread as 4.3 does, give Vault's
    whole answer (KV v2 wraps the values with their metadata)."""
    from twisted.internet import threads

    cfg = master_config(secretsProviders=[
        secrets.HashiCorpVaultKvSecretProvider(
            vault_server=vault.url,
            authenticator=secrets.VaultAuthenticatorApprole("role-1", "secret-1")),
        secrets.HashiCorpVaultKvSecretProvider(
            name="kv1", vault_server=vault.url, secrets_mount="kv", api_version=1,
            authenticator=secrets.VaultAuthenticatorToken("root"))])
    async with running_master(tmp_path, cfg) as master:
        approle, token_v1 = master.secrets_manager.providers
        answer = await threads.deferToThread(approle.thd_hvac_get, "ci/db")
        assert answer["data"]["data"] == {"password": "pa55|word", "user": "ci"}
        assert [(r.method, r.path) for r in vault.requests.items] == [
            ("POST", "/v1/auth/approle/login"), ("GET", "/v1/secret/data/ci/db")]
        answer = await threads.deferToThread(token_v1.thd_hvac_wrap_read, "team/deploy")
        assert answer["data"] == {"key": "d3pl0y"}
        with pytest.raises(KeyError, match="ci/none"):
            await threads.deferToThread(token_v1.thd_hvac_get, "ci/none")


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
            assert (await master.secrets_manager.get("ci/token")).value == "t0k3n-value"
            assert await master.secrets_manager.get("ci/missing") is None
    finally:  # the agent gpg started for the throwaway GNUPGHOME
        from twisted.internet import threads

        await threads.deferToThread(subprocess.run, ["gpgconf", "--kill", "gpg-agent"],
                                    env=dict(os.environ), capture_output=True, check=False)
