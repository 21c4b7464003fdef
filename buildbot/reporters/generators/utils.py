"""What the build-based generators share: mode parsing and validation, filtering by
builders/tags/schedulers/branches and by result, and assembling a report from formatted
messages (several builds of a buildset fold into one report)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.logger import Logger

from buildbot import config
from buildbot.process.results import (
    CANCELLED,
    EXCEPTION,
    FAILURE,
    SUCCESS,
    WARNINGS,
    statusToString,
)
from buildbot.util.deferred import maybe_await
from buildbot.util.service import ComparableMixin
from buildbot.warnings import warn_deprecated

log = Logger()

ALL_MODES = ("failing", "passing", "warnings", "exception", "cancelled")

# Mode strings that stand for several modes; any other string is a mode on its own.
_MODE_SHORTCUTS: dict[str, tuple[str, ...]] = {
    "all": ALL_MODES,
    "warnings": ("failing", "warnings"),
}

# The filter lists a generator takes; each must be a list or None.
_FILTER_LISTS = ("tags", "builders", "schedulers", "branches")


def expand_mode(mode: Any) -> Any:
    """A mode string becomes a tuple ("all" and "warnings" are shortcuts); sequences are
    kept as given."""
    if not isinstance(mode, str):
        return mode
    return _MODE_SHORTCUTS.get(mode, (mode,))


def _differs_from_previous(build: dict[str, Any]) -> bool:
    previous: Any = build.get("prev_build")
    return bool(previous) and previous["results"] != build["results"]


def _newly_failing(build: dict[str, Any]) -> bool:
    return build["results"] == FAILURE and _differs_from_previous(build)


def _result_is(code: int) -> Callable[[dict[str, Any]], bool]:
    return lambda build: build["results"] == code


# For each mode: does a finished build belong in a report?
_MODE_SELECTS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "change": _differs_from_previous,
    "failing": _result_is(FAILURE),
    "passing": _result_is(SUCCESS),
    "problem": _newly_failing,
    "warnings": _result_is(WARNINGS),
    "exception": _result_is(EXCEPTION),
    "cancelled": _result_is(CANCELLED),
}


def _first_property(build: dict[str, Any], name: str) -> Any:
    values = (build.get("properties") or {}).get(name)
    return values[0] if values else None


def report(*, body: Any, subject: Any, msgtype: Any, results: Any,
           builds: list[dict[str, Any]], buildset: Any, users: list[str] | None = None,
           patches: list[Any] | None = None, logs: list[dict[str, Any]] | None = None,
           extra_info: Any = None) -> dict[str, Any]:
    """The report dict reporters receive from a generator (keys as in 4.3)."""
    return {"body": body, "subject": subject, "type": msgtype, "results": results,
            "builds": builds, "buildset": buildset, "users": users or [],
            "patches": patches or [], "logs": logs or [], "extra_info": extra_info}


class MessageFold:
    """Folds the formatted messages of several builds into one message.

    The first typed message fixes the type; a message of another type (or of none) is left
    out. The first subject stays. Bodies of one kind (text or list) are concatenated; a
    message whose body is of another kind adds nothing more. `extra_info` sections merge
    key by key, the first value of a key winning. Inputs are never modified."""

    def __init__(self, owner: object) -> None:
        self._owner = owner
        self.msgtype: Any = None
        self.subject: Any = None
        self.body: Any = None
        self.extra_info: dict[str, Any] | None = None

    def add(self, message: dict[str, Any]) -> None:
        """Fold in one build's message (as returned by `format_message_for_build`)."""
        msgtype = message["type"]
        if msgtype is None:
            return
        if self.msgtype is not None and msgtype != self.msgtype:
            log.info("{gen}: Incompatible message types for multiple builds ({a} and {b}). "
                     "Ignoring", gen=self._owner, a=self.msgtype, b=msgtype)
            return
        self.msgtype = msgtype
        if self.subject is None:
            self.subject = message["subject"]
        if self._append_body(message["body"]):
            self._merge_extra_info(message.get("extra_info"))

    def _append_body(self, body: Any) -> bool:
        if body is None or self.body is None:
            self.body = self.body if body is None else body
            return True
        same_kind = any(isinstance(self.body, kind) and isinstance(body, kind)
                        for kind in (str, list))
        if not same_kind:
            log.info("{gen}: Incompatible message body types for multiple builds ({a} and "
                     "{b}). Ignoring", gen=self._owner, a=type(self.body), b=type(body))
            return False
        self.body = self.body + body
        return True

    def _merge_extra_info(self, sections: dict[str, Any] | None) -> None:
        if sections is None:
            return
        if self.extra_info is None:
            self.extra_info = dict(sections)
            return
        for section, values in sections.items():
            merged = dict(self.extra_info.get(section) or {})
            for key, value in values.items():
                merged.setdefault(key, value)
            self.extra_info[section] = merged


