"""`buildbot create-master`: make a basedir with buildbot.tac, master.cfg.sample and a database."""

from __future__ import annotations

import os
import string
import sys
import traceback
from typing import Any

from twisted.python import usage

from buildbot.scripts import base

TAC_TEMPLATE = os.path.join(os.path.dirname(__file__), "buildbot.tac.tmpl")
SAMPLE_CONFIG = os.path.join(os.path.dirname(__file__), "sample.cfg")
DEFAULT_DB_URL = "sqlite:///state.sqlite"


class CreateMasterOptions(base.BasedirOptions):
    """Options of `buildbot create-master`."""

    synopsis = "Usage:    buildbot create-master [options] [<basedir>]"
    optFlags = [
        ["quiet", "q", "Print nothing but errors"],
        ["force", "f", "Accepted for compatibility: an existing directory is always reused"],
        ["relocatable", "r", "Write a buildbot.tac that takes its own directory as the basedir"],
        ["develop", "d", "Accepted for compatibility; has no effect"],
        ["no-logrotate", "n", "Write a buildbot.tac that does not rotate twistd.log itself"],
    ]
    optParameters = [
        ["config", "c", "master.cfg", "Name of the configuration file, relative to the basedir"],
        ["log-size", "s", 10000000, "Size in bytes at which twistd.log is rotated", int],
        ["log-count", "l", 10, "How many rotated twistd.log files to keep (None: keep all)"],
        ["db", None, DEFAULT_DB_URL,
         "Database URL, in SQLAlchemy syntax; a relative SQLite path is relative to the basedir"],
    ]
    longdesc = """
    Creates <basedir> (default: the current directory) if needed and writes buildbot.tac,
    the file twistd runs, and master.cfg.sample, a working example configuration with the
    --db URL filled in. It then creates the database schema at that URL. The master reads
    its configuration from master.cfg (or the --config name): copy or rename the sample to
    start. Use --relocatable when the directory may later move. Examples of --db:
    sqlite:///state.sqlite (the default, a file in the basedir),
    postgresql://user:password@host/dbname, mysql+pymysql://user:password@host/dbname.
    An existing directory is updated: a different buildbot.tac is left alone and the new one
    is written next to it as buildbot.tac.new.
    """

    def postOptions(self) -> None:
        super().postOptions()
        count = self["log-count"]
        if count == "None" or count is None:
            self["log-count"] = None
        else:
            try:
                self["log-count"] = int(count)
            except ValueError as e:
                raise usage.UsageError("log-count parameter needs to be an int or None") from e
        import sqlalchemy as sa

        try:
            sa.engine.make_url(self["db"])
        except sa.exc.ArgumentError as e:
            raise usage.UsageError(f"could not parse database URL '{self['db']}'") from e


def render_tac(config: dict[str, Any]) -> str:
    """The text of buildbot.tac for these create-master options."""
    basedir = "." if config.get("relocatable") else config["basedir"]
    rotate = not config.get("no-logrotate")
    rotation_settings = log_setup = master_rotation = ""
    if rotate:
        rotation_settings = (
            f"rotateLength = {int(config['log-size'])!r}\n"
            f"maxRotatedFiles = {config['log-count']!r}\n"
        )
        # The classic twisted.python.log observer keeps twistd.log in the line format every
        # Buildbot master has written ("<date> <time>+0000 [-] <message>"), which users' log
        # tooling expects.
        log_setup = (
            "from twisted.python.log import FileLogObserver, ILogObserver\n"
            "from twisted.python.logfile import LogFile\n"
            "logfile = LogFile.fromFullPath(os.path.join(basedir, 'twistd.log'),\n"
            "                               rotateLength=rotateLength,\n"
            "                               maxRotatedFiles=maxRotatedFiles)\n"
            "application.setComponent(ILogObserver, FileLogObserver(logfile).emit)\n"
        )
        master_rotation = (
            "# the same rotation applies to the master's other logs (http.log)\n"
            "m.log_rotation.rotateLength = rotateLength\n"
            "m.log_rotation.maxRotatedFiles = maxRotatedFiles\n"
        )
    with open(TAC_TEMPLATE, encoding="utf-8") as f:
        template = string.Template(f.read())
    text = template.substitute(
        basedir=repr(basedir),
        configfile=repr(config.get("config", "master.cfg")),
        rotation_settings=rotation_settings,
        log_setup=log_setup,
        master_rotation=master_rotation,
    )
    return text.rstrip("\n") + "\n"


def make_basedir(config: dict[str, Any]) -> None:
    """Create the basedir (and missing parents), or say that an existing one is updated."""
    basedir = config["basedir"]
    if os.path.exists(basedir):
        base.emit(config, "updating existing installation")
        return
    base.emit(config, f"mkdir {basedir}")
    os.makedirs(basedir)


def make_tac(config: dict[str, Any]) -> None:
    """Write buildbot.tac, or buildbot.tac.new next to a different existing one."""
    contents = render_tac(config)
    tacfile = os.path.join(config["basedir"], "buildbot.tac")
    if os.path.exists(tacfile):
        with open(tacfile, encoding="utf-8") as f:
            existing = f.read()
        if existing == contents:
            base.emit(config, "buildbot.tac already exists and is correct")
            return
        base.emit(config, "not touching existing buildbot.tac", "creating buildbot.tac.new instead")
        tacfile += ".new"
    with open(tacfile, "w", encoding="utf-8") as f:
        f.write(contents)


def sample_config_text(db_url: str | None) -> str:
    """The shipped sample configuration with `db_url` in place of the default SQLite URL."""
    with open(SAMPLE_CONFIG, encoding="utf-8") as f:
        text = f.read()
    if db_url:
        text = text.replace(DEFAULT_DB_URL, db_url)
    return text


def write_private_file(path: str, text: str) -> None:
    """Write `text` to `path` readable by the owner only (the sample may hold a DB password)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)


def make_sample_config(config: dict[str, Any]) -> None:
    """(Over)write master.cfg.sample, mode 0600."""
    target = os.path.join(config["basedir"], "master.cfg.sample")
    base.emit(config, f"creating {target}")
    write_private_file(target, sample_config_text(config.get("db")))


async def create_db(config: dict[str, Any]) -> None:
    """Create (or bring to head) the schema at the --db URL."""
    from buildbot.db.connector import DBConnector

    base.emit(config, f"creating database ({base.strip_url_password(config['db'])})")
    db = DBConnector(config["basedir"])
    try:
        await db.setup(config["db"], check_version=False)
        await db.upgrade()
    finally:
        await db.stop()


async def create_master_async(config: dict[str, Any]) -> int:
    """Do the whole of create-master; returns the exit status."""
    make_basedir(config)
    make_tac(config)
    make_sample_config(config)
    try:
        await create_db(config)
    except Exception:
        # The reference exits 0 here; a master without its database cannot start.
        print(f"creating the database failed ({base.strip_url_password(config['db'])}):",
              file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        return 1
    base.emit(config, f"buildmaster configured in {config['basedir']}")
    return 0


def createMaster(config: dict[str, Any]) -> int:
    """Entry point of `buildbot create-master`."""
    return base.run_in_reactor(lambda: create_master_async(config))
