"""White label in the admin: a reseller's brand on its clients' pages, its host, its logo's rules.

Tree: operator > north (reseller) > north-a, north-b; operator > south > south-a;
every role everywhere (tests/factories.NORTH_SOUTH).
"""

from __future__ import annotations

import html
import io
import re

import pytest

from tests.factories import (
    NORTH_SOUTH,
    PASSWORD,
    SVG_LOGO,
    admin_post,
    create_tree,
    png_image,
    signed_in,
)
from widget_server.extensions import db
from widget_server.models import Brand

NORTH_HOST = "admin.north.example"
# Every page a client's people reach from the navigation.
CLIENT_PAGES = ["/admin/", "/admin/widgets", "/admin/widgets/new", "/admin/providers",
                "/admin/reports/calls", "/admin/reports/usage", "/admin/accounts",
                "/admin/users", "/admin/api-keys", "/admin/webhooks", "/admin/mail",
                "/admin/no-such-page"]


@pytest.fixture
def tree(app):
    return create_tree(app, **NORTH_SOUTH)


def brand_form(**fields) -> dict:
    return {"product_name": "North Calls", "primary_colour": "#ffd200",
            "support_email": "help@north.example", "host_name": ""} | fields


def save(client, account_id: int, *, logo: bytes | None = None, filename="logo.png", **fields):
    data = brand_form(**fields)
    if logo is not None:
        data["logo"] = (io.BytesIO(logo), filename)
    return client.post(f"/admin/accounts/{account_id}/brand",
                       data={"csrf_token": client.csrf, **data},
                       content_type="multipart/form-data")


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_resellers_brand_is_on_every_page_its_clients_people_see(app, tree):
    north = signed_in(app, "owner@north.example")
    logo = png_image(width=120, height=40)
    response = save(north, tree.ids["north"], logo=logo)
    assert response.status_code == 302, text(response)

    client_user = signed_in(app, "read-only@north-a.example")
    for path in CLIENT_PAGES:
        page = text(client_user.get(path))
        assert "widget-server" not in page.lower(), path
        assert re.search(r"<title>[^<]* · North Calls</title>", page), path
        assert '<span>North Calls</span>' in page, path
        assert "/admin/brand/theme/ffd200.css" in page, path
        assert 'href="mailto:help@north.example"' in page, path
    [logo_path] = re.findall(r'<img src="(/admin/brand/logo/[0-9a-f]{32})"',
                             text(client_user.get("/admin/")))
    served = client_user.get(logo_path)
    assert served.data == logo
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in served.headers["Cache-Control"]


def test_the_brand_colour_reaches_the_page_through_a_stylesheet_with_readable_text(app, tree):
    client = app.test_client()
    yellow = client.get("/admin/brand/theme/ffd200.css")
    assert yellow.headers["Content-Type"].startswith("text/css")
    assert "max-age=31536000" in yellow.headers["Cache-Control"]
    css = text(yellow)
    # Black text on yellow; yellow is unreadable on white, so links keep the default ink.
    assert "--accent:#ffd200" in css and "--on-accent:#000000" in css
    assert "--accent-ink:#1b1f23" in css
    assert "--on-accent:#ffffff" in text(client.get("/admin/brand/theme/0b3d91.css"))
    assert client.get("/admin/brand/theme/FFD200.css").status_code == 404
    assert client.get("/admin/brand/theme/zzzzzz.css").status_code == 404


def test_the_operators_brand_is_the_default_and_its_name_a_setting(make_app):
    app = make_app(PRODUCT_NAME="Acme Voice")
    tree = create_tree(app, **NORTH_SOUTH)
    page = text(signed_in(app, "owner@south-a.example").get("/admin/"))
    assert "<title>Dashboard · Acme Voice</title>" in page
    assert "widget-server" not in page
    operator = signed_in(app, "owner@operator.example")
    assert save(operator, tree.ids["operator"], product_name="Op Calls").status_code == 302
    assert "· Op Calls</title>" in text(signed_in(app, "owner@south-a.example").get("/admin/"))
    # North brands itself: its clients see North's, south's still the operator's.
    assert save(signed_in(app, "owner@north.example"), tree.ids["north"]).status_code == 302
    assert "· North Calls</title>" in text(signed_in(app, "owner@north-b.example").get("/admin/"))
    assert "· Op Calls</title>" in text(signed_in(app, "owner@south-a.example").get("/admin/"))


