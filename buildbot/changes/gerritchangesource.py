"""Gerrit change sources: `GerritChangeSource` (events from `gerrit stream-events` over
SSH, gaps filled from the events-log plugin over HTTP when `http_url` is given) and
`GerritEventLogPoller` (the events-log plugin alone), plus `util.GerritChangeFilter`.

Each handled event becomes a change whose properties are the event's fields under
`event.` (`event.change.number`, `event.patchSet.ref`, ...), as in Buildbot 4.3.

State (object: the source's name and class name): `last_event_ts`, the `eventCreatedOn`
of the newest event handled, and for GerritChangeSource `last_event_hashes`, hashes of the
events of that second, so that after a restart an event is neither lost nor reported twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot import config
from buildbot.changes.base import ChangeSource, Poller
from buildbot.changes.filter import ChangeFilter
from buildbot.changes.gerrit_connectors import (
    GerritHttpEventLogPollerConnector,
    GerritSshStreamEventsConnector,
)
from buildbot.config.checks import check_param_int, check_param_int_none
from buildbot.util.deferred import ensure_deferred, maybe_await
from buildbot.util.misc import bytes2unicode
from buildbot.util.pullrequest import PullRequestMixin
from buildbot.util.ssfilter import NotABranch

log = Logger()

DEFAULT_HANDLED_EVENTS = ("patchset-created", "ref-updated")
# events whose change is a patch set under review (its branch is the patch set's ref)
_REVIEW_EVENTS = ("patchset-created", "comment-added")


class GerritChangeFilter(ChangeFilter):
    """A ChangeFilter on Gerrit's own fields: `branch*` match the target branch of the
    review (`event.change.branch`, not the change's branch, which is the patch set ref)
    and `eventtype*` the event type."""

    # ChangeFilter declares a fixed-length tuple
    compare_attrs: tuple[str, ...] = (  # type: ignore[assignment]  # a tuple extends the base's list (4.3's surface)
        *ChangeFilter.compare_attrs, "eventtype_fn", "gerrit_branch_fn")

    def __init__(self, branch: Any = NotABranch, branch_re: Any = None,
                 branch_fn: Callable[[str], bool] | None = None, eventtype: Any = None,
                 eventtype_re: Any = None, eventtype_fn: Callable[[str], bool] | None = None,
                 **kw: Any) -> None:
        exact = {"event.type": eventtype}
        if branch is not NotABranch:  # None included: refused by the property filter, as in 4.3
            exact["event.change.branch"] = branch
        patterns = {"event.type": eventtype_re, "event.change.branch": branch_re}
        for key, given in (("property_eq", exact), ("property_re", patterns)):
            wanted = {prop: v for prop, v in given.items()
                      if v is not None or prop == "event.change.branch" and key == "property_eq"}
            if wanted:
                kw.setdefault(key, {}).update(wanted)
        super().__init__(**kw)
        self.eventtype_fn = eventtype_fn
        self.gerrit_branch_fn = branch_fn

    def _gerrit_fns(self) -> list[tuple[Callable[[str], bool], str, str]]:
        """(callable, property it tests, what the description calls it) of those given."""
        return [(fn, prop, label) for fn, prop, label in (
            (self.eventtype_fn, "event.type", "eventtype"),
            (self.gerrit_branch_fn, "event.change.branch", "branch")) if fn is not None]

    def filter_change(self, change: Any) -> bool:
        if not all(fn(change.properties.getProperty(prop, ""))
                   for fn, prop, _ in self._gerrit_fns()):
            return False
        return super().filter_change(change)

    def _describe(self) -> list[str]:
        return [*super()._describe(),
                *(f"{fn.__name__}({label})" for fn, _, label in self._gerrit_fns())]


def _gerrit_user_to_author(props: dict[str, Any], username: str = "unknown") -> str:
    """`Name <email>` from a Gerrit account object (name, else username, else `username`)."""
    who = props.get("name", props.get("username", username))
    return f"{who} <{props['email']}>" if "email" in props else who


def _canonicalize_event(event: dict[str, Any]) -> dict[str, Any]:
    """The event with `change.project` as a plain name (the events-log plugin gives
    `{"name": ...}` where the stream gives the name)."""
    project = event.get("change", {}).get("project")
    if not isinstance(project, dict) or "name" not in project:
        return event
    return {**event, "change": {**event["change"], "project": project["name"]}}


def extract_gerrit_event_time(event: dict[str, Any]) -> int:
    return int(event["eventCreatedOn"])


def build_gerrit_event_hash(event: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(event, sort_keys=True).encode("utf-8")).hexdigest()


def is_event_valid(event: Any) -> bool:
    return isinstance(event, dict) and "type" in event and "eventCreatedOn" in event


class GerritChangeSourceBase(ChangeSource, PullRequestMixin):
    """Turns Gerrit events into changes. Subclasses may add `eventReceived_<type>`
    methods (dashes as underscores) called with (properties, event) for that type."""

    # plain class attributes: 4.3 plugins override them the same way
    external_property_denylist = ["event.eventCreatedOn"]  # noqa: RUF012
    external_property_whitelist = ["*"]  # noqa: RUF012
    property_basename = "event"

    def checkConfig(self, gitBaseURL: str | None = None,
                    handled_events: tuple[str, ...] | list[str] = DEFAULT_HANDLED_EVENTS,
                    debug: bool = False, get_files: bool = False) -> None:
        if gitBaseURL is None:
            config.error("gitBaseURL must be specified")

    def reconfigService(self, gitBaseURL: str | None = None,
                        handled_events: tuple[str, ...] | list[str] = DEFAULT_HANDLED_EVENTS,
                        debug: bool = False, get_files: bool = False) -> Any:
        self.gitBaseURL = gitBaseURL
        self.handled_events = list(handled_events)
        self._get_files = get_files
        self.debug = debug
        return None

    def build_properties(self, event: dict[str, Any]) -> dict[str, Any]:
        properties = self.extractProperties(event)
        properties["event.source"] = type(self).__name__
        if event["type"] in _REVIEW_EVENTS and "change" in event:
            properties["target_branch"] = event["change"]["branch"]
        return properties

    def getFiles(self, change: Any, patchset: Any) -> Any:
        raise NotImplementedError

    def eventReceived(self, event: dict[str, Any]) -> defer.Deferred[Any]:
        """Add the change for `event` if its type is handled (a Deferred, for plugins)."""
        return ensure_deferred(self._event_received(event))

    async def _event_received(self, event: dict[str, Any]) -> None:
        if event["type"] not in self.handled_events:
            if self.debug:
                log.info("the event type '{type}' is not setup to handle", type=event["type"])
            return
        properties = self.build_properties(event)
        handler = getattr(self, f"eventReceived_{event['type'].replace('-', '_')}", None)
        if handler is None:
            handler = self.addChangeFromEvent
        await maybe_await(handler(properties, event))

    def get_branch_from_event(self, event: dict[str, Any]) -> str:
        if event["type"] in _REVIEW_EVENTS:
            return str(event["patchSet"]["ref"])
        return str(event["change"]["branch"])

    def strip_refs_heads_from_branch(self, branch: str) -> str:
        return branch.removeprefix("refs/heads/")

    def addChangeFromEvent(self, properties: dict[str, Any],
                           event: dict[str, Any]) -> defer.Deferred[None]:
        return ensure_deferred(self._add_change_from_event(properties, event))

    async def _add_change_from_event(self, properties: dict[str, Any],
                                     event: dict[str, Any]) -> None:
        if "change" not in event or "patchSet" not in event:
            if self.debug:
                log.info("unsupported event {type}", type=event["type"])
            return
        event = _canonicalize_event(event)
        change = event["change"]
        files = ["unknown"]
        if self._get_files:
            files = await maybe_await(self.getFiles(change=change["number"],
                                                    patchset=event["patchSet"]["number"]))
        await self.master.data.updates.addChange(
            author=_gerrit_user_to_author(change["owner"]),
            project=bytes2unicode(change["project"]),
            repository=f"{self.gitBaseURL}/{change['project']}",
            branch=self.get_branch_from_event(event),
            revision=event["patchSet"]["revision"], revlink=change["url"],
            comments=change["subject"], files=files, category=event["type"],
            properties=properties)

    def eventReceived_ref_updated(self, properties: dict[str, Any],
                                  event: dict[str, Any]) -> defer.Deferred[Any]:
        ref = event["refUpdate"]
        # A push for review also updates refs/changes/...; when patchset-created is
        # handled that event carries the change, and building from this one as well would
        # start builds without the review's properties.
        if "patchset-created" in self.handled_events and \
                ref["refName"].startswith("refs/changes/"):
            return defer.succeed(None)
        author = _gerrit_user_to_author(event["submitter"], "gerrit") \
            if "submitter" in event else "gerrit"
        return ensure_deferred(self.master.data.updates.addChange(
            author=author, project=ref["project"],
            repository=f"{self.gitBaseURL}/{ref['project']}",
            branch=self.strip_refs_heads_from_branch(ref["refName"]),
            revision=ref["newRev"], comments="Gerrit: commit(s) pushed.", files=["unknown"],
            category=event["type"], properties=properties))

    def _parse_line(self, line: bytes) -> dict[str, Any] | None:
        try:
            event = json.loads(bytes2unicode(line))
        except ValueError:
            log.warn("{name}: bad json line: {line!r}", name=self.name, line=line)  # noqa: G010
            return None
        if not is_event_valid(event):
            if self.debug:
                log.info("no type in event {line!r}", line=line)
            return None
        result: dict[str, Any] | None = event
        return result


class _SeenEvents:
    """The newest event time handled and the events of that second (after a restart:
    only their hashes, from the state)."""

    def __init__(self) -> None:
        self.last_ts: int | None = None
        self.events: list[dict[str, Any]] = []
        self.saved_hashes: list[str] | None = None

    def seen(self, ts: int, event: dict[str, Any]) -> bool:
        if self.last_ts is None or ts > self.last_ts:
            return False
        if ts < self.last_ts:
            return True
        return event in self.events or (
            self.saved_hashes is not None and build_gerrit_event_hash(event) in
            self.saved_hashes)

    def record(self, ts: int, event: dict[str, Any]) -> None:
        if ts != self.last_ts:
            self.last_ts, self.events, self.saved_hashes = ts, [], None
        self.events.append(event)


class _RunOneAtATime:
    """Runs `action` now (`force`) or later (`schedule`), never twice at once: a request
    during a run makes it run again right after."""

    def __init__(self, clock: Any, action: Callable[[], Any]) -> None:
        self._clock, self._action = clock, action
        self._call: Any = None
        self._running: defer.Deferred[None] | None = None
        self._again = False

    def force(self) -> None:
        self.schedule(0)

    def schedule(self, delay: float) -> None:
        self._cancel()
        if self._running is not None and delay == 0:
            self._again = True
            return
        self._call = self._clock.callLater(delay, self._run)

    def _cancel(self) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None

    def _run(self) -> None:
        self._call = None
        if self._running is not None:
            self._again = True
            return
        self._running = ensure_deferred(maybe_await(self._action()))
        self._running.addErrback(lambda f: log.failure("while polling Gerrit", f))
        self._running.addBoth(self._done)

    def _done(self, _: Any) -> None:
        self._running = None
        if self._again:
            self._again = False
            self._run()

    async def stop(self) -> None:
        self._cancel()
        self._again = False
        if self._running is not None:
            waiting: defer.Deferred[None] = defer.Deferred()
            self._running.addBoth(lambda _: waiting.callback(None))
            await waiting


class _Watchdog:
    """Calls `fn` when `notify()` was not called for `interval` seconds since `start()`."""

    def __init__(self, clock: Any, fn: Callable[[], None], interval: float) -> None:
        self._clock, self._fn, self._interval = clock, fn, interval
        self._call: Any = None

    def start(self) -> None:
        self.stop()
        self._call = self._clock.callLater(self._interval, self._fire)

    def notify(self) -> None:
        if self._call is not None and self._call.active():
            self._call.reset(self._interval)

    def stop(self) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None

    def _fire(self) -> None:
        self._call = None
        self._fn()


class GerritChangeSource(GerritChangeSourceBase):
    """`changes.GerritChangeSource(gerritserver, username, gerritport=29418,
    identity_file=None, ssh_server_alive_interval_s=15, ssh_server_alive_count_max=3,
    http_url=None, http_auth=None, http_poll_interval=30, gitBaseURL=<ssh URL>,
    handled_events=("patchset-created", "ref-updated"), debug=False, get_files=False)`.

    With `http_url`, the events-log plugin is read whenever the stream (re)starts, until
    the polled events reach the first streamed one, and whenever the stream stays silent
    for `http_poll_interval` seconds: if the plugin then has events the stream did not
    deliver, the stream is restarted.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stream: GerritSshStreamEventsConnector | None = None
        self._poll_connector: GerritHttpEventLogPollerConnector | None = None
        self._seen = _SeenEvents()
        self._saved_ts: int | None = None
        self._state_loaded = False
        self._start_ts: float | None = None
        self._queued: list[tuple[int, dict[str, Any]]] = []
        # False while events must come from the poll first (stream events wait in _queued)
        self._synchronized = True
        # True once the watchdog found the stream silent (maybe broken, maybe idle)
        self._stream_silent = False
        self._poll_runner: _RunOneAtATime | None = None
        self._watchdog: _Watchdog | None = None
        self._pending: set[defer.Deferred[Any]] = set()

    def checkConfig(self, gerritserver: str, username: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    gerritport: int = 29418, identity_file: str | None = None,
                    ssh_server_alive_interval_s: int | None = 15,
                    ssh_server_alive_count_max: int | None = 3, http_url: str | None = None,
                    http_auth: Any = None, http_poll_interval: int = 30,
                    **kwargs: Any) -> None:
        if self.name is None:
            self.name = f"GerritChangeSource:{username}@{gerritserver}:{gerritport}"
        kwargs.setdefault("gitBaseURL", "automatic at reconfigure")
        check_param_int_none(ssh_server_alive_interval_s, type(self),
                             "ssh_server_alive_interval_s")
        check_param_int_none(ssh_server_alive_count_max, type(self),
                             "ssh_server_alive_count_max")
        check_param_int(http_poll_interval, type(self), "http_poll_interval")
        super().checkConfig(**kwargs)

    async def reconfigService(self, gerritserver: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              username: str, gerritport: int = 29418,
                              identity_file: str | None = None, name: str | None = None,
                              ssh_server_alive_interval_s: int | None = 15,
                              ssh_server_alive_count_max: int | None = 3,
                              http_url: str | None = None, http_auth: Any = None,
                              http_poll_interval: int = 30, **kwargs: Any) -> None:
        kwargs.setdefault("gitBaseURL", f"ssh://{username}@{gerritserver}:{gerritport}")
        self.gerritserver, self.gerritport = gerritserver, gerritport
        self.username, self.identity_file = username, identity_file
        self._http_poll_interval = http_poll_interval
        clock = self.master.reactor
        if self._stream is None:  # connection settings apply at the first configuration
            self._stream = GerritSshStreamEventsConnector(
                clock, self, gerritserver, username, gerritport=gerritport,
                identity_file=identity_file,
                ssh_server_alive_interval_s=ssh_server_alive_interval_s,
                ssh_server_alive_count_max=ssh_server_alive_count_max,
                on_process_start_cb=self._stream_started,
                on_line_received_cb=self._line_from_stream)
        self._stream_silent = False
        self._oid = int(await self.master.data.updates.getObjectId(self.name,
                                                                   type(self).__name__))
        if self._start_ts is None:
            self._start_ts = clock.seconds()
        if not self._state_loaded:
            self._state_loaded = True
            updates = self.master.data.updates
            self._seen.last_ts = await updates.getState(self._oid, "last_event_ts", None)
            self._saved_ts = self._seen.last_ts
            self._seen.saved_hashes = await updates.getState(self._oid, "last_event_hashes",
                                                             None)
        if self._poll_runner is not None:
            await self._poll_runner.stop()
        self._poll_runner = _RunOneAtATime(clock, self._poll_once)
        if http_url is not None:
            if self._poll_connector is None:
                self._poll_connector = GerritHttpEventLogPollerConnector(
                    clock, self, http_url + "/a", http_auth,
                    lambda: self._seen.last_ts or self._start_ts or 0,
                    first_fetch_lookback=0, on_lines_received_cb=self._lines_from_poll)
                await self._poll_connector.setup()
            self._synchronized = False
        else:
            self._poll_connector = None
            self._synchronized = True
        was_watching = self._watchdog is not None and self.active
        if self._watchdog is not None:
            self._watchdog.stop()
        self._watchdog = _Watchdog(clock, self._stream_went_silent, http_poll_interval)
        if was_watching:  # reconfigured while running: keep watching the stream
            self._watchdog.start()
        await maybe_await(super().reconfigService(**kwargs))

    async def _poll_once(self) -> None:
        if self._poll_connector is not None:
            await self._poll_connector.do_poll()

    async def activate(self) -> None:
        assert self._stream is not None and self._watchdog is not None
        self._synchronized = self._poll_connector is None
        self._stream.start()
        self._watchdog.start()

    async def deactivate(self) -> None:
        assert self._stream is not None and self._watchdog is not None
        assert self._poll_runner is not None
        self._watchdog.stop()
        await self._stream.stop()  # no event is accepted after this
        await self._poll_runner.stop()
        while self._pending:
            await defer.DeferredList(list(self._pending), consumeErrors=True)
        hashes = [build_gerrit_event_hash(e) for e in self._seen.events] or None
        await self.master.data.updates.setState(self._oid, "last_event_hashes", hashes)

    def getFiles(self, change: Any, patchset: Any) -> defer.Deferred[list[str]]:
        assert self._stream is not None
        return ensure_deferred(self._stream.get_files(change, patchset))

    def describe(self) -> str:
        status = "" if self._stream is not None and self._stream.connected else \
            "[NOT CONNECTED - check log]"
        return ("GerritChangeSource watching the remote Gerrit repository "
                f"{self.username}@{self.gerritserver} {status}")

    # -- the two sources -------------------------------------------------------------
    def _stream_started(self) -> None:
        if self._poll_connector is None:
            return
        assert self._poll_runner is not None
        self._synchronized = False
        self._poll_runner.force()

    def _stream_went_silent(self) -> None:
        if self._poll_connector is None:
            return
        assert self._poll_runner is not None
        self._stream_silent = True
        self._poll_runner.force()

    async def _save_last_ts(self) -> None:
        if self._seen.last_ts != self._saved_ts:
            self._saved_ts = self._seen.last_ts
            await self.master.data.updates.setState(self._oid, "last_event_ts",
                                                    self._seen.last_ts)

    async def _handle(self, ts: int, event: dict[str, Any], polled: bool = False) -> None:
        self._seen.record(ts, event)
        if polled and self.debug:
            log.info("{name} accepted polled event: {line}", name=self.name,
                     line=json.dumps(event, sort_keys=True))
        await self.eventReceived(event)

    async def _line_from_stream(self, line: bytes) -> None:
        assert self._watchdog is not None and self._poll_runner is not None
        self._watchdog.notify()
        event = self._parse_line(line)
        if event is None:
            return
        ts = extract_gerrit_event_time(event)
        if self._synchronized:
            await self._take_streamed(ts, event)
            return
        # the poll has not caught up with the stream: the event waits for it
        self._queued.append((ts, event))
        if self._poll_connector is not None:
            self._poll_runner.force()

    async def _take_streamed(self, ts: int, event: dict[str, Any]) -> None:
        assert self._watchdog is not None and self._poll_runner is not None
        was_silent, self._stream_silent = self._stream_silent, False
        if was_silent:  # it speaks again: watch it again, no catch-up poll needed
            self._watchdog.start()
        await self._poll_runner.stop()
        await self._handle(ts, event)
        await self._save_last_ts()

    def _restart_stream(self) -> None:
        assert self._stream is not None and self._watchdog is not None
        d = ensure_deferred(self._stream.restart())
        self._pending.add(d)
        d.addBoth(lambda r: self._pending.discard(d))
        self._watchdog.start()

    async def _lines_from_poll(self, lines: list[bytes]) -> None:
        assert self._poll_runner is not None
        if self._synchronized and not self._stream_silent:
            return
        parsed = [e for e in map(self._parse_line, lines) if e is not None]
        events = sorted(((extract_gerrit_event_time(e), e) for e in parsed
                         if not self._seen.seen(extract_gerrit_event_time(e), e)),
                        key=lambda te: te[0])
        if not events:
            self._poll_runner.schedule(self._http_poll_interval)
            return
        newest = events[-1][0]
        restart = False
        if self._stream_silent and (self._seen.last_ts is None or newest > self._seen.last_ts):
            # the poll has events the stream never delivered: the stream is broken
            self._synchronized = self._stream_silent = False
            restart = True
        if not self._queued or newest <= self._queued[0][0]:
            # not caught up with the stream yet: take everything, poll again later
            for ts, event in events:
                await self._handle(ts, event, polled=True)
            await self._save_last_ts()
            self._poll_runner.schedule(self._http_poll_interval)
            if restart:
                self._restart_stream()
            return
        # the poll reaches the first streamed event: the stream has everything after it
        first_streamed = self._queued[0][0]
        for ts, event in events:
            if ts <= first_streamed:
                await self._handle(ts, event, polled=True)
        queued, self._queued = self._queued, []
        for ts, event in queued:
            if not (ts == self._seen.last_ts and event in self._seen.events):
                await self._handle(ts, event)
        self._synchronized = not restart
        await self._save_last_ts()
        if restart:
            self._restart_stream()


class GerritEventLogPoller(GerritChangeSourceBase):
    """`changes.GerritEventLogPoller(baseURL, auth, pollInterval=30, pollAtLaunch=True,
    firstFetchLookback=30, gitBaseURL=..., handled_events=..., debug=False,
    get_files=False)`: reads the events-log plugin every `pollInterval` seconds."""

    POLL_INTERVAL_SEC = 30
    FIRST_FETCH_LOOKBACK_DAYS = 30

    def checkConfig(self, baseURL: str, auth: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    pollInterval: int = POLL_INTERVAL_SEC, pollAtLaunch: bool = True,
                    firstFetchLookback: int = FIRST_FETCH_LOOKBACK_DAYS,
                    **kwargs: Any) -> None:
        if self.name is None:
            self.name = f"GerritEventLogPoller:{baseURL}"
        super().checkConfig(**kwargs)

    async def reconfigService(self, baseURL: str, auth: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              pollInterval: int = POLL_INTERVAL_SEC, pollAtLaunch: bool = True,
                              firstFetchLookback: int = FIRST_FETCH_LOOKBACK_DAYS,
                              **kwargs: Any) -> None:
        await maybe_await(super().reconfigService(**kwargs))
        self._poll_interval, self._poll_at_launch = pollInterval, pollAtLaunch
        self._oid = int(await self.master.data.updates.getObjectId(self.name,
                                                                   type(self).__name__))
        # events of the newest second handled: the next query starts at that second
        self._seen = _SeenEvents()
        self._connector = GerritHttpEventLogPollerConnector(
            self.master.reactor, self, baseURL, auth, self._last_event_ts,
            first_fetch_lookback=firstFetchLookback, on_lines_received_cb=self._lines_received)
        await self._connector.setup()
        old = self.__dict__.get("_poller")
        if old is not None and old.running:
            await old.stop()
        self._poller = Poller(self._connector.do_poll, self.master.reactor)
        if old is not None and old.running:
            self.activate()

    def _last_event_ts(self) -> defer.Deferred[Any]:
        return ensure_deferred(self.master.data.updates.getState(self._oid, "last_event_ts",
                                                                 None))

    def getFiles(self, change: Any, patchset: Any) -> defer.Deferred[list[str]]:
        return ensure_deferred(self._connector.get_files(change, patchset))

    def force(self) -> None:
        """Poll now (the `poller` change hook calls this)."""
        self._poller()

    def activate(self) -> Any:
        self._poller.start(interval=self._poll_interval, now=self._poll_at_launch)
        return defer.succeed(None)

    async def deactivate(self) -> None:
        await self._poller.stop()

    def describe(self) -> str:
        return f"GerritEventLogPoller watching the remote Gerrit repository {self.name}"

    async def _lines_received(self, lines: list[bytes]) -> None:
        newest: int | None = None
        parsed = [e for e in map(self._parse_line, lines) if e is not None]
        for ts, event in sorted(((extract_gerrit_event_time(e), e) for e in parsed),
                                key=lambda te: te[0]):
            # the query is inclusive of the last second: skip what was handled then
            if self._seen.seen(ts, event):
                continue
            await self.eventReceived(event)
            self._seen.record(ts, event)
            newest = ts if newest is None else max(newest, ts)
        if newest is not None:
            await self.master.data.updates.setState(self._oid, "last_event_ts", newest)
