"""`FailingBuildsetCanceller`: when a build of a watched builder fails, the other open build
requests of its buildset (all of them, or those of chosen builders) are cancelled.

`filters` is a list of `(builders, builders_to_cancel, SourceStampFilter)` triples;
`builders_to_cancel=None` cancels every other request of the buildset.
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from buildbot.schedulers.canceller import check_builder_filters
from buildbot.util.results import FAILURE
from buildbot.util.resultspec import Filter
from buildbot.util.service import BuildbotService
from buildbot.util.ssfilter import SourceStampFilter, extract_filter_values

log = Logger()

CANCEL_REASON = "Build has been cancelled because another build in the same buildset failed"

# per watched builder: (builders to cancel or None for all, source stamp filter)
_Rules = dict[str, list[tuple[frozenset[str] | None, SourceStampFilter]]]


class FailingBuildsetCanceller(BuildbotService):
    """Cancels the rest of a buildset as soon as one of its watched builds fails."""

    compare_attrs = (*BuildbotService.compare_attrs, "filters")

    def checkConfig(self, name: str, filters: Any) -> None:
        self.check_filters(filters)
        self.name = name
        self.filters = filters
        self._rules: _Rules = {}
        self._consumer: Any = None

    @classmethod
    def check_filters(cls, filters: Any) -> None:
        """Report malformed `filters` with config.error."""
        check_builder_filters(
            cls.__name__, filters, 3,
            "builders to track as the first item, builders to cancel as the second and "
            "SourceStampFilter as the third")

    @classmethod
    def filter_tuples_to_filter_set_object(cls, filters: Any) -> _Rules:
        """For each watched builder: (builders to cancel or None for all, filter) pairs."""
        rules: _Rules = {}
        for watched, to_cancel, ss_filter in filters:
            cancel = None if to_cancel is None else frozenset(
                extract_filter_values(to_cancel, "builders_to_cancel"))
            for builder in extract_filter_values(watched, "builders"):
                rules.setdefault(builder, []).append((cancel, ss_filter))
        return rules

    def reconfigService(self, name: str, filters: Any) -> None:
        self.filters = filters
        self._rules = self.filter_tuples_to_filter_set_object(filters)

    async def start(self) -> None:
        await super().start()
        self._consumer = await self.master.mq.startConsuming(
            self._on_finished, ("builds", None, "finished"))

    async def stop(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.stopConsuming()
        await super().stop()

    def _on_finished(self, key: Any, build: dict[str, Any]) -> None:
        if build["results"] == FAILURE:
            self.tasks.spawn(f"cancelling the buildset of build {build['buildid']}",
                             self._cancel_siblings(build))

    def _builders_to_cancel(self, builder: str, sourcestamps: list[dict[str, Any]]
                            ) -> frozenset[str] | None:
        """Names to cancel; None means all; empty when no rule matches."""
        names: set[str] = set()
        for ss in sourcestamps:
            for cancel, ss_filter in self._rules.get(builder, ()):
                if not ss_filter.is_matched(ss):
                    continue
                if cancel is None:
                    return None
                names |= cancel
        return frozenset(names)

    async def _cancel_siblings(self, build: dict[str, Any]) -> None:
        data = self.master.data
        failed = await data.get(("buildrequests", build["buildrequestid"]))
        builder = await data.get(("builders", build["builderid"]))
        buildset = await data.get(("buildsets", failed["buildsetid"]))
        to_cancel = self._builders_to_cancel(builder["name"], buildset["sourcestamps"])
        if to_cancel is not None and not to_cancel:
            return
        siblings = await data.get(("buildrequests",), filters=[
            Filter("buildsetid", "eq", [buildset["bsid"]]),
            Filter("complete", "eq", [False])])
        for br in siblings:
            brid = br["buildrequestid"]
            if brid == failed["buildrequestid"]:
                continue
            if to_cancel is not None:
                sibling_builder = await data.get(("builders", br["builderid"]))
                if sibling_builder is None or sibling_builder["name"] not in to_cancel:
                    continue
            log.info("{name}: cancelling build request {brid}: build {buildid} of its buildset "
                     "failed", name=self.name, brid=brid, buildid=build["buildid"])
            await data.control("cancel", {"reason": CANCEL_REASON},
                               ("buildrequests", str(brid)))
