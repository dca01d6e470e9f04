"""Every write to widgets, their domains and accounts moves the settings version, in the
database itself: processes that keep widgets in memory rely on it (calls/live_widgets.py).

A SQLite batch migration that rebuilds one of these tables drops its triggers; this
fails until the migration creates them again.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.factories import create_account, create_widget
from widget_server import settings_version
from widget_server.extensions import db

pytestmark = pytest.mark.databases("sqlite", "postgresql")

WRITES = {
    "widget updated": "UPDATE widgets SET paused = NOT paused",
    "widget deleted": "DELETE FROM widgets WHERE name = 'bare'",
    "domain added": "INSERT INTO allowed_domains (widget_id, pattern) "
                    "SELECT id, 'new.example' FROM widgets",
    "domain removed": "DELETE FROM allowed_domains",
    "account updated": "UPDATE accounts SET daily_call_cap = 1",
}


@pytest.mark.parametrize("write", WRITES)
def test_a_write_in_plain_sql_moves_the_version(app, write):
    with app.app_context():
        acme = create_account(name="acme")
        create_widget(account=acme)
        create_widget(account=acme, domains=(), name="bare")
        before = settings_version.current()
        db.session.rollback()

        db.session.execute(text(WRITES[write]))
        db.session.commit()

        assert settings_version.current() > before


def test_the_version_never_returns_to_an_old_value_when_its_row_is_lost(app):
    with app.app_context():
        create_account(name="acme")
        kept = settings_version.current()
        db.session.execute(text("DELETE FROM settings_version"))
        db.session.commit()

        create_account(name="other")

        assert settings_version.current() > kept
