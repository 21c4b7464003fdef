"""What the build-based generators share: mode parsing and validation, filtering by
builders/tags/schedulers/branches and by result, and assembling a report from formatted
messages (several builds of a buildset merge into one report)."""

from __future__ import annotations

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


def expand_mode(mode: Any) -> Any:
    """A mode string becomes a tuple ("all" and "warnings" are shortcuts); sequences are
    kept as given."""
    if isinstance(mode, str):
        if mode == "all":
            return ALL_MODES
        if mode == "warnings":
            return ("failing", "warnings")
        return (mode,)
    return mode


class BuildStatusGeneratorMixin(ComparableMixin):
    """Filtering and report assembly for generators reporting on builds."""

    possible_modes = ("change", "failing", "passing", "problem", "warnings", "exception",
                      "cancelled")

    compare_attrs: tuple[str, ...] = ("mode", "tags", "builders", "schedulers", "branches",
                                      "subject", "add_logs", "add_patch")

    def __init__(self, mode: Any, tags: Any, builders: Any, schedulers: Any, branches: Any,
                 subject: str | None, add_logs: Any, add_patch: bool) -> None:
        self.mode = expand_mode(mode)
        if add_logs is not None:
            warn_deprecated("4.1.0", f"{type(self).__name__} argument add_logs have been "
                            "deprecated. Please use want_logs_content of the passed message "
                            "formatter.")
        self.tags = tags
        self.builders = builders
        self.schedulers = schedulers
        self.branches = branches
        self.subject = subject
        self.add_logs = add_logs
        self.add_patch = add_patch

    # -- configuration ------------------------------------------------------------------
    def check(self) -> None:
        """Report configuration errors (called by the reporter's checkConfig)."""
        for m in expand_mode(self.mode):
            if m in self.possible_modes:
                continue
            if m == "all":
                config.error("mode 'all' is not valid in an iterator and must be passed in "
                             "as a separate string")
            else:
                config.error(f"mode {m} is not a valid mode")
        if self.subject is not None and "\n" in self.subject:
            config.error("Newlines are not allowed in message subjects")
        for name in ("tags", "builders", "schedulers", "branches"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, list):
                config.error(f"{name} must be a list or None")
        if self.builders is not None and self.tags is not None:
            config.error("Please specify only builders or tags to include - not both.")

    def generate_name(self) -> str:
        """The part of the reporter's default name contributed by this generator."""
        name = type(self).__name__
        for attr in ("tags", "builders", "schedulers", "branches"):
            value = getattr(self, attr)
            if value is not None:
                name += f"_{attr}_" + "+".join(value)
        # 4.3 appends the modes without a separator ("...Generatorfailing_passing_warnings");
        # kept, since the name is stored (objects table) and shown in the web UI.
        return name + "_".join(self.mode)

    # -- filtering ----------------------------------------------------------------------
    def is_message_needed_by_props(self, build: dict[str, Any]) -> bool:
        builder = build["builder"]
        props = build.get("properties") or {}
        scheduler = props.get("scheduler", [None])[0]
        branch = props.get("branch", [None])[0]
        if self.builders is not None and builder["name"] not in self.builders:
            return False
        if self.schedulers is not None and scheduler not in self.schedulers:
            return False
        if self.branches is not None and branch not in self.branches:
            return False
        return self.tags is None or self._matches_any_tag(builder.get("tags") or [])

    def is_message_needed_by_results(self, build: dict[str, Any]) -> bool:
        results = build["results"]
        prev = build.get("prev_build")
        if "change" in self.mode and prev and prev["results"] != results:
            return True
        if "failing" in self.mode and results == FAILURE:
            return True
        if "passing" in self.mode and results == SUCCESS:
            return True
        if "problem" in self.mode and results == FAILURE and prev and \
                prev["results"] != FAILURE:
            return True
        if "warnings" in self.mode and results == WARNINGS:
            return True
        if "exception" in self.mode and results == EXCEPTION:
            return True
        return "cancelled" in self.mode and results == CANCELLED

    def _matches_any_tag(self, tags: list[str]) -> bool:
        return bool(self.tags) and any(tag in tags for tag in self.tags)

    def _want_previous_build(self) -> bool:
        return "change" in self.mode or "problem" in self.mode

    # -- merging messages of several builds ----------------------------------------------
    def _merge_msgtype(self, msgtype: Any, new_msgtype: Any) -> tuple[Any, bool]:
        if new_msgtype is None:
            return msgtype, False
        if msgtype is None:
            return new_msgtype, True
        if msgtype != new_msgtype:
            log.info("{gen}: Incompatible message types for multiple builds ({a} and {b}). "
                     "Ignoring", gen=self, a=msgtype, b=new_msgtype)
            return msgtype, False
        return msgtype, True

    def _merge_subject(self, subject: Any, new_subject: Any) -> Any:
        if subject is None and new_subject is not None:
            return new_subject
        return subject

    def _merge_body(self, body: Any, new_body: Any) -> tuple[Any, bool]:
        if body is None:
            return new_body, True
        if new_body is None:
            return body, True
        if isinstance(body, str) and isinstance(new_body, str):
            return body + new_body, True
        if isinstance(body, list) and isinstance(new_body, list):
            return body + new_body, True
        log.info("{gen}: Incompatible message body types for multiple builds ({a} and {b}). "
                 "Ignoring", gen=self, a=type(body), b=type(new_body))
        return body, False

    def _merge_extra_info(self, info: Any, new_info: Any) -> tuple[Any, bool]:
        if info is None:
            return new_info, True
        if new_info is None:
            return info, True
        for key, new_value in new_info.items():
            if key not in info:
                info[key] = new_value
                continue
            value = info[key]
            for vkey, vvalue in new_value.items():
                value.setdefault(vkey, vvalue)
        return info, True

    def _get_patches_for_build(self, build: dict[str, Any]) -> list[Any]:
        if not self.add_patch:
            return []
        return [ss["patch"] for ss in build["buildset"]["sourcestamps"]
                if ss.get("patch") is not None]

    def _get_logs_for_build(self, build: dict[str, Any]) -> list[dict[str, Any]]:
        return [entry for step in build.get("steps") or []
                for entry in step.get("logs") or [] if "content" in entry]

    def _subject_for(self, master: Any, results: int | None, builder: str) -> str | None:
        if self.subject is None:
            return None
        return self.subject % {"result": statusToString(results),
                               "projectName": master.config.title,
                               "title": master.config.title, "builder": builder}

    async def build_message(self, formatter: Any, master: Any, reporter: Any,
                            build: dict[str, Any]) -> dict[str, Any]:
        """The report of one build, formatted by `formatter`."""
        patches = self._get_patches_for_build(build)
        logs = self._get_logs_for_build(build)
        users = await maybe_await(reporter.getResponsibleUsersForBuild(master,
                                                                       build["buildid"]))
        buildmsg = await maybe_await(formatter.format_message_for_build(
            master, build, is_buildset=False, mode=self.mode, users=users))
        results = build["results"]
        subject = buildmsg["subject"]
        if subject is None:
            subject = self._subject_for(master, results, build["builder"]["name"])
        return {
            "body": buildmsg["body"],
            "subject": subject,
            "type": buildmsg["type"],
            "results": results,
            "builds": [build],
            "buildset": build["buildset"],
            "users": list(users),
            "patches": patches,
            "logs": logs,
            "extra_info": buildmsg.get("extra_info"),
        }
