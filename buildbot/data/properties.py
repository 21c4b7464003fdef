"""Build and buildset properties: the dict form (`/builds/n/properties`), the list form
(`/builds/n/property_list`, `.../properties_list`) and the updates storing build properties.
"""

from __future__ import annotations

from collections import OrderedDict

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import (
    Endpoint,
    EndpointKind,
    ResourceType,
    take_sql_spec,
    update_method,
)
from buildbot.data.nesting import NestedLookup
from buildbot.util.deferred import maybe_await
from buildbot.util.resultspec import ResultSpec

property_entity = types.Entity("_property", {
    "name": types.String(),
    "source": types.String(),
    "value": types.JsonObject(),
})


def property_list(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`{name: (value, source)}` as list items `{name, source, value}` (value JSON-encoded)."""
    return [{"name": k, "source": v[1], "value": json.dumps(v[0])} for k, v in props.items()]


class BuildsetPropertiesEndpoint(Endpoint):
    """A buildset's properties as one object."""

    kind = EndpointKind.SINGLE
    pathPatterns = "/buildsets/n:bsid/properties"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        props = await self.connector.rtypes.buildset.properties([kwargs["bsid"]])
        return props[kwargs["bsid"]]


class BuildPropertiesEndpoint(Endpoint):
    """A build's properties as one object."""

    kind = EndpointKind.SINGLE
    pathPatterns = """
        /builders/n:builderid/builds/n:build_number/properties
        /builds/n:buildid/properties
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        buildid = await NestedLookup(self.db, kwargs).build_id()
        if buildid is None:
            return {}  # as Buildbot 4.3: an unknown build has no properties, not a 404
        return await self.db.builds.getBuildProperties(buildid)


class PropertiesListEndpoint(Endpoint):
    """Build, buildset or change properties as a list of items."""

    kind = EndpointKind.COLLECTION
    pathPatterns = """
        /builds/n:buildid/property_list
        /buildsets/n:bsid/properties_list
        /changes/n:changeid/properties_list
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        if "buildid" in kwargs:
            sql = take_sql_spec(result_spec, self.db.builds.property_result_spec_fields)
            props = await self.db.builds.getBuildProperties(kwargs["buildid"], result_spec=sql)
        elif "bsid" in kwargs:
            props = (await self.connector.rtypes.buildset.properties([kwargs["bsid"]]))[
                kwargs["bsid"]]
        else:
            # Buildbot 4.3 answers 500 here (docs/differences.md).
            change = await self.db.changes.getChange(kwargs["changeid"])
            props = change.properties if change is not None else {}
        return property_list(props)


class Property(ResourceType):
    """Properties as list items (`_property` / `_properties`)."""

    name = "_property"
    plural = "_properties"
    endpoints: ClassVar[list[type[Endpoint]]] = [PropertiesListEndpoint]
    entityType = property_entity


class Properties(ResourceType):
    """Properties as one object (`property` / `properties`)."""

    name = "property"
    plural = "properties"
    endpoints: ClassVar[list[type[Endpoint]]] = [BuildsetPropertiesEndpoint,
                                                 BuildPropertiesEndpoint]
    entityType = types.SourcedProperties()
    STORED_CACHE_SIZE = 1000

    def __init__(self, connector: Any) -> None:
        super().__init__(connector)
        self._stored: OrderedDict[int, dict[str, Any]] = OrderedDict()
        # {buildid: {name: (value, source)}} stored by `set_build_properties_and_state`
        # ahead of their announcement (not in `_stored` until announced).
        self.ahead: dict[int, dict[str, Any]] = {}

    def _announce(self, buildid: int, changed: dict[str, Any], seq: int) -> None:
        self.produce(("builds", str(buildid), "properties", "update"), changed, seq)

    @update_method
    async def setBuildProperties(self, buildid: int, properties: Any) -> None:
        """Store the rendered properties of `properties` (an IProperties) that differ from
        the stored ones; announce the changed ones in one `properties/update` message."""
        with self.writing() as seq:
            self.ahead.pop(buildid, None)  # stored again below if still different
            stored, changed = await self.changed_properties(buildid, properties)
            if changed:
                await self.db.builds.set_build_properties(buildid, changed)
            self.stored(buildid, stored, changed, seq)

    async def changed_properties(self, buildid: int, properties: Any
                                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(what is stored, what of `properties` differs from it) for a build; the stored
        ones are read only for a build this master has not written yet."""
        stored = self._stored.get(buildid)
        if stored is None:
            stored = dict(await self.db.builds.getBuildProperties(buildid))
        else:
            self._stored.move_to_end(buildid)
        real = properties.getProperties()
        rendered = await maybe_await(real.render(real.asDict()))
        changed: dict[str, Any] = {}
        for name, value_source in rendered.items():
            old = stored.get(name)
            if old is not None and tuple(old) == tuple(value_source):
                continue
            changed[name] = value_source
        return stored, changed

    def stored(self, buildid: int, stored: dict[str, Any], changed: dict[str, Any],
               seq: int) -> None:
        """`changed` (from `changed_properties`) is written: remember it, announce it."""
        stored.update(changed)
        self._remember(buildid, stored)
        if changed:
            self._announce(buildid, changed, seq)

    def build_created(self, buildid: int) -> None:
        """A build this master just added has no properties yet: the first
        `setBuildProperties` stores its properties without reading any back."""
        self._remember(buildid, {})

    def _remember(self, buildid: int, stored: dict[str, Any]) -> None:
        # The builds this master runs write their properties repeatedly (after every step);
        # keeping what was stored saves reading it back each time. Only this master writes
        # a running build's properties, so the copy stays right.
        self._stored[buildid] = stored
        self._stored.move_to_end(buildid)
        while len(self._stored) > self.STORED_CACHE_SIZE:
            self._stored.popitem(last=False)

    @update_method
    async def setBuildProperty(self, buildid: int, name: str, value: Any, source: str) -> None:
        """Store one build property and announce it."""
        with self.writing() as seq:
            self.ahead.pop(buildid, None)
            await self.db.builds.setBuildProperty(buildid, name, value, source)
            cached = self._stored.get(buildid)
            if cached is not None:
                cached[name] = (value, source)
            # Buildbot 4.3 sends {"name": ...} here, whatever the name (docs/differences.md).
            self._announce(buildid, {name: (value, source)}, seq)
