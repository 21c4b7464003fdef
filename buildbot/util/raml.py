"""Internals of Buildbot 4.3 (the REST API specification is not loaded from RAML here);
the names import, using them raises.

See docs/differences.md.
"""

from buildbot.util.internal import internal_class, internal_function

_WHY = "the REST API specification is not loaded from RAML here"
RamlLoader = internal_class(__name__, "RamlLoader", _WHY)
RamlSpec = internal_class(__name__, "RamlSpec", _WHY)
construct_include = internal_function(__name__, "construct_include", _WHY)
construct_mapping = internal_function(__name__, "construct_mapping", _WHY)
