"""The classic scheduler names at their old import path (`buildbot.scheduler`)."""

from buildbot.schedulers.basic import AnyBranchScheduler, Scheduler
from buildbot.schedulers.dependent import Dependent
from buildbot.schedulers.timed import Nightly, Periodic
from buildbot.schedulers.triggerable import Triggerable
from buildbot.schedulers.trysched import Try_Jobdir, Try_Userpass

__all__ = ["AnyBranchScheduler", "Dependent", "Nightly", "Periodic", "Scheduler", "Triggerable",
           "Try_Jobdir", "Try_Userpass"]
