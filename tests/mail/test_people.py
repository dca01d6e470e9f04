"""Invitations and password resets read in the recipient's language and wear the brand
of the recipient's account, through a loopback SMTP server."""

from __future__ import annotations

from tests.factories import create_user
from tests.mail.test_brand import branded_client
from tests.mail.test_notifications import parts
from tests.waiting import wait_until
from widget_server.extensions import db
from widget_server.mail.people import send_password_reset
from widget_server.models import Account, User
from widget_server.services.users import create_user as invite_user
from widget_server.services.users import invite_again

GERMAN = "kunde@north-a.example"


def german_client_user(app, *, invited: bool) -> None:
    """A member of north-a (branded North Calls by its reseller) who reads German;
    ``invited``: added through the services, so mailed an invitation, not yet signed in."""
    with app.app_context():
        client = db.session.get_one(Account, branded_client(app))
        owner = create_user(account=client, email="owner@north-a.example")
        if invited:
            user = invite_user(owner, account_id=client.id, email=GERMAN, role="member")
        else:
            user = create_user(account=client, role="member", email=GERMAN)
        user.language = "de"
        db.session.commit()


def only_message(smtp):
    wait_until(lambda: smtp.messages, what="the mail")
    [message] = smtp.messages
    return message


def test_an_invitation_reads_in_the_users_language_with_the_resellers_brand(mail_app, smtp):
    german_client_user(mail_app, invited=True)
    smtp.messages.clear()  # the first invitation, sent before the language was known
    with mail_app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == GERMAN))
        owner = db.session.scalar(db.select(User).where(User.email == "owner@north-a.example"))
        invite_again(owner, user.id)
    message = only_message(smtp)
    assert message["Subject"] == "Sie sind zu north-a bei North Calls eingeladen"
    assert message["From"] == "North Calls <calls@widgets.example>"
    text, html = parts(message)
    assert ("owner@north-a.example hat Sie zu north-a bei North Calls hinzugefügt, "
            "als Mitglied.") in text
    assert "Sie melden sich mit dieser Adresse an: kunde@north-a.example" in text
    assert '<html lang="de">' in html and "Passwort wählen" in html
    assert "https://widgets.example/admin/welcome/" in text
    assert "widget-server" not in message.as_string().lower()


def test_a_password_reset_reads_in_the_users_language_with_the_resellers_brand(mail_app,
                                                                             smtp):
    german_client_user(mail_app, invited=False)
    with mail_app.app_context():
        send_password_reset(GERMAN)
    message = only_message(smtp)
    assert "North Calls" in message["Subject"] and "Passwort" in message["Subject"]
    text, html = parts(message)
    assert ("Jemand hat ein neues Passwort für kunde@north-a.example bei North Calls "
            "angefordert.") in text
    assert "https://widgets.example/admin/reset/" in text
    assert '<html lang="de">' in html
    assert "widget-server" not in message.as_string().lower()


def test_without_a_chosen_language_the_mail_is_english(mail_app, smtp):
    german_client_user(mail_app, invited=False)
    with mail_app.app_context():
        db.session.scalar(db.select(User).where(User.email == GERMAN)).language = None
        db.session.commit()
        send_password_reset(GERMAN)
    message = only_message(smtp)
    assert message["Subject"] == "Choose a new password for North Calls"
