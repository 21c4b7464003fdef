"""The schema we create is Buildbot 4.3's, on every engine.

The reference descriptions were frozen from databases made by Buildbot 4.3.0's own
`buildbot create-master` (see `schema_description.py`).
"""

from __future__ import annotations

import json

import pytest
import pytest_twisted

from buildbot.db.connector import DBConnector
from buildbot.db.model import HEAD_REVISION, TABLES
from tests.db.schema_description import describe, reference_path

pytestmark = pytest.mark.db


def _reference(dialect: str) -> dict:
    return json.loads(reference_path(dialect).read_text())


@pytest_twisted.ensureDeferred
async def test_created_schema_equals_buildbot_4_3(db: DBConnector) -> None:
    ours = await db.pool.run(describe)
    assert json.loads(json.dumps(ours)) == _reference(db.pool.dialect)


@pytest_twisted.ensureDeferred
async def test_created_schema_is_stamped_at_head(db: DBConnector) -> None:
    rev = await db.pool.run(
        lambda conn: conn.exec_driver_sql("SELECT version_num FROM alembic_version").all())
    assert rev == [(HEAD_REVISION,)]


def test_model_has_the_42_tables() -> None:
    assert len(TABLES.metadata.tables) == 42
    assert sorted(TABLES.metadata.tables) == sorted(_reference("sqlite"))
