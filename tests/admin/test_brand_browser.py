"""A reseller brands itself in a real browser; its client's people see the brand, CSP and all.

The logo is uploaded through the page's file field, the colour reaches the
page through the brand's stylesheet (the admin's CSP allows no inline style),
and the client's owner, signing in on another origin, reads the reseller's
name, logo and colours with black text on its yellow.
"""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from playwright.sync_api import expect

from tests.browser_support import serve
from tests.factories import png_image
from widget_server import create_app
from widget_server.extensions import db
from widget_server.models import Account, User
from widget_server.services.users import hash_password

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    app = create_app({"INSTANCE_PATH": str(tmp_path_factory.mktemp("brand") / "instance"),
                      "DEVELOPMENT": True})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        operator = Account(name="operator", kind="operator")
        db.session.add(operator)
        db.session.flush()
        north = Account(name="north", kind="reseller", parent_id=operator.id)
        db.session.add(north)
        db.session.flush()
        client = Account(name="north-a", kind="client", parent_id=north.id)
        db.session.add(client)
        db.session.flush()
        for account, email in ((north, "owner@north.example"), (client, "owner@north-a.example")):
            db.session.add(User(account_id=account.id, email=email, role="owner",
                                password_hash=hash_password(PASSWORD)))
        db.session.commit()
    server = serve(app)
    yield server.effective_port
    server.close()
    with app.app_context():
        db.engine.dispose()


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/admin/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_client_sees_its_resellers_brand(page, app_url, tmp_path):
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    logo = tmp_path / "north.png"
    logo.write_bytes(png_image(width=120, height=40, rgb=(20, 40, 160)))

    sign_in(page, f"http://127.0.0.1:{app_url}", "owner@north.example")
    page.get_by_role("link", name="Brand").click()
    page.get_by_label("Product name").fill("North Calls")
    page.get_by_label("Primary colour").fill("#ffd200")
    page.get_by_label("Support e-mail").fill("help@north.example")
    page.get_by_label("Logo", exact=True).set_input_files(str(logo))
    page.get_by_role("button", name="Save brand").click()
    expect(page.get_by_role("status")).to_contain_text("Brand saved")

    # Another origin: the client's owner signs in with a session of their own.
    sign_in(page, f"http://localhost:{app_url}", "owner@north-a.example")
    expect(page).to_have_title("Dashboard · North Calls")
    header = page.locator("header.top")
    expect(header.locator(".brand span")).to_have_text("North Calls")
    expect(header).to_have_css("border-top-color", "rgb(255, 210, 0)")
    expect(header.get_by_role("button", name="Sign out")).to_have_css("color", "rgb(0, 0, 0)")
    assert header.locator(".brand img").evaluate("image => image.naturalWidth") == 120
    expect(page.locator("footer.support")).to_contain_text("help@north.example")
    assert "widget-server" not in page.content().lower()
    assert refused == []
