"""Re-export: `StateMixin` lives in `buildbot.util.state`, where the reference has it."""

from buildbot.util.state import StateMixin

__all__ = ["StateMixin"]
