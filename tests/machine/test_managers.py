"""The change source, scheduler and machine managers time their reconfigurations under
4.3's names for what they manage."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import pytest_twisted

from buildbot.changes.manager import ChangeManager
from buildbot.machine.manager import MachineManager
from buildbot.process import metrics
from buildbot.schedulers.manager import SchedulerManager


@pytest.mark.parametrize("cls,name", [(ChangeManager, "changesources"),
                                      (SchedulerManager, "schedulers"),
                                      (MachineManager, "machines")])
@pytest_twisted.ensureDeferred
async def test_reconfiguration_is_timed_under_the_managed_name(cls: type, name: str) -> None:
    manager = cls()
    assert manager.managed_services_name == name
    observer = metrics.MetricLogObserver()
    await observer.startService()
    try:
        empty = SimpleNamespace(change_sources={}, schedulers={}, machines={})
        await manager.reconfigServiceWithBuildbotConfig(empty)
        assert list(observer.timers) == [f"{name}.reconfig"]
        assert observer.timers[f"{name}.reconfig"][0] >= 0
    finally:
        await observer.stopService()
