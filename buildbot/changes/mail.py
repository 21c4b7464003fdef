"""Change sources reading commit notification mails from a maildir.

`MaildirSource` subclasses implement `parse(message, prefix)` returning `(src, fields)`
(fields as for `addChange`, plus `when` and, for CVS, `isdir`, as 4.3's parsers return them)
or None for a mail that is not a notification. Parsed mails are moved to `cur/`.
"""

from __future__ import annotations

import calendar
import datetime
import re
import time
from email import message_from_file
from email.iterators import body_line_iterator
from email.message import Message
from email.utils import mktime_tz, parseaddr, parsedate_tz
from typing import IO, Any

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from buildbot.interfaces import IChangeSource
from buildbot.util.deferred import ensure_deferred
from buildbot.util.maildir import MaildirService
from buildbot.util.misc import bytes2unicode, now

log = Logger()

Parsed = tuple[str, dict[str, Any]] | None


@implementer(IChangeSource)
class MaildirSource(MaildirService):
    """`changes.MaildirSource(maildir, prefix=None, category='', repository='')`: base of
    the mail parsers (on its own it parses nothing)."""

    compare_attrs: tuple[str, ...] = ("name", "basedir", "pollInterval", "prefix")
    name: str | None = "MaildirSource"

    def __init__(self, maildir: str, prefix: str | None = None, category: str = "",
                 repository: str = "") -> None:
        super().__init__(maildir)
        self.prefix = prefix
        self.category = category
        self.repository = repository
        if prefix and not prefix.endswith("/"):
            log.warn(  # noqa: G010
                "MaildirSource: you probably want your prefix=('{prefix}') to end with a "
                "slash", prefix=prefix)

    def describe(self) -> str:
        return f"{type(self).__name__} watching maildir '{self.basedir}'"

    def messageReceived(self, filename: str) -> defer.Deferred[None]:
        return ensure_deferred(self._message_received(filename))

    async def _message_received(self, filename: str) -> None:
        with self.moveToCurDir(filename) as f:
            parsed = self.parse_file(f, self.prefix)
        if not parsed or not parsed[1]:
            log.info("no change found in maildir file '{f}'", f=filename)
            return
        src, fields = parsed
        fields = dict(fields)
        # 4.3 passes the parsers' `when` and `isdir` on to addChange, which rejects them
        # (so no mail ever became a change there); the time goes where it belongs
        fields.pop("isdir", None)
        if "when" in fields:
            fields["when_timestamp"] = fields.pop("when")
        await self.master.data.updates.addChange(src=str(src), **fields)

    def parse_file(self, fd: IO[str], prefix: str | None = None) -> Parsed:
        return self.parse(message_from_file(fd), prefix)

    def parse(self, m: Message, prefix: str | None = None) -> Parsed:
        raise NotImplementedError


def _local_part(from_header: Any) -> str | None:
    """The sender's address up to the '@' (None without a From address)."""
    _, addr = parseaddr(from_header)
    return addr.partition("@")[0] if addr else None


# CVS mail header lines (before "Log Message:") and the field each one sets
_CVS_HEADERS = [(re.compile(pattern), field) for pattern, field in (
    (r"^Category:\s*(\S.*)", "category"), (r"^CVSROOT:\s*(\S.*)", "cvsroot"),
    (r"^Cvsmode:\s*(\S.*)", "cvsmode"), (r"^Files:\s*(\S.*)", "files"),
    (r"^Module:\s*(\S.*)", None), (r"^Path:\s*(\S.*)", "path"),
    (r"^Project:\s*(\S.*)", "project"), (r"^\s+Tag:\s*(\S.*)", "branch"),
    (r"^Update of:\s*(\S.*)", None))]
_CVS_VERSION = r"(NONE|(?:\d+\.(?:\d+\.\d+\.)*\d+))"
# one "file old-version new-version" entry of the Files: list, per CVS version
_CVS_FILE_ENTRY = {
    "1.11": re.compile(rf"(.+?),{_CVS_VERSION},{_CVS_VERSION}(?: |$)"),
    "1.12": re.compile(rf"(.+?) {_CVS_VERSION} {_CVS_VERSION}(?: |$)"),
}


