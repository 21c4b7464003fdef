"""`WorkerMissingGenerator`: reports `workers/<id>/missing` events to the addresses the
worker lists in `notify_on_missing`."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from zope.interface import implementer

from buildbot import config
from buildbot.interfaces import IReportGenerator
from buildbot.reporters.message import MessageFormatterMissingWorker
from buildbot.util.deferred import maybe_await
from buildbot.util.service import ComparableMixin

ENCODING = "utf-8"


def _displayable_worker(worker: dict[str, Any]) -> dict[str, Any]:
    # Buildbot 4.3 workers announce `last_connection` as a time.ctime() string; an epoch
    # number is shown the same way.
    last = worker.get("last_connection")
    if isinstance(last, (int, float)) and not isinstance(last, bool):
        worker = dict(worker, last_connection=time.ctime(last))
    return worker


@implementer(IReportGenerator)
class WorkerMissingGenerator(ComparableMixin):
    """A report for each missing worker in `workers` ("all" or a list of names) that has
    addresses to notify; the recipients are those addresses."""

    compare_attrs: tuple[str, ...] = ("workers", "formatter")

    wanted_event_keys: ClassVar[list[tuple[str | None, ...]]] = [("workers", None, "missing")]

    def __init__(self, workers: Any = "all", message_formatter: Any = None) -> None:
        self.workers = workers
        self.formatter = message_formatter if message_formatter is not None \
            else MessageFormatterMissingWorker()

    def check(self) -> None:
        if not (self.workers == "all" or isinstance(self.workers, (list, tuple, set))):
            config.error("workers must be 'all', or list of worker names")

    def generate_name(self) -> str:
        name = type(self).__name__
        if self.workers is not None:
            # "+".join("all") is "a+l+l" in 4.3's default names; kept, names are stored.
            name += "_workers_" + "+".join(self.workers)
        return name

    def _is_message_needed(self, worker: dict[str, Any]) -> bool:
        return (self.workers == "all" or worker["name"] in self.workers) and \
            bool(worker.get("notify"))

    async def generate(self, master: Any, reporter: Any, key: tuple[str, ...],
                       worker: dict[str, Any]) -> dict[str, Any] | None:
        if not self._is_message_needed(worker):
            return None
        worker = _displayable_worker(worker)
        msg = await maybe_await(self.formatter.formatMessageForMissingWorker(master, worker))
        if msg["type"] not in ("plain", "html"):
            raise ValueError(f"'{msg['type']}' message type must be 'plain' or 'html'.")
        subject = msg["subject"]
        if subject is None:
            subject = f"Buildbot worker {worker['name']} missing"
        return {
            "body": msg["body"].encode(ENCODING),
            "subject": subject,
            "type": msg["type"],
            "results": None,
            "builds": None,
            "buildset": None,
            "users": worker["notify"],
            "patches": None,
            "logs": None,
            "worker": worker["name"],
        }
