"""The API root (`/`, deprecated in 4.3 but still served) and `/application.spec`."""

from __future__ import annotations

from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType
from buildbot.util.resultspec import ResultSpec


class RootEndpoint(Endpoint):
    """`[{name}]` for every collection listed at the root, in registration order."""

    kind = EndpointKind.COLLECTION
    pathPatterns = "/"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        return [dict(link) for link in self.connector.rootLinks]


class Root(ResourceType):
    """The links of the API root (`rootlink` / `rootlinks`)."""

    name = "rootlink"
    plural = "rootlinks"
    endpoints: ClassVar[list[type[Endpoint]]] = [RootEndpoint]
    entityType = types.Entity("rootlink", {"name": types.String()})


class SpecEndpoint(Endpoint):
    """One entry per path pattern: `{path, plural, type, type_spec}`."""

    kind = EndpointKind.COLLECTION
    pathPatterns = "/application.spec"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        return self.connector.allEndpoints()


class Spec(ResourceType):
    """The description of every path (`spec` / `specs`)."""

    name = "spec"
    plural = "specs"
    endpoints: ClassVar[list[type[Endpoint]]] = [SpecEndpoint]
    entityType = types.Entity("spec", {
        "path": types.String(),
        "type": types.String(),
        "plural": types.String(),
        "type_spec": types.JsonObject(),
    })