class CVSMaildirSource(MaildirSource):
    """Mails from `buildbot-cvs-mail` (contrib), CVS 1.11 or 1.12 style file lists."""

    name = "CVSMaildirSource"

    def __init__(self, maildir: str, prefix: str | None = None, category: str = "",
                 repository: str = "", properties: dict[str, Any] | None = None) -> None:
        super().__init__(maildir, prefix, category, repository)
        self.properties = properties if properties is not None else {}

    def parse(self, m: Message, prefix: str | None = None) -> Parsed:
        author = _local_part(m["from"])
        if author is None:
            return None
        author = bytes2unicode(author, encoding="ascii")
        log.info("Processing CVS mail")
        date = parsedate_tz(m["date"]) if m["date"] else None
        when = now() if date is None else mktime_tz(date)
        rev = datetime.datetime.fromtimestamp(float(when), datetime.UTC).strftime(
            "%Y-%m-%d %H:%M:%S")
        header: dict[str, str | None] = dict.fromkeys(
            ("category", "cvsroot", "cvsmode", "files", "path", "project", "branch"))
        lines = list(body_line_iterator(m))
        body_start = len(lines)
        for i, line in enumerate(lines):
            if line == "Log Message:\n":
                body_start = i + 1
                break
            for regex, field in _CVS_HEADERS:
                found = regex.match(line)
                if found:
                    if field is not None:
                        header[field] = found.group(1)
                    break
        files = self._cvs_files(header)
        if files is None:
            return None
        comments = "".join(lines[body_start:]).rstrip() + "\n"
        return ("cvs", {
            "author": author, "committer": None, "files": files,
            "comments": None if comments == "\n" else comments, "isdir": 0, "when": when,
            "branch": header["branch"], "revision": rev, "category": header["category"],
            "repository": header["cvsroot"], "project": header["project"],
            "properties": self.properties})

    @staticmethod
    def _cvs_files(header: dict[str, str | None]) -> list[str] | None:
        listing, path, mode = header["files"], header["path"], header["cvsmode"]
        if listing is None:
            log.info("CVSMaildirSource Mail with no files. Ignoring")
            return None
        if mode == "1.11":  # "<repo path> file,old,new file2,old,new"
            first = re.search("([^ ]*) ", listing)
            if not first:
                log.info("CVSMaildirSource can't get path from file list. Ignoring mail")
                return None
            path = first.group(1)
            listing = listing[len(path):].strip()
        elif mode == "1.12":
            if path is None:
                raise ValueError("CVSMaildirSource cvs 1.12 require path. Check cvs loginfo "
                                 "config")
        else:
            raise ValueError(f"Expected cvsmode 1.11 or 1.12. got: {mode}")
        log.info("CVSMaildirSource processing filelist: {files}", files=listing)
        entry = _CVS_FILE_ENTRY[mode]
        files = []
        while listing:
            found = entry.match(listing)
            if not found:
                log.info("CVSMaildirSource no files matched regex. Ignoring")
                return None
            files.append(f"{path}/{found.group(1)}")
            listing = listing[found.end():]
        return files


class SVNCommitEmailMaildirSource(MaildirSource):
    """Mails from Subversion's `commit-email.pl` hook (the time is the time of receipt)."""

    name = "SVN commit-email.pl"

    def parse(self, m: Message, prefix: str | None = None) -> Parsed:
        author = _local_part(m["from"])
        if author is None:
            return None
        when = now()
        lines = list(body_line_iterator(m))
        rev = None
        i = 0
        # "Author: x" / "New Revision: n" ... up to "Log:"
        while i < len(lines):
            line = lines[i]
            i += 1
            if found := re.search(r"^Author: (\S+)", line):
                author = found.group(1)
            if found := re.search(r"^New Revision: (\d+)", line):
                rev = found.group(1)
            if line == "Log:\n":
                break
        # the log message, up to the first file-list heading
        comments = ""
        while i < len(lines):
            line = lines[i]
            i += 1
            if line in ("Modified:\n", "Added:\n", "Removed:\n"):
                break
            comments += line
        comments = comments.rstrip() + "\n"
        files = []
        for line in lines[i:]:
            if line == "\n":
                break
            if line.startswith(("Modified:\n", "Added:\n", "Removed:\n")):
                continue
            for name in line.strip().split(" "):
                if prefix:
                    if not name.startswith(prefix):
                        log.info("ignored file from svn commit: prefix '{prefix}' does not "
                                 "match filename '{f}'", prefix=prefix, f=name)
                        continue
                    name = name[len(prefix):]
                files.append(name)
        if not files:
            log.info("no matching files found, ignoring commit")
            return None
        return ("svn", {"author": author, "committer": None, "files": files,
                        "comments": comments, "when": when, "revision": rev})


