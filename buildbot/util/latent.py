"""`CompatibleLatentWorkerMixin`: a latent worker whose instance is shaped by build
properties (image, size...) and may only take builds that render to the same shape."""

from __future__ import annotations

import copy
from typing import Any

from buildbot.util.deferred import maybe_await


class CompatibleLatentWorkerMixin:
    """Subclasses implement `renderWorkerProps(build)` returning the rendered settings."""

    builds_may_be_incompatible = True
    _actual_build_props: Any = None

    def renderWorkerProps(self, build: Any) -> Any:
        raise NotImplementedError()

    async def renderWorkerPropsOnStart(self, build: Any) -> Any:
        """Render the settings for the instance being started, and remember them."""
        props = await maybe_await(self.renderWorkerProps(build))
        self._actual_build_props = copy.deepcopy(props)
        return props

    def resetWorkerPropsOnStop(self) -> None:
        self._actual_build_props = None

    async def isCompatibleWithBuild(self, build: Any) -> bool:
        """True if no instance runs, or the build renders to the running instance's settings."""
        if self._actual_build_props is None:
            return True
        requested = await maybe_await(self.renderWorkerProps(build))
        return bool(requested == self._actual_build_props)
