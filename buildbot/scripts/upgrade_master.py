"""`buildbot upgrade-master`: refresh a basedir's files and migrate its database to head."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from typing import Any

from buildbot.scripts import base
from buildbot.scripts.create_master import sample_config_text, write_private_file
from buildbot.scripts.progress import Progress, migration_progress

#: Signals ignored while the schema is migrated: an interrupted migration can leave the
#: database unusable.
PROTECTED_SIGNALS = ("SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGBREAK")


class UpgradeMasterOptions(base.BasedirOptions):
    """Options of `buildbot upgrade-master`."""

    synopsis = "Usage:    buildbot upgrade-master [options] [<basedir>]"
    optFlags = [
        ["quiet", "q", "Print nothing but errors"],
        ["develop", "d", "Accepted for compatibility; has no effect"],
        ["replace", "r", "Accepted for compatibility; has no effect"],
    ]
    longdesc = """
    Run this after installing a new Buildbot version and before starting the master again.
    It checks that the master is stopped, loads the configuration, refreshes
    master.cfg.sample and migrates the database named by the configuration (c['db']) to the
    current schema. Back up the database first: the migration cannot be undone. The command
    ignores Ctrl-C and termination signals while the migration runs.
    """


def upgrade_files(config: dict[str, Any]) -> None:
    """Refresh master.cfg.sample and point out obsolete files."""
    base.emit(config, "upgrading basedir")
    basedir = config["basedir"]
    if os.path.exists(os.path.join(basedir, "public_html")):
        print("Notice: public_html is not used starting from Buildbot 0.9.0")
        print("        consider using third party HTTP server for serving static files")
    target = os.path.join(basedir, "master.cfg.sample")
    new = sample_config_text(None)
    if os.path.exists(target):
        with open(target, encoding="utf-8") as f:
            if f.read() == new:
                return
        base.emit(config, f"{target} has old/modified contents", " overwriting it with new contents")
    else:
        base.emit(config, f"creating {target}")
    write_private_file(target, new)


@contextlib.contextmanager
def signals_ignored() -> Iterator[None]:
    """Ignore the usual termination signals (with a warning) inside the block."""

    def warn(signum: int, frame: Any) -> None:
        print(f"WARNING: ignoring signal {signum}. This process should not be interrupted to "
              "avoid database corruption. If you really need to terminate it, use SIGKILL.")

    previous: dict[int, Any] = {}
    try:
        for name in PROTECTED_SIGNALS:
            if hasattr(signal, name):
                signum = getattr(signal, name)
                previous[signum] = signal.signal(signum, warn)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


async def upgrade_database(config: dict[str, Any], master_cfg: Any) -> None:
    """Migrate the configured database to head and mark every master inactive."""
    from buildbot.db.connector import DBConnector
    from buildbot.db.migrate import known_revisions

    db_url, engine_kwargs = base.db_config(master_cfg)
    if not config.get("quiet"):
        shown = base.strip_url_password(db_url) if isinstance(db_url, str) else repr(db_url)
        print(f"upgrading database ({shown})")
        print("Warning: Stopping this process might cause data loss")
    progress = Progress("upgrade-master", "migrations", quiet=bool(config.get("quiet")))
    with signals_ignored(), migration_progress(progress, known_revisions()):
        db = DBConnector(config["basedir"])
        try:
            await db.setup(db_url, engine_kwargs=engine_kwargs, check_version=False)
            await db.upgrade()
            await db.masters.setAllMastersActiveLongTimeAgo()
        finally:
            await db.stop()


async def upgrade_master_async(config: dict[str, Any]) -> int:
    """Do the whole of upgrade-master; returns the exit status."""
    with base.in_directory(config["basedir"]):
        master_cfg = base.load_basedir_config(config)
        if master_cfg is None:
            return 1
        try:
            upgrade_files(config)
            await upgrade_database(config, master_cfg)
        except Exception:
            print("problem while upgrading!:\n" + traceback.format_exc(), file=sys.stderr)
            return 1
    base.emit(config, "upgrade complete")
    return 0


def upgradeMaster(config: dict[str, Any]) -> int:
    """Entry point of `buildbot upgrade-master`."""
    return base.run_in_reactor(lambda: upgrade_master_async(config))
