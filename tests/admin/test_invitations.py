"""Invitations and "Forgot password?": mails through a loopback SMTP server, with links that
set a password once and expire; nobody learns whether an address has an account."""

from __future__ import annotations

import logging
import re
import time

from itsdangerous import TimestampSigner
from sqlalchemy import select

from tests.admin.test_sessions import can_see_the_dashboard, signed_in_for_real
from tests.admin.test_users import choose_password, sign_in
from tests.factories import (
    NORTH_SOUTH,
    PASSWORD,
    create_tree,
    csrf_token,
    signed_in,
    user_id,
)
from widget_server.cli import main
from widget_server.extensions import db
from widget_server.models import MailDelivery

INVITEE = "new@north-a.example"


def parts(message) -> tuple[str, str]:
    return (message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


def link_in(message, kind: str) -> str:
    """The admin path of the ``kind`` (welcome, reset) link in the mail, checked in both
    parts and pointing at PUBLIC_URL."""
    text, html = parts(message)
    url = re.search(rf"https://widgets\.example/admin/{kind}/[\w.-]+", text).group(0)
    assert f'href="{url}"' in html
    return url.removeprefix("https://widgets.example")


def invite(app, email: str = INVITEE, *, by: str = "owner@north.example") -> str:
    """Invite ``email`` to north-a as ``by`` does in the admin: the page shown after."""
    ids = create_tree(app, **NORTH_SOUTH).ids
    client = signed_in(app, by)
    response = client.post("/admin/users/new", follow_redirects=True, data={
        "csrf_token": csrf_token(client), "email": email, "account_id": ids["north-a"],
        "role": "member"})
    assert response.request.path == "/admin/users"
    return response.get_data(as_text=True)


def post_again(app, path: str, password: str):
    """A post to a link whose page is gone, with a CSRF token from the sign-in page."""
    client = app.test_client()
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/sign-in"),
                                   "password": password, "confirm": password})


def later(monkeypatch, seconds: int) -> None:
    """Signed links are read ``seconds`` from now."""
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + seconds)


def test_an_invitation_arrives_and_its_link_sets_the_password_once(mail_app, smtp):
    invite(mail_app)
    [message] = smtp.messages
    assert smtp.envelopes[0][1] == [INVITEE]
    assert message["Subject"] == "You are invited to north-a on widget-server"
    text, html = parts(message)
    assert "owner@north.example added you to north-a on widget-server, as member." in text
    assert "for 7 days" in text and 'lang="en"' in html
    path = link_in(message, "welcome")
    client = mail_app.test_client()
    page = client.get(path).get_data(as_text=True)
    assert "Welcome to north-a" in page and INVITEE in page
    assert choose_password(client, path, "my very own password").status_code == 302
    assert sign_in(mail_app, INVITEE, "my very own password")
    # Used once: the page and a second post are refused, the password stays.
    assert client.get(path).status_code == 404
    assert post_again(mail_app, path, "somebody else's one").status_code == 404
    assert sign_in(mail_app, INVITEE, "my very own password")
    with mail_app.app_context():
        assert db.session.scalar(select(MailDelivery.kind)) == "invitation"


def test_an_invitation_link_works_for_seven_days_and_not_after(mail_app, smtp, monkeypatch):
    invite(mail_app)
    path = link_in(smtp.messages[0], "welcome")
    client = mail_app.test_client()
    later(monkeypatch, 7 * 86400 - 60)
    assert client.get(path).status_code == 200
    later(monkeypatch, 7 * 86400 + 1)
    assert client.get(path).status_code == 404
    assert "Invitations expire after 7 days" in client.get(path).get_data(as_text=True)


def test_an_owner_invites_again_someone_whose_invitation_expired(mail_app, smtp, monkeypatch):
    invite(mail_app)
    expired = link_in(smtp.messages[0], "welcome")
    owner = signed_in(mail_app, "owner@north.example")
    member = user_id(mail_app, INVITEE)
    assert "Invite again" in owner.get("/admin/users").get_data(as_text=True)
    again = owner.post(f"/admin/users/{member}/invite", data={"csrf_token": owner.csrf})
    assert again.status_code == 302
    fresh = link_in(smtp.messages[1], "welcome")
    later(monkeypatch, 7 * 86400 + 1)
    assert mail_app.test_client().get(expired).status_code == 404
    monkeypatch.undo()
    assert choose_password(mail_app.test_client(), fresh, "my very own password").status_code \
        == 302
    # Once they have a password, nobody invites them again; nor another tenant ever.
    refused = owner.post(f"/admin/users/{member}/invite", data={"csrf_token": owner.csrf},
                         follow_redirects=True)
    assert "has chosen a password already" in refused.get_data(as_text=True)
    rival = signed_in(mail_app, "owner@south.example")
    assert rival.post(f"/admin/users/{member}/invite",
                      data={"csrf_token": rival.csrf}).status_code == 404
    assert len(smtp.messages) == 2