@pytest.mark.parametrize("logo, filename, status, sentence", [
    (png_image(padding=250 * 1024), "big.png", 400, "use one of at most 200 KB"),
    (png_image(padding=900 * 1024), "huge.png", 413, None),
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00", "logo.png", 400, "not a PNG, JPEG or WebP image"),
    (SVG_LOGO, "logo.svg", 400, "SVG images are refused: an SVG can carry scripts"),
    (png_image(width=4000, height=10), "wide.png", 400, "4000 x 10 pixels"),
])
def test_a_logo_is_refused_when_too_big_or_not_a_picture(app, tree, logo, filename, status,
                                                        sentence):
    north = signed_in(app, "owner@north.example")
    response = save(north, tree.ids["north"], logo=logo, filename=filename)
    assert response.status_code == status
    if sentence:
        assert sentence in text(response)
    with app.app_context():
        assert db.session.scalar(db.select(Brand)) is None  # nothing half-saved


def test_every_wrong_field_is_named_at_once(app, tree):
    response = save(signed_in(app, "owner@north.example"), tree.ids["north"],
                    product_name=" ", primary_colour="yellow", support_email="help",
                    host_name="https://admin.north.example:8443")
    assert response.status_code == 400
    page = text(response)
    for sentence in ("Enter the product name", "Use a colour such as #0b6e4f.",
                     "Use an e-mail address such as support@example.com.",
                     "Use a host name such as admin.example.com"):
        assert sentence in page


def sign_in(client, email: str, host: str):
    base = f"http://{host}"
    page = text(client.get("/admin/sign-in", base_url=base))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/admin/sign-in", base_url=base,
                       data={"email": email, "password": PASSWORD, "csrf_token": token})


def test_the_admin_answers_on_the_brands_host_with_that_brand(app, tree):
    north = signed_in(app, "owner@north.example")
    assert save(north, tree.ids["north"], host_name="Admin.North.Example.",
                logo=png_image()).status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(Brand.host_name)) == NORTH_HOST

    visitor = app.test_client()
    page = text(visitor.get("/admin/sign-in", base_url=f"http://{NORTH_HOST}:8080"))
    assert "<title>Sign in · North Calls</title>" in page and "/admin/brand/logo/" in page
    assert "widget-server" not in page
    other = text(visitor.get("/admin/sign-in", base_url="http://other.example"))
    assert "<title>Sign in · widget-server</title>" in other

    people = app.test_client()
    assert sign_in(people, "member@north-a.example", NORTH_HOST).status_code == 302
    home = text(people.get("/admin/", base_url=f"http://{NORTH_HOST}"))
    assert "north-a" in home and "· North Calls</title>" in home
    # The session is the host's: the installation's own host does not get it.
    assert people.get("/admin/", base_url="http://localhost").status_code == 302


def test_a_brands_host_signs_in_only_that_brands_people(app, tree):
    north = signed_in(app, "owner@north.example")
    assert save(north, tree.ids["north"], host_name=NORTH_HOST).status_code == 302
    outsider = app.test_client()
    refused = sign_in(outsider, "owner@south.example", NORTH_HOST)
    assert refused.status_code == 200 and "do not match" in text(refused)
    assert sign_in(outsider, "owner@operator.example", NORTH_HOST).status_code == 200
    # South signs in where it may; its session carried to north's host ends there.
    assert sign_in(outsider, "owner@south.example", "localhost").status_code == 302
    cookie = outsider.get_cookie("session", domain="localhost")
    outsider.set_cookie("session", cookie.value, domain=NORTH_HOST)
    bounced = outsider.get("/admin/widgets", base_url=f"http://{NORTH_HOST}")
    assert bounced.status_code == 302 and bounced.location.endswith("/admin/sign-in")
    assert outsider.get("/admin/widgets", base_url=f"http://{NORTH_HOST}").status_code == 302


