"""`Change`: the object schedulers hand to `fileIsImportant`, change filters and `gotChange`.

Its attributes follow the reference (`number`, `who`, `files`, `comments`, `revision`,
`when`, `branch`, `category`, `revlink`, `properties` (a Properties), `repository`,
`codebase`, `project`); `sourcestampid` is the change's source stamp.
"""

from __future__ import annotations

import html
import time
from typing import Any

from twisted.internet import defer

from buildbot.process.properties import Properties
from buildbot.util.misc import now as epoch_now
from buildbot.util.timestamps import to_epoch


class Change:
    """One commit (or push) as schedulers see it."""

    number: int | None = None
    branch: str | None = None
    category: str | None = None
    revision: str | None = None
    sourcestampid: int | None = None
    when: int | None = None
    links: list[str] = []  # kept for old pickles / plugins reading it

    def __init__(self, who: str | None, files: list[str] | None, comments: str | None,
                 committer: str | None = None, revision: str | None = None,
                 when: int | None = None, branch: str | None = None,
                 category: str | None = None, revlink: str = "",
                 properties: dict[str, Any] | None = None, repository: str = "",
                 codebase: str = "", project: str = "", _fromChdict: bool = False) -> None:
        if _fromChdict:
            return
        self.who = who
        self.committer = committer
        self.comments = comments
        self.revision = None if revision is None else str(revision)
        current = epoch_now()
        # A change from the future is taken to have happened now, as in the reference.
        self.when: int | None = current if when is None or when > current else when
        self.branch = None if branch is None else str(branch)
        self.category = None if category is None else str(category)
        self.revlink = revlink
        self.properties = Properties()
        self.properties.update(properties or {}, "Change")
        self.repository = repository
        self.codebase = codebase
        self.project = project
        self.files = sorted(files or [])

    @classmethod
    def fromMessage(cls, msg: dict[str, Any]) -> Change:
        """A Change from a `change` resource body (an mq message or a data API get)."""
        change = cls(None, None, None, _fromChdict=True)
        change.number = msg["changeid"]
        change.who = msg.get("author")
        change.committer = msg.get("committer")
        change.comments = msg.get("comments")
        change.revision = msg.get("revision")
        change.branch = msg.get("branch")
        change.category = msg.get("category")
        change.revlink = msg.get("revlink") or ""
        change.repository = msg.get("repository", "")
        change.codebase = msg.get("codebase", "")
        change.project = msg.get("project", "")
        change.when = msg.get("when_timestamp")
        change.files = sorted(msg.get("files") or [])
        change.properties = Properties()
        for name, (value, source) in (msg.get("properties") or {}).items():
            change.properties.setProperty(name, value, source)
        ss = msg.get("sourcestamp")
        change.sourcestampid = ss.get("ssid") if isinstance(ss, dict) else None
        return change

    @classmethod
    async def fromChangeid(cls, master: Any, changeid: int) -> Change | None:
        """The Change with id `changeid` through the data API (None if unknown)."""
        msg = await master.data.get(("changes", changeid))
        return None if msg is None else cls.fromMessage(msg)

    def __str__(self) -> str:
        return (f"Change(revision={self.revision!r}, who={self.who!r}, "
                f"committer={self.committer!r}, branch={self.branch!r}, "
                f"comments={self.comments!r}, when={self.when!r}, "
                f"category={self.category!r}, project={self.project!r}, "
                f"repository={self.repository!r}, codebase={self.codebase!r})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Change):
            return NotImplemented
        return self.number == other.number

    def __hash__(self) -> int:
        return hash(self.number)

    def __lt__(self, other: Change) -> bool:
        if self.number is None or other.number is None:
            return False
        return self.number < other.number

    def asDict(self) -> dict[str, Any]:
        """The change as a plain dict (reporters and old plugins use it)."""
        return {
            "number": self.number, "branch": self.branch, "category": self.category,
            "who": self.getShortAuthor(), "committer": self.committer,
            "comments": self.comments, "revision": self.revision, "rev": self.revision,
            "when": self.when, "at": self.when, "files": [{"name": f} for f in self.files],
            "revlink": getattr(self, "revlink", None),
            "properties": self.properties.asList(), "repository": self.repository,
            "codebase": self.codebase, "project": self.project,
        }

    @classmethod
    def fromChdict(cls, master: Any, chdict: Any) -> defer.Deferred[Change]:
        """A Change from a change row of the db API (`master.db.changes.getChange`), via
        Deferred; a data API dict works too."""
        def field(name: str, default: Any = None) -> Any:
            if isinstance(chdict, dict):
                return chdict.get(name, default)
            return getattr(chdict, name, default)
        msg = {name: field(name) for name in (
            "changeid", "author", "committer", "comments", "revision", "branch", "category",
            "revlink", "files", "properties")}
        msg.update(repository=field("repository", ""), codebase=field("codebase", ""),
                   project=field("project", ""), when_timestamp=to_epoch(field("when_timestamp")))
        change = cls.fromMessage(msg)
        change.sourcestampid = field("sourcestampid", change.sourcestampid)
        return defer.succeed(change)

    def asText(self) -> str:
        """The change as the text block of a build's `changesText()` (4.3's layout)."""
        when = time.strftime("%a %d %b %Y %H:%M:%S", time.localtime(self.when)) \
            if self.when else "?"
        lines = ["Files:\n", *(f" {f}\n" for f in self.files)]
        if self.repository:
            lines.append(f"On: {self.repository}\n")
        if self.project:
            lines.append(f"For: {self.project}\n")
        lines += [f"At: {when}\n", f"Changed By: {self.who}\n",
                  f"Committed By: {self.committer}\n",
                  # as in 4.3, no line break between the comments and the properties
                  f"Comments: {self.comments}", "Properties: \n",
                  *(f"  {name}: {value}" for name, value, _ in self.properties.asList()),
                  "\n\n"]
        return "".join(lines)

    # Old status-API accessors some plugins still call: a change has no logs and no end
    # time, and its "text" is its author, escaped for HTML.
    def getLogs(self) -> dict[str, Any]:
        return {}

    def getText(self) -> list[str]:
        author = self.who or ""
        return [html.escape(author)]

    def getTimes(self) -> tuple[int | None, None]:
        start = self.when
        return start, None

    def getShortAuthor(self) -> str | None:
        return self.who

    def getTime(self) -> int | None:
        return self.when
