"""Tiny config-time classes declaring the interfaces the configuration checks look for.

master.cfg files written by the tests import them (`from tests.config.cfgclasses import
...`); they stand for the real workers, schedulers, ... (tested in their own packages),
so these tests exercise only the configuration layer.
"""

from __future__ import annotations

from typing import Any

from zope.interface import implementer

from buildbot.interfaces import IChangeSource, IMachine, IScheduler, IWorker
from buildbot.util.service import BuildbotService


@implementer(IWorker)
class CfgWorker:
    def __init__(self, name: Any, password: str = "pw", machine_name: str | None = None) -> None:
        self.name = name
        self.password = password
        self.machine_name = machine_name

    def __repr__(self) -> str:
        return f"CfgWorker({self.name!r})"


@implementer(IScheduler)
class CfgScheduler:
    def __init__(self, name: str, builderNames: Any) -> None:
        self.name = name
        self.builderNames = builderNames


@implementer(IChangeSource)
class CfgChangeSource:
    def __init__(self, name: str = "poller") -> None:
        self.name = name


@implementer(IMachine)
class CfgMachine:
    def __init__(self, name: str) -> None:
        self.name = name


class CfgService(BuildbotService):
    """A real BuildbotService with nothing to do."""

    def checkConfig(self, *args: Any, **kwargs: Any) -> None:
        pass


class CfgConfigurator:
    """Adds a key to the config dict, as util.JanitorConfigurator does."""

    def __init__(self, key: str, value: Any) -> None:
        self.key, self.value = key, value

    def configure(self, config_dict: dict[str, Any]) -> None:
        config_dict[self.key] = self.value
