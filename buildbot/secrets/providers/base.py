"""`SecretProviderBase`: what a secrets provider (c['secretsProviders']) implements."""

from __future__ import annotations

import abc
from typing import Any

from buildbot.util.service import BuildbotService


class SecretProviderBase(BuildbotService):
    """A service answering `get(name)` with the secret's value (or a Deferred of it),
    None when it does not hold that secret."""

    @abc.abstractmethod
    def get(self, *args: Any, **kwargs: Any) -> Any:
        """The value of the secret named by the arguments, or None."""
