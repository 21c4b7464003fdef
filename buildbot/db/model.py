"""The database schema: Buildbot 4.3's 42 tables (alembic revision 067), in SQLAlchemy Core.

Every name, type, length, nullability, server default, index and foreign key here is part of
the outside surface: a database created or upgraded by Buildbot 4.3 must be usable as is, and
`tests/db/test_schema.py` compares what `create_all` builds with a frozen description of what
Buildbot 4.3 builds on each engine. Column order follows the reference too.

Conventions kept from the reference: times are INTEGER epoch seconds, booleans SMALLINT/INTEGER
0/1, JSON in TEXT, sha1 `name_hash` columns so that unique indexes never cover TEXT columns.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# The alembic revision this schema corresponds to.
HEAD_REVISION = "067"

_CASCADE = "CASCADE"
_SET_NULL = "SET NULL"


def _fk(target: str, ondelete: str, **kw: Any) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete=ondelete, **kw)


def _int(name: str, *args: Any, **kw: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.Integer, *args, **kw)


def _id() -> sa.Column[Any]:
    return sa.Column("id", sa.Integer, primary_key=True)


def _name_hash() -> sa.Column[Any]:
    return sa.Column("name_hash", sa.String(40), nullable=False)


def _zero() -> sa.DefaultClause:
    return sa.DefaultClause("0")


class Tables:
    """All tables of the schema, as attributes named like the tables, on one `MetaData`."""

    def __init__(self) -> None:
        self.metadata = md = sa.MetaData()

        def table(name: str, *items: Any) -> sa.Table:
            # The reference declares utf8 on every table; only MySQL looks at it.
            return sa.Table(name, md, *items, mysql_DEFAULT_CHARSET="utf8")

        # -- build requests, buildsets -------------------------------------------------------
        self.buildrequests = table(
            "buildrequests",
            _id(),
            _int("buildsetid", _fk("buildsets.id", _CASCADE), nullable=False),
            _int("builderid", _fk("builders.id", _CASCADE), nullable=False),
            _int("priority", nullable=False, server_default=_zero()),
            # Nullable (sic) in the reference; readers treat NULL as incomplete.
            _int("complete", server_default=_zero()),
            sa.Column("results", sa.SmallInteger),
            _int("submitted_at", nullable=False),
            _int("complete_at"),
            sa.Column("waited_for", sa.SmallInteger, server_default=_zero()),
            sa.Index("buildrequests_buildsetid", "buildsetid"),
            sa.Index("buildrequests_builderid", "builderid"),
            sa.Index("buildrequests_complete", "complete"),
        )
        # A row means "claimed"; its unique index on brid is the cross-master mutual exclusion.
        self.buildrequest_claims = table(
            "buildrequest_claims",
            _int("brid", _fk("buildrequests.id", _CASCADE), nullable=False),
            _int("masterid", _fk("masters.id", _CASCADE), nullable=False),
            _int("claimed_at", nullable=False),
            sa.Index("buildrequest_claims_brids", "brid", unique=True),
            sa.Index("ix_buildrequest_claims_masterid", "masterid"),
        )

        # -- builds, steps, logs ---------------------------------------------------------------
        self.build_data = table(
            "build_data",
            _id(),
            _int("buildid", _fk("builds.id", _CASCADE), nullable=False),
            sa.Column("name", sa.String(256), nullable=False),
            sa.Column("value", sa.LargeBinary().with_variant(mysql.LONGBLOB, "mysql"),
                      nullable=False),
            _int("length", nullable=False),
            sa.Column("source", sa.String(256), nullable=False),
            sa.Index("build_data_buildid_name", "buildid", "name", unique=True),
        )
        self.builds = table(
            "builds",
            _id(),
            _int("number", nullable=False),
            _int("builderid", _fk("builders.id", _CASCADE), nullable=False),
            # 1 request : N builds (retries). Created by ALTER on engines that can (cycle).
            _int("buildrequestid",
                 _fk("buildrequests.id", _CASCADE, use_alter=True, name="buildrequestid"),
                 nullable=False),
            _int("workerid", _fk("workers.id", _SET_NULL)),
            _int("masterid", _fk("masters.id", _CASCADE), nullable=False),
            _int("started_at", nullable=False),
            _int("complete_at"),
            _int("locks_duration_s", nullable=False),
            sa.Column("state_string", sa.Text, nullable=False),
            _int("results"),
            sa.Index("builds_number", "builderid", "number", unique=True),
            sa.Index("builds_buildrequestid", "buildrequestid"),
            sa.Index("builds_workerid", "workerid"),
            sa.Index("builds_masterid", "masterid"),
        )
        # No primary key and no unique (buildid, name): the writer upserts by hand (reference).
        self.build_properties = table(
            "build_properties",
            _int("buildid", _fk("builds.id", _CASCADE), nullable=False),
            sa.Column("name", sa.String(256), nullable=False),
            sa.Column("value", sa.Text, nullable=False),
            sa.Column("source", sa.String(256), nullable=False),
            sa.Index("build_properties_buildid", "buildid"),
        )
        self.steps = table(
            "steps",
            _id(),
            _int("number", nullable=False),
            sa.Column("name", sa.String(50), nullable=False),
            _int("buildid", _fk("builds.id", _CASCADE), nullable=False),
            _int("started_at"),
            _int("locks_acquired_at"),
            _int("complete_at"),
            sa.Column("state_string", sa.Text, nullable=False),
            _int("results"),
            sa.Column("urls_json", sa.Text, nullable=False),
            sa.Column("hidden", sa.SmallInteger, nullable=False, server_default="0"),
            sa.Index("steps_number", "buildid", "number", unique=True),
            sa.Index("steps_name", "buildid", "name", unique=True),
            sa.Index("steps_started_at", "started_at"),
        )
        self.logs = table(
            "logs",
            _id(),
            sa.Column("name", sa.Text, nullable=False),
            sa.Column("slug", sa.String(50), nullable=False),
            _int("stepid", _fk("steps.id", _CASCADE), nullable=False),
            sa.Column("complete", sa.SmallInteger, nullable=False),
            _int("num_lines", nullable=False),
            sa.Column("type", sa.String(1), nullable=False),  # s, t, h, or d (purged)
            sa.Index("logs_slug", "stepid", "slug", unique=True),
        )
        self.logchunks = table(
            "logchunks",
            _int("logid", _fk("logs.id", _CASCADE), nullable=False),
            _int("first_line", nullable=False),  # 0-based, inclusive
            _int("last_line", nullable=False),  # inclusive
            # BLOB(65536) is MEDIUMBLOB on MySQL; a chunk may exceed 64 KiB (see logs.py).
            sa.Column("content", sa.LargeBinary(65536)),
            sa.Column("compressed", sa.SmallInteger, nullable=False),  # codec id
            sa.Index("logchunks_firstline", "logid", "first_line"),
            sa.Index("logchunks_lastline", "logid", "last_line"),
        )

        # -- buildsets ---------------------------------------------------------------------------
        self.buildsets = table(
            "buildsets",
            _id(),
            sa.Column("external_idstring", sa.String(256)),
            sa.Column("reason", sa.String(256)),
            _int("submitted_at", nullable=False),
            sa.Column("complete", sa.SmallInteger, nullable=False, server_default=_zero()),
            _int("complete_at"),
            sa.Column("results", sa.SmallInteger),
            _int("parent_buildid",
                 _fk("builds.id", _SET_NULL, use_alter=True, name="parent_buildid")),
            sa.Column("parent_relationship", sa.Text),
            _int("rebuilt_buildid",
                 _fk("builds.id", _SET_NULL, use_alter=True, name="rebuilt_buildid")),
            sa.Index("buildsets_complete", "complete"),
            sa.Index("buildsets_submitted_at", "submitted_at"),
        )
        self.buildset_properties = table(
            "buildset_properties",
            _int("buildsetid", _fk("buildsets.id", _CASCADE), nullable=False),
            sa.Column("property_name", sa.String(256), nullable=False),
            sa.Column("property_value", sa.Text, nullable=False),  # JSON [value, source]
            sa.Index("buildset_properties_buildsetid", "buildsetid"),
        )

        # -- projects, codebases -----------------------------------------------------------------
        self.projects = table(
            "projects",
            _id(),
            sa.Column("name", sa.Text, nullable=False),
            _name_hash(),
            sa.Column("slug", sa.String(50), nullable=False),
            sa.Column("description", sa.Text),
            sa.Column("description_format", sa.Text),
            sa.Column("description_html", sa.Text),
            sa.Index("projects_name_hash", "name_hash", unique=True),
        )
        self.codebases = table(
            "codebases",
            _id(),
            _int("projectid", _fk("projects.id", _CASCADE), nullable=False),
            sa.Column("name", sa.Text, nullable=False),
            _name_hash(),
            sa.Column("slug", sa.String(50), nullable=False),
            sa.Index("codebases_projects_name_hash", "projectid", "name_hash", unique=True),
        )
        self.codebase_commits = table(
            "codebase_commits",
            _id(),
            _int("codebaseid", _fk("codebases.id", _CASCADE), nullable=False),
            sa.Column("author", sa.String(255), nullable=False),
            sa.Column("committer", sa.String(255)),
            sa.Column("comments", sa.Text, nullable=False),
            _int("when_timestamp", nullable=False),
            sa.Column("revision", sa.String(70), nullable=False),
            _int("parent_commitid", _fk("codebase_commits.id", _SET_NULL)),
            sa.Index("codebase_commits_unique", "codebaseid", "revision", unique=True),
        )
        self.codebase_branches = table(
            "codebase_branches",
            _id(),
            _int("codebaseid", _fk("codebases.id", _CASCADE), nullable=False),
            sa.Column("name", sa.String(255), nullable=False),
            _name_hash(),
            _int("commitid", _fk("codebase_commits.id", _SET_NULL)),
            _int("last_timestamp", nullable=False),
            sa.Index("codebase_branches_unique", "codebaseid", "name_hash", unique=True),
        )

        # -- builders, tags, masters, workers ----------------------------------------------------
        self.builders = table(
            "builders",
            _id(),
            sa.Column("name", sa.Text, nullable=False),
            sa.Column("description", sa.Text),
            sa.Column("description_format", sa.Text),
            sa.Column("description_html", sa.Text),
            _int("projectid", _fk("projects.id", _SET_NULL, name="fk_builders_projectid")),
            _name_hash(),
            sa.Index("builder_name_hash", "name_hash", unique=True),
            sa.Index("builders_projectid", "projectid"),
        )
        self.builder_masters = table(
            "builder_masters",
            sa.Column("id", sa.Integer, primary_key=True, nullable=False),
            _int("builderid", _fk("builders.id", _CASCADE), nullable=False),
            _int("masterid", _fk("masters.id", _CASCADE), nullable=False),
            sa.Index("builder_masters_builderid", "builderid"),
            sa.Index("builder_masters_masterid", "masterid"),
            sa.Index("builder_masters_identity", "builderid", "masterid", unique=True),
        )
        self.tags = table(
            "tags",
            _id(),
            sa.Column("name", sa.Text, nullable=False),
            _name_hash(),
            sa.Index("tag_name_hash", "name_hash", unique=True),
        )
        self.builders_tags = table(
            "builders_tags",
            _id(),
            _int("builderid", _fk("builders.id", _CASCADE), nullable=False),
            _int("tagid", _fk("tags.id", _CASCADE), nullable=False),
            sa.Index("builders_tags_builderid", "builderid"),
            sa.Index("builders_tags_unique", "builderid", "tagid", unique=True),
        )
        self.workers = table(
            "workers",
            _id(),
            sa.Column("name", sa.String(50), nullable=False),
            sa.Column("info", sa.Text, nullable=False),  # JSON object
            sa.Column("paused", sa.SmallInteger, nullable=False, server_default="0"),
            sa.Column("pause_reason", sa.Text),
            sa.Column("graceful", sa.SmallInteger, nullable=False, server_default="0"),
            sa.Index("workers_name", "name", unique=True),
        )
        self.configured_workers = table(
            "configured_workers",
            sa.Column("id", sa.Integer, primary_key=True, nullable=False),
            _int("buildermasterid", _fk("builder_masters.id", _CASCADE), nullable=False),
            _int("workerid", _fk("workers.id", _CASCADE), nullable=False),
            # "buildmasterid" (sic): the reference's index name.
            sa.Index("configured_workers_buildmasterid", "buildermasterid"),
            sa.Index("configured_workers_workers", "workerid"),
            sa.Index("configured_workers_identity", "buildermasterid", "workerid", unique=True),
        )
        self.connected_workers = table(
            "connected_workers",
            sa.Column("id", sa.Integer, primary_key=True, nullable=False),
            _int("masterid", _fk("masters.id", _CASCADE), nullable=False),
            _int("workerid", _fk("workers.id", _CASCADE), nullable=False),
            sa.Index("connected_workers_masterid", "masterid"),
            sa.Index("connected_workers_workers", "workerid"),
            sa.Index("connected_workers_identity", "masterid", "workerid", unique=True),
        )
        self.changesources = table(
            "changesources",
            _id(),
            sa.Column("name", sa.Text, nullable=False),
            _name_hash(),
            sa.Index("changesource_name_hash", "name_hash", unique=True),
        )
        # The primary key on changesourceid guarantees a single owner.
        self.changesource_masters = table(
            "changesource_masters",
            _int("changesourceid", _fk("changesources.id", _CASCADE), nullable=False,
                 primary_key=True, autoincrement=False),
            _int("masterid", _fk("masters.id", _CASCADE), nullable=False),
        )
        self.masters = table(
            "masters",
            _id(),
            sa.Column("name", sa.Text, nullable=False),  # "hostname:basedir"
            _name_hash(),
            _int("active", nullable=False),
            _int("last_active", nullable=False),
            sa.Index("master_name_hashes", "name_hash", unique=True),
        )
        self.schedulers = table(
            "schedulers",
            _id(),
            sa.Column("name", sa.Text, nullable=False),
            _name_hash(),
            sa.Column("enabled", sa.SmallInteger, server_default=sa.DefaultClause("1")),
            sa.Index("scheduler_name_hash", "name_hash", unique=True),
        )
        # The primary key on schedulerid guarantees a single owner.
        self.scheduler_masters = table(
            "scheduler_masters",
            _int("schedulerid", _fk("schedulers.id", _CASCADE), nullable=False,
                 primary_key=True, autoincrement=False),
            _int("masterid", _fk("masters.id", _CASCADE), nullable=False),
        )
        self.scheduler_changes = table(
            "scheduler_changes",
            _int("schedulerid", _fk("schedulers.id", _CASCADE), nullable=False),
            _int("changeid", _fk("changes.changeid", _CASCADE), nullable=False),
            _int("important"),
            sa.Index("scheduler_changes_schedulerid", "schedulerid"),
            sa.Index("scheduler_changes_changeid", "changeid"),
            sa.Index("scheduler_changes_unique", "schedulerid", "changeid", unique=True),
        )

        # -- source stamps, changes, patches -----------------------------------------------------
        self.sourcestamps = table(
            "sourcestamps",
            _id(),
            sa.Column("ss_hash", sa.String(40), nullable=False),
            sa.Column("branch", sa.String(256)),
            sa.Column("revision", sa.String(256)),
            _int("patchid", _fk("patches.id", _CASCADE)),
            sa.Column("repository", sa.String(512), nullable=False, server_default=""),
            sa.Column("codebase", sa.String(256), nullable=False,
                      server_default=sa.DefaultClause("")),
            sa.Column("project", sa.String(512), nullable=False, server_default=""),
            _int("created_at", nullable=False),
            sa.Index("sourcestamps_ss_hash_key", "ss_hash", unique=True),
        )
        self.buildset_sourcestamps = table(
            "buildset_sourcestamps",
            _id(),
            _int("buildsetid", _fk("buildsets.id", _CASCADE), nullable=False),
            _int("sourcestampid", _fk("sourcestamps.id", _CASCADE), nullable=False),
            sa.Index("buildset_sourcestamps_buildsetid", "buildsetid"),
            sa.Index("buildset_sourcestamps_unique", "buildsetid", "sourcestampid", unique=True),
        )
        self.patches = table(
            "patches",
            _id(),
            _int("patchlevel", nullable=False),
            sa.Column("patch_base64", sa.Text, nullable=False),
            sa.Column("patch_author", sa.Text, nullable=False),
            sa.Column("patch_comment", sa.Text, nullable=False),
            sa.Column("subdir", sa.Text),
        )
        self.changes = table(
            "changes",
            sa.Column("changeid", sa.Integer, primary_key=True),
            sa.Column("author", sa.String(255), nullable=False),
            sa.Column("committer", sa.String(255)),
            sa.Column("comments", sa.Text, nullable=False),
            sa.Column("branch", sa.String(255)),
            sa.Column("revision", sa.String(255)),
            sa.Column("revlink", sa.String(256)),
            _int("when_timestamp", nullable=False),
            sa.Column("category", sa.String(255)),
            sa.Column("repository", sa.String(512), nullable=False, server_default=""),
            sa.Column("codebase", sa.String(256), nullable=False,
                      server_default=sa.DefaultClause("")),
            sa.Column("project", sa.String(512), nullable=False, server_default=""),
            _int("sourcestampid", _fk("sourcestamps.id", _CASCADE), nullable=False),
            # A single parent despite the plural (reference naming).
            _int("parent_changeids", _fk("changes.changeid", _SET_NULL)),
            sa.Index("changes_branch", "branch"),
            sa.Index("changes_revision", "revision"),
            sa.Index("changes_author", "author"),
            sa.Index("changes_category", "category"),
            sa.Index("changes_when_timestamp", "when_timestamp"),
            sa.Index("changes_sourcestampid", "sourcestampid"),
        )
        self.change_files = table(
            "change_files",
            _int("changeid", _fk("changes.changeid", _CASCADE), nullable=False),
            sa.Column("filename", sa.String(1024), nullable=False),
            sa.Index("change_files_changeid", "changeid"),
        )
        self.change_properties = table(
            "change_properties",
            _int("changeid", _fk("changes.changeid", _CASCADE), nullable=False),
            sa.Column("property_name", sa.String(256), nullable=False),
            sa.Column("property_value", sa.Text, nullable=False),
            sa.Index("change_properties_changeid", "changeid"),
        )
        self.change_users = table(
            "change_users",
            _int("changeid", _fk("changes.changeid", _CASCADE), nullable=False),
            _int("uid", _fk("users.uid", _CASCADE), nullable=False),
            sa.Index("change_users_changeid", "changeid"),
        )

        # -- users -------------------------------------------------------------------------------
        self.users = table(
            "users",
            sa.Column("uid", sa.Integer, primary_key=True),
            sa.Column("identifier", sa.String(255), nullable=False),
            sa.Column("bb_username", sa.String(128)),
            sa.Column("bb_password", sa.String(128)),
            sa.Index("users_identifier", "identifier", unique=True),
            sa.Index("users_bb_user", "bb_username", unique=True),
        )
        self.users_info = table(
            "users_info",
            _int("uid", _fk("users.uid", _CASCADE), nullable=False),
            sa.Column("attr_type", sa.String(128), nullable=False),
            sa.Column("attr_data", sa.String(128), nullable=False),
            sa.Index("users_info_uid", "uid"),
            sa.Index("users_info_uid_attr_type", "uid", "attr_type", unique=True),
            sa.Index("users_info_attrs", "attr_type", "attr_data", unique=True),
        )

        # -- state -------------------------------------------------------------------------------
        self.objects = table(
            "objects",
            _id(),
            sa.Column("name", sa.String(128), nullable=False),
            sa.Column("class_name", sa.String(128), nullable=False),
            sa.Index("object_identity", "name", "class_name", unique=True),
        )
        self.object_state = table(
            "object_state",
            _int("objectid", _fk("objects.id", _CASCADE), nullable=False),
            sa.Column("name", sa.String(255), nullable=False),
            sa.Column("value_json", sa.Text, nullable=False),
            sa.Index("name_per_object", "objectid", "name", unique=True),
        )

        # -- test results ------------------------------------------------------------------------
        self.test_result_sets = table(
            "test_result_sets",
            _id(),
            _int("builderid", _fk("builders.id", _CASCADE), nullable=False),
            _int("buildid", _fk("builds.id", _CASCADE), nullable=False),
            _int("stepid", _fk("steps.id", _CASCADE), nullable=False),
            sa.Column("description", sa.Text),
            sa.Column("category", sa.Text, nullable=False),
            sa.Column("value_unit", sa.Text, nullable=False),
            _int("tests_passed"),
            _int("tests_failed"),
            sa.Column("complete", sa.SmallInteger, nullable=False),
        )
        self.test_names = table(
            "test_names",
            _id(),
            _int("builderid", _fk("builders.id", _CASCADE), nullable=False),
            sa.Column("name", sa.Text, nullable=False),
            sa.Index("test_names_name", "builderid", "name", mysql_length={"name": 255}),
        )
        self.test_code_paths = table(
            "test_code_paths",
            _id(),
            _int("builderid", _fk("builders.id", _CASCADE), nullable=False),
            sa.Column("path", sa.Text, nullable=False),
            sa.Index("test_code_paths_path", "builderid", "path", mysql_length={"path": 255}),
        )
        self.test_results = table(
            "test_results",
            _id(),
            _int("builderid", _fk("builders.id", _CASCADE), nullable=False),
            _int("test_result_setid", _fk("test_result_sets.id", _CASCADE), nullable=False),
            _int("test_nameid", _fk("test_names.id", _CASCADE)),
            _int("test_code_pathid", _fk("test_code_paths.id", _CASCADE)),
            _int("line"),
            _int("duration_ns"),
            sa.Column("value", sa.Text, nullable=False),
        )


#: The one schema description every connector uses (tables are stateless descriptions).
TABLES = Tables()
