"""People, through every interface that has it: adding one gets the same refusals and an
invitation mail rather than a password; a lost second factor is turned off alike."""

import time

import pyotp
import pytest
from sqlalchemy import select

from tests.services.interfaces import having
from widget_server.extensions import db
from widget_server.models import MailDelivery, RecoveryCode, User
from widget_server.services import two_factor


@pytest.mark.parametrize("interface", having("create_user"))
def test_a_new_user_is_invited_and_has_no_password(drive, interface):
    driver = drive(interface)
    outcome = driver.create_user(acting="client", email="new@client.example")
    assert outcome.accepted, outcome
    assert "shown once" not in outcome.text
    with driver.app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new@client.example"))
        assert (user.password_hash, user.role) == ("", "member")
        invitation = db.session.scalar(select(MailDelivery).where(
            MailDelivery.recipient == "new@client.example"))
        assert invitation.kind == "invitation" and "/admin/welcome/" in invitation.text


@pytest.mark.parametrize("interface", having("create_user"))
def test_an_invalid_email_is_refused_on_the_email(drive, interface):
    outcome = drive(interface).create_user(acting="client", email="not an email")
    assert outcome.refused_on("email"), outcome
    assert "Enter an email address" in outcome.text


@pytest.mark.parametrize("interface", having("create_user"))
def test_a_taken_email_is_refused_whatever_its_case(drive, interface):
    outcome = drive(interface).create_user(acting="client", email="Owner@Client.example")
    assert outcome.refused_on("email"), outcome
    assert "already signs in with this email" in outcome.text


@pytest.mark.parametrize("interface", having("turn_two_factor_off"))
def test_an_owner_above_turns_off_a_lost_second_factor(drive, interface):
    driver = drive(interface)
    with driver.app.app_context():
        user = db.session.scalar(select(User).where(User.email == "owner@client.example"))
        secret = two_factor.begin_enrolment(user)
        two_factor.confirm_enrolment(user, pyotp.TOTP(secret).at(time.time()))
    outcome = driver.turn_two_factor_off(acting="reseller", email="owner@client.example")
    assert outcome.accepted, outcome
    with driver.app.app_context():
        user = db.session.scalar(select(User).where(User.email == "owner@client.example"))
        assert (user.totp_enabled, user.totp_secret_encrypted) == (False, None)
        assert db.session.scalar(select(RecoveryCode.id)) is None
    again = driver.turn_two_factor_off(acting="reseller", email="owner@client.example")
    assert not again.accepted and "does not use two-factor sign-in" in again.text
