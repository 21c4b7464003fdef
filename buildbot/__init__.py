"""A faster, compatible reimplementation of the Buildbot build master.

`version` is the Buildbot release whose outside surface (master.cfg, CLI, schema, REST,
worker protocol) this code implements, and what plugins comparing `buildbot.version` see;
`project` and `__version__` name this implementation and its own release (also the version
of the `buildbot` distribution, so `buildbot>=4.3` requirements of plugins are met).
"""

version = "4.3.0"
project = "buildbot-fast"
__version__ = "4.3.0.post1"
# How this master names itself wherever a human reads it (CLI, twistd.log, About page).
identity = f"{project} {__version__} (compatible with Buildbot {version})"
