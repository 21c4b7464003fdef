"""Force schedulers: the `forceschedulers` resource type (built from the configured
ForceScheduler objects, not stored) and its `force` action.

The objects come from the process layer through `DataConnector.force_scheduler_source`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType
from buildbot.data.buildrequests import MAX_PRIORITY
from buildbot.data.exceptions import (
    ControlParamsError,
    InvalidControlException,
    InvalidPathError,
)
from buildbot.data.resultspec import MAX_ID
from buildbot.util.deferred import maybe_await
from buildbot.util.resultspec import ResultSpec

forcescheduler_entity = types.Entity("forcescheduler", {
    "name": types.Identifier(50),
    "button_name": types.String(),
    "label": types.String(),
    "builder_names": types.List(of=types.Identifier(50)),
    "enabled": types.Boolean(),
    "all_fields": types.List(of=types.JsonObject()),
})


def forcescheduler_message(sched: Any) -> dict[str, Any]:
    """The `forcescheduler` body of a configured ForceScheduler."""
    return {
        "all_fields": [field.getSpec() for field in sched.all_fields],
        "name": str(sched.name),
        "button_name": str(sched.buttonName),
        "label": str(sched.label),
        "builder_names": [str(name) for name in sched.builderNames],
        "enabled": sched.enabled,
    }


def configured(connector: Any) -> Iterable[Any]:
    """The force schedulers of this master (none until the process layer says)."""
    source = connector.force_scheduler_source
    return list(source()) if source is not None else []


class ForceSchedulerEndpoint(Endpoint):
    """One configured force scheduler; action `force`."""

    kind = EndpointKind.SINGLE
    pathPatterns = "/forceschedulers/i:schedulername"

    def find(self, name: str) -> Any:
        for sched in configured(self.connector):
            if sched.name == name:
                return sched
        return None

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        sched = self.find(kwargs["schedulername"])
        return forcescheduler_message(sched) if sched is not None else None

    async def control(self, action: str, args: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        if action != "force":  # (Buildbot 4.3: 200 with a null result)
            raise InvalidControlException(f"action: {action} is not supported")
        sched = self.find(kwargs["schedulername"])
        if sched is None:  # (Buildbot 4.3: 500)
            raise InvalidPathError(f"no force scheduler named {kwargs['schedulername']!r}")
        await self._check_targets(sched, args)
        params = dict(args)
        params.setdefault("owner", "user")
        try:
            return await maybe_await(sched.force(**params))
        except Exception as e:  # noqa: BLE001 - re-raised (a 400 when it names fields)
            errors = getattr(e, "errors", None)
            if isinstance(errors, dict):
                raise ControlParamsError(errors) from e
            raise


    async def _check_targets(self, sched: Any, args: dict[str, Any]) -> None:
        """Refuse (400, naming the field) a `builderid` or `builderNames` that is malformed
        or names no builder of this scheduler, and a priority no database column holds
        (Buildbot 4.3: 500, or a build of any builder for a known `builderid`). The form
        fields themselves are checked by the scheduler."""
        names = args.get("builderNames")
        if names is not None and (not isinstance(names, list)
                                  or not all(isinstance(n, str) for n in names)):
            raise ControlParamsError("builderNames must be a list of builder names")
        if _out_of_range(args.get("priority"), MAX_PRIORITY):
            raise ControlParamsError({"priority": f"must be between {-MAX_PRIORITY} and "
                                                  f"{MAX_PRIORITY}"})
        builderid = args.get("builderid")
        if builderid is None or names is not None:
            return  # builderNames wins over builderid, as in the reference
        if isinstance(builderid, str) and builderid.isdigit():
            builderid = int(builderid)
        if not isinstance(builderid, int) or isinstance(builderid, bool) \
                or not 0 < builderid <= MAX_ID:
            raise ControlParamsError(f"builderid must be a builder id (an integer), "
                                     f"not {args['builderid']!r}")
        builder = await self.db.builders.getBuilder(builderid)
        if builder is None or builder.name not in sched.builderNames:
            raise ControlParamsError(f"builderid {builderid} is not a builder of force "
                                     f"scheduler {sched.name!r}")


def _out_of_range(value: Any, limit: int) -> bool:
    """Whether `value` is an integer (or integer text) beyond ±`limit`."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return False
    if isinstance(value, str) and len(value) > 40:
        return value.strip().lstrip("+-").isdigit()
    try:
        return abs(int(value)) > limit
    except ValueError:
        return False  # not a number: the form's own check names it


class ForceSchedulersEndpoint(Endpoint):
    """The configured force schedulers, all or those of a builder."""

    kind = EndpointKind.COLLECTION
    rootLinkName = "forceschedulers"
    pathPatterns = """
        /forceschedulers
        /builders/:builderid/forceschedulers
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        scheds = configured(self.connector)
        if "builderid" in kwargs:
            # A flagless element: text. (Buildbot 4.3: 500 for an unknown builder.)
            try:
                builder = await self.db.builders.getBuilder(int(kwargs["builderid"]))
            except ValueError:
                builder = None
            if builder is None:
                return []
            scheds = [s for s in scheds if builder.name in s.builderNames]
        return [forcescheduler_message(s) for s in scheds]


class ForceScheduler(ResourceType):
    """Force schedulers (`forcescheduler` / `forceschedulers`)."""

    name = "forcescheduler"
    plural = "forceschedulers"
    keyField = "name"
    endpoints: ClassVar[list[type[Endpoint]]] = [ForceSchedulerEndpoint,
                                                 ForceSchedulersEndpoint]
    entityType = forcescheduler_entity
