"""Patches: only embedded in source stamps (the type has no endpoints)."""

from __future__ import annotations

from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, ResourceType

patch_entity = types.Entity("patch", {
    "patchid": types.Integer(),
    "body": types.Binary(),
    "level": types.Integer(),
    "subdir": types.String(),
    "author": types.String(),
    "comment": types.String(),
})


def patch_message(row: Any) -> dict[str, Any]:
    """The `patch` body of a db PatchModel (`body` stays bytes: JSON shows it as null)."""
    return {
        "patchid": row.patchid,
        "level": row.level,
        "subdir": row.subdir,
        "author": row.author,
        "comment": row.comment,
        "body": row.body,
    }


class Patch(ResourceType):
    """Patches of source stamps (`patch`; embedded only)."""

    name = "patch"
    plural = "patches"
    endpoints: ClassVar[list[type[Endpoint]]] = []
    entityType = patch_entity
