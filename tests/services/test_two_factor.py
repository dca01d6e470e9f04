"""Single use under a race: of requests sending one TOTP code, one recovery code or one
password link at once, exactly one passes, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pyotp
import pytest

from tests.factories import create_account, create_user
from widget_server.extensions import db
from widget_server.models import User
from widget_server.security.password_links import RESET
from widget_server.services import two_factor
from widget_server.services.errors import ServiceError
from widget_server.services.users import reset_token, set_password_by_link

pytestmark = pytest.mark.databases("sqlite", "postgresql")
RACERS = 6


def enrolled(app) -> tuple[int, pyotp.TOTP, list[str]]:
    """A user with TOTP on, confirmed with the previous step's code."""
    with app.app_context():
        user = create_user(account=create_account(name="shop"))
        totp = pyotp.TOTP(two_factor.begin_enrolment(user))
        codes = two_factor.confirm_enrolment(user, totp.at(time.time() - 30))
        return user.id, totp, codes


def race(app, attempt) -> list:
    """``attempt(user)`` in ``RACERS`` threads let go together; what each returned."""
    start = Barrier(RACERS)

    def run(_):
        with app.app_context():
            start.wait()
            try:
                return attempt()
            except ServiceError:
                return False
            finally:
                db.session.remove()

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(run, range(RACERS)))


def verify(user_id: int, code: str):
    return lambda: two_factor.verify(db.session.get(User, user_id), code)


def test_one_totp_code_sent_at_once_passes_once(app):
    user_id, totp, _ = enrolled(app)
    assert sum(race(app, verify(user_id, totp.now()))) == 1


def test_one_recovery_code_sent_at_once_passes_once(app):
    user_id, _, codes = enrolled(app)
    assert sum(race(app, verify(user_id, codes[0]))) == 1


def test_one_password_link_used_at_once_sets_one_password(app):
    with app.app_context():
        token = reset_token(create_user(account=create_account(name="shop")))
    results = race(app, lambda: bool(set_password_by_link(token, RESET, "a new password!")))
    assert sum(results) == 1
