"""`UserManagerManager`: runs the user managers of c['user_managers']."""

from __future__ import annotations

from typing import Any

from buildbot.util.internal import differs_internally
from buildbot.util.service import BuildbotServiceManager


@differs_internally("created by the master, which passes no argument")
class UserManagerManager(BuildbotServiceManager):
    """Keeps the configured user managers (e.g. CommandlineUserManager) running."""

    config_attr = "user_managers"

    def __init__(self, master: Any = None) -> None:
        super().__init__(name="user_manager_manager")
        if master is not None:
            self.master = master
