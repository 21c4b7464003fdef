"""A faster, compatible reimplementation of the Buildbot build master.

`version` is the Buildbot release whose outside surface (master.cfg, CLI, schema, REST,
worker protocol) this code implements; `__version__` is this distribution's own version.
"""

version = "4.3.0"
__version__ = "4.3.0.post1"