def test_an_invitation_is_not_a_reset_link_nor_the_other_way_round(mail_app, smtp):
    invite(mail_app)
    path = link_in(smtp.messages[0], "welcome")
    client = mail_app.test_client()
    assert client.get(path.replace("/welcome/", "/reset/")).status_code == 404


def test_the_cli_mails_an_invitation_and_prints_no_link_when_mail_is_on(mail_app, smtp):
    create_tree(mail_app, **NORTH_SOUTH)
    result = mail_app.test_cli_runner().invoke(main, args=[
        "user", "create", "--account", "south-a", "--email", "ops@south-a.example"])
    assert result.exit_code == 0, result.output
    assert "/admin/welcome/" not in result.output
    [message] = smtp.messages
    path = link_in(message, "welcome")
    assert "operator added you to south-a" in parts(message)[0]
    assert choose_password(mail_app.test_client(), path, "ops own password").status_code == 302
    assert sign_in(mail_app, "ops@south-a.example", "ops own password")


def forgot(app, email: str, *, ip: str = "127.0.0.1", host: str = "localhost"):
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=ip, HTTP_HOST=host)
    return client.post("/admin/forgot-password", data={
        "email": email, "csrf_token": csrf_token(client, "/admin/forgot-password")})


def test_forgot_password_answers_alike_and_mails_only_a_known_address(mail_app, smtp):
    create_tree(mail_app, **NORTH_SOUTH)
    sign_in_page = mail_app.test_client().get("/admin/sign-in").get_data(as_text=True)
    assert 'href="/admin/forgot-password"' in sign_in_page
    known = forgot(mail_app, "Member@North-a.example")
    unknown = forgot(mail_app, "nobody@north-a.example")
    assert (known.status_code, known.location) == (unknown.status_code, unknown.location) == (
        302, "/admin/forgot-password/sent")
    client = mail_app.test_client()
    assert client.get(known.location).get_data() == client.get(unknown.location).get_data()
    assert "If that address signs in here" in client.get(known.location).get_data(as_text=True)
    assert [to for _, [to] in smtp.envelopes] == ["member@north-a.example"]
    [message] = smtp.messages
    assert message["Subject"] == "Choose a new password for widget-server"
    assert "works once, for 60 minutes" in parts(message)[0]


def test_a_reset_link_sets_a_password_once_and_ends_the_other_sessions(mail_app, smtp):
    create_tree(mail_app, **NORTH_SOUTH)
    elsewhere = signed_in_for_real(mail_app, "member@north-a.example")
    forgot(mail_app, "member@north-a.example")
    path = link_in(smtp.messages[0], "reset")
    client = mail_app.test_client()
    assert choose_password(client, path, "brand new password").status_code == 302
    assert not can_see_the_dashboard(elsewhere)
    assert sign_in(mail_app, "member@north-a.example", "brand new password")
    assert not sign_in(mail_app, "member@north-a.example", PASSWORD)
    assert post_again(mail_app, path, "another password").status_code == 404


def test_a_reset_link_expires_after_an_hour(mail_app, smtp, monkeypatch):
    create_tree(mail_app, **NORTH_SOUTH)
    forgot(mail_app, "member@north-a.example")
    path = link_in(smtp.messages[0], "reset")
    client = mail_app.test_client()
    later(monkeypatch, 3600 - 60)
    assert client.get(path).status_code == 200
    later(monkeypatch, 3600 + 1)
    assert client.get(path).status_code == 404


def test_an_unused_reset_link_dies_when_the_password_changes(mail_app, smtp):
    create_tree(mail_app, **NORTH_SOUTH)
    forgot(mail_app, "member@north-a.example")
    forgot(mail_app, "member@north-a.example")
    first, second = (link_in(message, "reset") for message in smtp.messages)
    assert first != second
    client = mail_app.test_client()
    assert choose_password(client, second, "brand new password").status_code == 302
    assert client.get(first).status_code == 404


def test_the_link_comes_from_public_url_never_from_the_requests_host(mail_app, smtp):
    create_tree(mail_app, **NORTH_SOUTH)
    forgot(mail_app, "member@north-a.example", host="evil.example")
    text, html = parts(smtp.messages[0])
    assert "evil.example" not in text + html
    assert "https://widgets.example/admin/reset/" in text


def test_forgot_password_is_rate_limited_alike_for_known_and_unknown_emails(mail_app, smtp):
    create_tree(mail_app, **NORTH_SOUTH)
    for email in ("member@north-a.example", "nobody@north-a.example"):
        answers = [forgot(mail_app, email, ip=f"198.51.100.{n}").status_code
                   for n in range(6)]
        assert answers == [302] * 5 + [429], email
    assert len(smtp.messages) == 5


def test_with_mail_off_the_log_never_shows_a_link(make_app, caplog):
    app = make_app()
    caplog.set_level(logging.INFO)
    page = invite(app)
    assert "Mail is off on this server" in page
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "mail off: to new@north-a.example" in logged
    assert "/admin/welcome/" not in logged and "withheld" in logged
