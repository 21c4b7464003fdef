"""A stand-in for HashiCorp Vault: KV v2 mounted at secret/, KV v1 at kv/, AppRole login and
token lookup, answering with Vault's payload shapes. Imports only Twisted, so the recording
script can run it under Buildbot 4.3's interpreter too."""

from __future__ import annotations

from typing import Any

from tests.reporters.remote_services import RecordedRequest

# the lookups recorded from 4.3 (record_vault_4_3.py) and replayed by the test:
# (provider, secret name); "revoke" revokes the AppRole token first
LOOKUPS = [("approle", "ci/db|user"), ("approle", "ci/db|password"),
           ("approle", "ci/db|nope"), ("approle", "ci/none|x"), ("approle", "just-a-name"),
           ("approle", "a|b|c"), ("token-v1", "team/deploy|key"),
           ("revoke", "ci/db|user")]

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
        if req.path == "/v1/auth/token/lookup-self":  # what hvac's is_authenticated() asks
            return 200, {"data": {"id": req.headers["x-vault-token"], "policies": ["ci"]}}
        for prefix, store, version in (("/v1/secret/data/", self.v2, 2),
                                       ("/v1/kv/", self.v1, 1)):
            if req.path.startswith(prefix):
                path = req.path[len(prefix):]
                if path not in store:
                    return 404, {"errors": []}
                return 200, vault_answer(store, version, store[path])
        return 404, {"errors": []}
