"""`master.secrets_manager`: runs c['secretsProviders'] and asks them for secrets, in order."""

from __future__ import annotations

from typing import Any

from buildbot.secrets.providers.base import SecretProviderBase
from buildbot.secrets.secret import SecretDetails
from buildbot.util.deferred import maybe_await
from buildbot.util.service import BuildbotServiceManager


class SecretManager(BuildbotServiceManager):
    """The providers are this service's children, kept equal to c['secretsProviders'] (by
    name) on every reconfiguration; `get(name)` asks them in the configured order."""

    config_attr = "secretsProviders"

    def __init__(self) -> None:
        super().__init__(name="secrets")

    @property
    def providers(self) -> list[Any]:
        """The running providers, in the order of c['secretsProviders']."""
        return list(self)

    async def setup(self) -> None:
        """Configure the providers of the master's current configuration (start-up, before
        the database is set up: its URL may name a secret)."""
        master: Any = getattr(self, "master", None)  # through the parents (hidden from mypy)
        await self.reconfigServiceWithBuildbotConfig(master.config)

    async def reconfigServiceWithBuildbotConfig(self, new_config: Any) -> None:
        wanted = self.get_service_config(new_config) \
            if getattr(new_config, self.config_attr, None) else {}
        for provider in wanted.values():
            if not isinstance(provider, SecretProviderBase):
                raise TypeError(f"c['{self.config_attr}'] entries must be secret providers, "
                                f"not {type(provider).__name__}")
        await super().reconfigServiceWithBuildbotConfig(new_config)
        # the children follow the configured order (adopted services keep their old place)
        order = list(wanted)
        self.services.sort(key=lambda svc: order.index(svc.name))

    async def get(self, secret: str, *args: Any, **kwargs: Any) -> SecretDetails | None:
        """The secret from the first provider that has it (its `.value`, `.source` and
        `.key`), or None. The extra arguments are accepted as 4.3 accepts them."""
        return await self.get_details(secret)

    async def get_details(self, secret: str) -> SecretDetails | None:
        """The secret from the first provider that has it (its class name as the source),
        or None."""
        for provider in self.providers:
            value = await maybe_await(provider.get(secret))
            if value is not None:
                return SecretDetails(type(provider).__name__, secret, value)
        return None
