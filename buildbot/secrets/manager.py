"""`master.secrets_manager`: looks secrets up in the configured providers, in order."""

from __future__ import annotations

from typing import Any

from buildbot.util.deferred import maybe_await
from buildbot.util.service import AsyncService


class SecretDetails:
    """A secret found by a provider."""

    def __init__(self, source: str, key: str, value: Any) -> None:
        self.source, self.key, self.value = source, key, value

    def __repr__(self) -> str:
        return f"<SecretDetails {self.source}:{self.key}>"


class SecretManager(AsyncService):
    """Holds c['secretsProviders']; `get(name)` returns the first provider's value."""

    reconfig_priority = 127

    def __init__(self) -> None:
        super().__init__(name="secrets")
        self.providers: list[Any] = []

    async def reconfigServiceWithBuildbotConfig(self, new_config: Any) -> None:
        new = list(getattr(new_config, "secretsProviders", None) or [])
        for old in self.providers:
            if old not in new and getattr(old, "running", False):
                await maybe_await(old.stopService())
        for provider in new:
            # providers reach the master (reactor, HTTP client) as in 4.3, where they are
            # children of the secrets manager
            if getattr(provider, "_master", False) is None and self.parent is not None:
                provider.master = self.parent
            reconf = getattr(provider, "reconfigServiceWithSibling", None)
            if reconf is not None:
                await maybe_await(reconf(provider))
            if hasattr(provider, "startService") and not getattr(provider, "running", False):
                await maybe_await(provider.startService())
        self.providers = new

    async def get(self, secret: str) -> Any:
        """The secret's value from the first provider that has it, or None."""
        for provider in self.providers:
            value = await maybe_await(provider.get(secret))
            if value is not None:
                return value
        return None

    async def get_details(self, secret: str) -> SecretDetails | None:
        for provider in self.providers:
            value = await maybe_await(provider.get(secret))
            if value is not None:
                return SecretDetails(type(provider).__name__, secret, value)
        return None

    async def stop(self) -> None:
        for provider in self.providers:
            if getattr(provider, "running", False):
                await maybe_await(provider.stopService())
        await super().stop()
