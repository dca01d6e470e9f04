"""The Alembic migrations build exactly the schema the models describe, on both databases."""


import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import Config, upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.conftest import base_config, scratch_postgres
from widget_server import create_app
from widget_server.extensions import db
from widget_server.models import Account

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there


def test_migrations_have_one_head(app):
    config = Config(f"{app.extensions['migrate'].directory}/alembic.ini")
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_migrated_database_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


@pytest.fixture
def fresh_database_url(database_url):
    """An empty database of this test's kind (SQLite: the instance folder's file)."""
    if not database_url:
        yield ""
        return
    with scratch_postgres() as url:
        yield url


def test_account_names_become_unique_among_siblings_keeping_rows_and_references(
        tmp_path, fresh_database_url):
    app = create_app(base_config(tmp_path / "instance", fresh_database_url))
    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory, revision="0004")
        for row in ("1, 'operator', 'operator', NULL", "2, 'north', 'reseller', 1",
                    "3, 'south', 'reseller', 1", "4, 'Acme', 'client', 2",
                    "5, 'acme2', 'client', 3"):
            db.session.execute(text("INSERT INTO accounts (id, name, kind, parent_id, "
                                    f"created_at) VALUES ({row}, CURRENT_TIMESTAMP)"))
        # Before: names were unique installation-wide, but compared exactly by the API.
        db.session.execute(text("UPDATE accounts SET name = 'acme' WHERE id = 5"))
        db.session.execute(text("INSERT INTO accounts (id, name, kind, parent_id, created_at) "
                                "VALUES (6, 'ACME', 'client', 2, CURRENT_TIMESTAMP)"))
        db.session.execute(text("INSERT INTO users (account_id, email, password_hash, role, "
                                "created_at) VALUES (4, 'a@acme.example', 'x', 'owner', "
                                "CURRENT_TIMESTAMP)"))
        db.session.commit()
        db.session.remove()

        upgrade(directory=directory)
        names = dict(db.session.execute(text("SELECT id, name FROM accounts")).all())
        assert names == {1: "operator", 2: "north", 3: "south", 4: "Acme", 5: "acme",
                         6: "ACME (6)"}
        assert db.session.execute(text("SELECT account_id FROM users")).scalar() == 4
        db.session.add(Account(id=10, name="north", kind="client", parent_id=3))  # a cousin: fine
        db.session.commit()
        db.session.add(Account(id=11, name="NORTH", kind="reseller", parent_id=1))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.add(Account(id=12, name="Operator", kind="operator"))  # a second root
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
