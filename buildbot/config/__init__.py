"""Configuration: loading and validating master.cfg (re-exports the names plugins import)."""

from buildbot.config.builder import BuilderConfig
from buildbot.config.errors import ConfigErrors, error
from buildbot.config.master import MasterConfig

__all__ = ["BuilderConfig", "ConfigErrors", "MasterConfig", "error"]