class BuildStatusGeneratorMixin(ComparableMixin):
    """Filtering and report assembly for generators reporting on builds."""

    possible_modes = ("change", "failing", "passing", "problem", "warnings", "exception",
                      "cancelled")

    compare_attrs: tuple[str, ...] = ("mode", "tags", "builders", "schedulers", "branches",
                                      "subject", "add_logs", "add_patch")

    def __init__(self, mode: Any, tags: Any, builders: Any, schedulers: Any, branches: Any,
                 subject: str | None, add_logs: Any, add_patch: bool) -> None:
        # Attribute names are surface: compare_attrs and users' subclasses read them.
        self.builders, self.tags = builders, tags
        self.schedulers, self.branches = schedulers, branches
        self.mode = expand_mode(mode)
        self.subject = subject
        self.add_patch = add_patch
        self.add_logs = add_logs
        if add_logs is not None:
            warn_deprecated("4.1.0", f"{type(self).__name__} argument add_logs have been "
                            "deprecated. Please use want_logs_content of the passed message "
                            "formatter.")

    # -- configuration ------------------------------------------------------------------
    def check(self) -> None:
        """Report configuration errors (called by the reporter's checkConfig)."""
        for problem in self._mode_problems():
            config.error(problem)
        if self.subject is not None and "\n" in self.subject:
            config.error("Newlines are not allowed in message subjects")
        for name in _FILTER_LISTS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, list):
                config.error(f"{name} must be a list or None")
        if self.builders is not None and self.tags is not None:
            config.error("Please specify only builders or tags to include - not both.")

    def _mode_problems(self) -> list[str]:
        unknown = [m for m in expand_mode(self.mode) if m not in self.possible_modes]
        return ["mode 'all' is not valid in an iterator and must be passed in as a separate "
                "string" if m == "all" else f"mode {m} is not a valid mode" for m in unknown]

    def generate_name(self) -> str:
        """The part of the reporter's default name contributed by this generator."""
        filters = "".join(f"_{attr}_" + "+".join(getattr(self, attr))
                          for attr in _FILTER_LISTS if getattr(self, attr) is not None)
        # 4.3 appends the modes without a separator ("...Generatorfailing_passing_warnings");
        # kept, since the name is stored (objects table) and shown in the web UI.
        return type(self).__name__ + filters + "_".join(self.mode)

    # -- filtering ----------------------------------------------------------------------
    def is_message_needed_by_props(self, build: dict[str, Any]) -> bool:
        """Whether the build passes the builders/schedulers/branches/tags filters."""
        builder = build["builder"]
        observed = {"builders": builder["name"],
                    "schedulers": _first_property(build, "scheduler"),
                    "branches": _first_property(build, "branch")}
        for attr, value in observed.items():
            allowed = getattr(self, attr)
            if allowed is not None and value not in allowed:
                return False
        if self.tags is None:
            return True
        builder_tags = builder.get("tags") or []
        return any(tag in builder_tags for tag in self.tags)

    def is_message_needed_by_results(self, build: dict[str, Any]) -> bool:
        """Whether one of the modes selects this finished build."""
        return any(_MODE_SELECTS[m](build) for m in self.mode if m in _MODE_SELECTS)

    def _want_previous_build(self) -> bool:
        return "change" in self.mode or "problem" in self.mode

    # -- report assembly ----------------------------------------------------------------
    def _get_patches_for_build(self, build: dict[str, Any]) -> list[Any]:
        if not self.add_patch:
            return []
        stamps = build["buildset"]["sourcestamps"]
        return [p for p in (ss.get("patch") for ss in stamps) if p is not None]

    def _get_logs_for_build(self, build: dict[str, Any]) -> list[dict[str, Any]]:
        steps = build.get("steps") or []
        return [lg for step in steps for lg in step.get("logs") or () if "content" in lg]

    def _subject_for(self, master: Any, results: int | None, builder: str) -> str | None:
        if self.subject is None:
            return None
        title = master.config.title
        return self.subject % {"result": statusToString(results), "projectName": title,
                               "title": title, "builder": builder}

    async def build_message(self, formatter: Any, master: Any, reporter: Any,
                            build: dict[str, Any]) -> dict[str, Any]:
        """The report of one build, formatted by `formatter`."""
        users = await maybe_await(reporter.getResponsibleUsersForBuild(master,
                                                                       build["buildid"]))
        formatted = await maybe_await(formatter.format_message_for_build(
            master, build, is_buildset=False, mode=self.mode, users=users))
        subject = formatted["subject"]
        if subject is None:
            subject = self._subject_for(master, build["results"], build["builder"]["name"])
        return report(body=formatted["body"], subject=subject, msgtype=formatted["type"],
                      results=build["results"], builds=[build], buildset=build["buildset"],
                      users=list(users), patches=self._get_patches_for_build(build),
                      logs=self._get_logs_for_build(build),
                      extra_info=formatted.get("extra_info"))
