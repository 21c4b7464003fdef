"""Configurators: objects in c['configurators'] that add to the configuration before it is
loaded (`configure(config_dict)`)."""

from __future__ import annotations

from typing import Any


class ConfiguratorBase:
    """Base of configurators; `configure` gets the BuildmasterConfig dict to extend."""

    def configure(self, config_dict: dict[str, Any]) -> None:
        self.config_dict = config_dict
        for key in ("schedulers", "workers", "builders", "protocols"):
            config_dict.setdefault(key, {} if key == "protocols" else [])
