"""Records what Buildbot 4.3's HashiCorpVaultKvSecretProvider (hvac in a thread) gives and
asks against tests/secrets/fake_vault.py. Run with the reference's interpreter and hvac on
the path (4.3's checkconfig wants hvac; the reference venv does not have it):

    pip install --target /tmp/hvacpkgs hvac
    PYTHONPATH=/tmp/hvacpkgs /work/refvenv/bin/python tests/secrets/record_vault_4_3.py

Writes tests/secrets/vault_4_3.json: each lookup's value (or exception type and message) and
the requests Vault received."""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.append(str(HERE.parent.parent))  # our tests package, after 4.3's buildbot

from twisted.internet import defer, reactor

from buildbot.secrets.providers.vault_hvac import (
    HashiCorpVaultKvSecretProvider,
    VaultAuthenticatorApprole,
    VaultAuthenticatorToken,
)
from tests.reporters.remote_services import RecordingHttpServer
from tests.secrets.fake_vault import LOOKUPS, FakeVault


async def record():
    fake = FakeVault()
    srv = RecordingHttpServer(fake.respond)
    srv.start()
    providers = {
        "approle": HashiCorpVaultKvSecretProvider(
            vault_server=srv.url + "/",
            authenticator=VaultAuthenticatorApprole("role-1", "secret-1")),
        "token-v1": HashiCorpVaultKvSecretProvider(
            name="kv1", vault_server=srv.url, secrets_mount="kv", api_version=1,
            authenticator=VaultAuthenticatorToken("root"))}
    providers["approle"].reconfigService(
        vault_server=srv.url + "/", authenticator=VaultAuthenticatorApprole("role-1", "secret-1"))
    providers["token-v1"].reconfigService(
        vault_server=srv.url, secrets_mount="kv", api_version=1,
        authenticator=VaultAuthenticatorToken("root"))
    results = []
    for which, name in LOOKUPS:
        if which == "revoke":
            fake.tokens, fake.role_token = {"root", "hvs.second"}, "hvs.second"
            which = "approle"
        try:
            results.append({"name": name, "value": await providers[which].get(name)})
        except Exception as e:  # noqa: BLE001 - recorded
            results.append({"name": name, "error": type(e).__name__, "message": str(e)})
    requests = [[r.method, r.path, r.headers.get("x-vault-token")] for r in srv.requests.items]
    await srv.port.stopListening()  # (the process ends right after)
    return {"lookups": results, "requests": requests}


def main():
    result = {}

    def start():
        d = defer.ensureDeferred(record())
        d.addCallback(result.update)
        d.addErrback(lambda f: (print(f.getTraceback()), result.setdefault("error", True)))
        d.addBoth(lambda _: reactor.stop())

    reactor.callLater(60, reactor.stop)  # never hang
    reactor.callWhenRunning(start)
    reactor.run()
    if "error" in result or not result:
        sys.exit(1)
    (HERE / "vault_4_3.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