def _decoded_body_lines(m: Message) -> list[str]:
    """The text lines (with their newlines) of every part, transfer encoding undone.

    4.3 asks `body_line_iterator(m, True)` for them, which yields nothing on Python 3 (the
    decoded payload is bytes), so its Launchpad parser never finds a revision."""
    lines: list[str] = []
    for part in m.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            lines += payload.decode("utf-8", "ignore").splitlines(keepends=True)
    return lines


# Launchpad's section headings and the suffix each gives the files listed under it
_BZR_SECTIONS = {"removed": " REMOVED", "added": " ADDED", "modified": " MODIFIED"}
_BZR_TIMESTAMP = re.compile(r"^timestamp: [a-zA-Z]{3} (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) "
                            r"([-+])(\d{2})(\d{2})$")


def parseLaunchpadDate(datestr: str, tz_sign: str, tz_hours: str, tz_minutes: str) -> float:
    """Epoch seconds of a Launchpad `timestamp:` (local time and its UTC offset)."""
    local = calendar.timegm(time.strptime(datestr, "%Y-%m-%d %H:%M:%S"))
    # the minutes are not signed: 4.3 subtracts them even for negative offsets
    return local - (3600 * int(tz_sign + tz_hours) + 60 * int(tz_minutes))


class BzrLaunchpadEmailMaildirSource(MaildirSource):
    """Branch notification mails from Launchpad (bzr). `branchMap` maps a branch's
    Launchpad name (with or without `lp:`) to the change's branch; otherwise
    `defaultBranch`, otherwise `lp:<name>`."""

    name = "Launchpad"
    compare_attrs = (*MaildirSource.compare_attrs, "branchMap", "defaultBranch")

    def __init__(self, maildir: str, prefix: str | None = None,
                 branchMap: dict[str, str] | None = None, defaultBranch: str | None = None,
                 **kwargs: Any) -> None:
        self.branchMap = branchMap
        self.defaultBranch = defaultBranch
        super().__init__(maildir, prefix, **kwargs)

    def parse(self, m: Message, prefix: str | None = None) -> Parsed:
        subject = m["subject"]
        found = re.search(r"^\s*\[Branch\s+([^]]+)\]", subject)
        repository = found.group(1) if found else None
        files: list[str] = []
        comments = ""
        section: str | None = None
        rev = author = None
        when: float = now()
        for line in _decoded_body_lines(m):
            if found := re.search(r"^revno: ([0-9.]+)", line):
                rev = found.group(1)
            if found := re.search(r"^committer: (.*)$", line):
                author = found.group(1)
            if found := _BZR_TIMESTAMP.search(line):
                when = parseLaunchpadDate(*found.groups())
            heading = re.search(r"^(message|removed|added|renamed|modified):\s*$", line)
            if heading:
                section = heading.group(1)
            elif section is not None and re.search(r"^  ", line):
                item = line[2:-1]  # the trailing newline goes too
                if section == "message":
                    comments += item + "\n"
                elif section == "renamed":
                    moved = re.search(r"^(.+) => (.+)$", item)
                    files.append(f"{moved.group(1)} RENAMED {moved.group(2)}" if moved
                                 else f"{item} RENAMED")
                else:
                    files.append(item + _BZR_SECTIONS[section])
        branch = self._branch_for(repository)
        if not (rev and author):
            return None
        return ("bzr", {"author": author, "committer": None, "files": files,
                        "comments": comments, "when": when, "revision": rev,
                        "branch": branch, "repository": repository or ""})

    def _branch_for(self, repository: str | None) -> str | None:
        if self.branchMap and repository:
            for key in (repository, "lp:" + repository):
                if self.branchMap.get(key):
                    return self.branchMap[key]
        if self.defaultBranch:
            return self.defaultBranch
        return "lp:" + repository if repository else None