@pytest.mark.parametrize("host, sentence", [
    ("localhost", "Use a host name such as"),
    ("widgets.example", "the installation's own address"),  # PUBLIC_URL's
    ("10.0.0.1", "Use a host name such as"),
    ("north", "Use a host name such as"),
    ("admin.north.example/path", "Use a host name such as"),
])
def test_a_host_name_of_the_installation_or_not_a_name_is_refused(make_app, host, sentence):
    app = make_app(PUBLIC_URL="https://widgets.example")
    tree = create_tree(app, **NORTH_SOUTH)
    response = save(signed_in(app, "owner@north.example"), tree.ids["north"], host_name=host)
    assert response.status_code == 400 and sentence in text(response)


def test_the_host_the_admin_is_used_on_is_not_taken_for_a_brand(app, tree):
    north = signed_in(app, "owner@operator.example")
    token = north.csrf
    north.set_cookie("session", north.get_cookie("session").value,
                     domain="admin.operator.example")
    response = north.post(f"/admin/accounts/{tree.ids['north']}/brand",
                          base_url="http://admin.operator.example",
                          data={"csrf_token": token, **brand_form(
                              host_name="admin.operator.example")})
    assert response.status_code == 400
    assert "the installation's own address" in text(response)


def test_a_host_name_another_brand_holds_is_a_conflict(app, tree):
    assert save(signed_in(app, "owner@north.example"), tree.ids["north"],
                host_name=NORTH_HOST).status_code == 302
    response = save(signed_in(app, "owner@south.example"), tree.ids["south"],
                    product_name="South", host_name=NORTH_HOST)
    assert response.status_code == 409
    assert "Another brand uses this host name already." in text(response)


@pytest.mark.parametrize("who, account, status", [
    ("owner@south.example", "north", 404),  # another reseller's brand: not even seen
    ("owner@north-a.example", "north", 404),  # a client reads none above it
    ("owner@north-a.example", "north-a", 403),  # a client sets none
    ("member@north.example", "north", 403),  # owners only
    ("member@south.example", "north", 404),  # outside the subtree, whatever the role
    ("owner@north.example", "north-a", 403),  # a reseller does not brand its clients apart
])
def test_nobody_reads_or_sets_a_brand_that_is_not_theirs(app, tree, who, account, status):
    client = signed_in(app, who)
    assert client.get(f"/admin/accounts/{tree.ids[account]}/brand").status_code == status
    assert save(client, tree.ids[account]).status_code == status
    assert admin_post(client, f"/admin/accounts/{tree.ids[account]}/brand/delete"
                      ).status_code == status
    with app.app_context():
        assert db.session.scalar(db.select(Brand)) is None


def test_the_operator_sets_a_resellers_brand_and_removing_it_restores_the_default(app, tree):
    operator = signed_in(app, "owner@operator.example")
    page = text(operator.get(f"/admin/accounts/{tree.ids['operator']}/brand"))
    assert f'href="/admin/accounts/{tree.ids["north"]}/brand"' in page
    assert save(operator, tree.ids["north"]).status_code == 302
    assert "· North Calls</title>" in text(signed_in(app, "owner@north-a.example").get("/admin/"))
    north = signed_in(app, "owner@north.example")
    assert admin_post(north, f"/admin/accounts/{tree.ids['north']}/brand/delete"
                      ).status_code == 302
    assert "· widget-server</title>" in text(
        signed_in(app, "owner@north-a.example").get("/admin/"))


def test_removing_the_logo_keeps_the_rest(app, tree):
    north = signed_in(app, "owner@north.example")
    assert save(north, tree.ids["north"], logo=png_image()).status_code == 302
    assert save(north, tree.ids["north"], remove_logo="y").status_code == 302
    page = text(signed_in(app, "owner@north-a.example").get("/admin/"))
    assert "/admin/brand/logo/" not in page and "· North Calls</title>" in page


def test_the_brand_page_shows_what_is_saved(app, tree):
    north = signed_in(app, "owner@north.example")
    save(north, tree.ids["north"], host_name=NORTH_HOST, logo=png_image())
    page = text(north.get(f"/admin/accounts/{tree.ids['north']}/brand"))
    for value in ('value="North Calls"', 'value="#ffd200"', 'value="help@north.example"',
                  f'value="{NORTH_HOST}"', "Remove the logo", "Remove the brand"):
        assert value in page
