"""Sessions end at sign-out and at a password change, on every copy of the cookie."""

from __future__ import annotations

from tests.admin.test_users import choose_password, reset_link
from tests.factories import (
    NORTH_SOUTH,
    PASSWORD,
    create_tree,
    csrf_token,
    user_id,
)


def signed_in_for_real(app, email: str, password: str = PASSWORD):
    """A test client that signed in through the form, as a person does."""
    client = app.test_client()
    response = client.post("/admin/sign-in", data={
        "email": email, "password": password,
        "csrf_token": csrf_token(client, "/admin/sign-in")})
    assert response.status_code == 302
    return client


def copy_of(app, client):
    """Another browser holding a copy of ``client``'s session cookie (a stolen one)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def can_see_the_dashboard(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_sign_out_ends_every_copy_of_the_session(app):
    create_tree(app, **NORTH_SOUTH)
    person = signed_in_for_real(app, "owner@north.example")
    other_device = signed_in_for_real(app, "owner@north.example")
    thief = copy_of(app, person)
    assert can_see_the_dashboard(thief)
    assert person.post("/admin/sign-out",
                       data={"csrf_token": csrf_token(person)}).status_code == 302
    assert not can_see_the_dashboard(thief)
    assert not can_see_the_dashboard(other_device)
    # Another user's session is not touched, and signing in again works.
    assert can_see_the_dashboard(signed_in_for_real(app, "member@north.example"))
    assert can_see_the_dashboard(signed_in_for_real(app, "owner@north.example"))


def test_a_password_reset_ends_the_sessions_signed_in_with_the_old_password(app):
    create_tree(app, **NORTH_SOUTH)
    person = signed_in_for_real(app, "member@north-a.example")
    thief = copy_of(app, person)
    assert can_see_the_dashboard(thief)
    path = "/" + reset_link(app, "member@north-a.example").split("/", 3)[3]
    assert choose_password(app.test_client(), path, "brand new password").status_code == 302
    assert not can_see_the_dashboard(thief)
    assert not can_see_the_dashboard(person)
    assert can_see_the_dashboard(
        signed_in_for_real(app, "member@north-a.example", "brand new password"))


def test_a_session_that_carries_no_generation_is_anonymous(app):
    create_tree(app, **NORTH_SOUTH)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id(app, "owner@north.example"))
        session["_fresh"] = True
    assert not can_see_the_dashboard(client)
