"""White label through the API: set, read and remove a brand and its logo; who may.

operator > reseller > client-a, client-b; operator > other-reseller > other-client.
"""

from __future__ import annotations

import base64

import pytest

from tests.factories import SVG_LOGO, png_image, webp_header

NORTH = {"product_name": "North Calls", "primary_colour": "#FFD200",
         "support_email": "help@north.example", "host_name": "admin.north.example"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_a_reseller_brands_itself_and_its_clients_inherit_it(api, tenants, client):
    reseller, client_a = tenants.ids["reseller"], tenants.ids["client-a"]
    before = api("GET", f"/clients/{client_a}/brand", key="client-a").get_json()
    assert (before["inherited"], before["product_name"]) == (True, "widget-server")

    put = api("PUT", f"/clients/{reseller}/brand", json=NORTH)
    assert put.status_code == 200, put.get_json()
    assert put.get_json() | {"logo_url": None} == {
        "account_id": reseller, "inherited": False, "product_name": "North Calls",
        "primary_colour": "#ffd200", "text_colour": "#000000",
        "support_email": "help@north.example", "host_name": "admin.north.example",
        "logo_url": None, "logo_width": None, "logo_height": None}

    logo = png_image(width=300, height=100)
    put_logo = api("PUT", f"/clients/{reseller}/brand/logo", json={"image": b64(logo)})
    assert put_logo.status_code == 200, put_logo.get_json()
    seen = api("GET", f"/clients/{client_a}/brand", key="client-a").get_json()
    assert (seen["account_id"], seen["inherited"], seen["product_name"]) == (
        client_a, True, "North Calls")
    assert (seen["logo_width"], seen["logo_height"]) == (300, 100)
    served = client.get(seen["logo_url"])
    assert served.data == logo and served.headers["Content-Type"] == "image/png"

    assert api("DELETE", f"/clients/{reseller}/brand/logo").status_code == 204
    assert api("GET", f"/clients/{client_a}/brand").get_json()["logo_url"] is None
    assert api("DELETE", f"/clients/{reseller}/brand").status_code == 204
    assert api("GET", f"/clients/{client_a}/brand").get_json()["product_name"] == "widget-server"


def test_put_replaces_the_brand_but_keeps_its_logo(api, tenants):
    reseller = tenants.ids["reseller"]
    api("PUT", f"/clients/{reseller}/brand", json=NORTH)
    api("PUT", f"/clients/{reseller}/brand/logo", json={"image": b64(webp_header())})
    answer = api("PUT", f"/clients/{reseller}/brand", json={"product_name": "N"}).get_json()
    assert (answer["product_name"], answer["primary_colour"], answer["support_email"],
            answer["host_name"]) == ("N", "#0b6e4f", None, None)
    assert answer["logo_url"] and (answer["logo_width"], answer["logo_height"]) == (64, 32)


@pytest.mark.parametrize("image, sentence", [
    (b64(png_image(padding=250 * 1024)), "use one of at most 200 KB"),
    (b64(b"GIF89a\x01\x00\x01\x00"), "not a PNG, JPEG or WebP image"),
    (b64(SVG_LOGO), "SVG images are refused: an SVG can carry scripts"),
    (b64(png_image(width=8, height=8)), "use one of 16 to 2048 pixels a side"),
    ("not base64!", "Send the image's bytes in base64."),
])
def test_a_logo_is_refused_with_a_sentence(api, tenants, image, sentence):
    reseller = tenants.ids["reseller"]
    api("PUT", f"/clients/{reseller}/brand", json=NORTH)
    response = api("PUT", f"/clients/{reseller}/brand/logo", json={"image": image})
    assert response.status_code == 422
    assert sentence in response.get_json()["errors"]["logo" if "base64" not in sentence
                                                     else "image"]


def test_a_body_past_the_upload_limit_is_413(api, tenants):
    response = api("PUT", f"/clients/{tenants.ids['reseller']}/brand/logo",
                   json={"image": "A" * (1024 * 1024)})
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"


def test_a_logo_needs_a_brand_first(api, tenants):
    response = api("PUT", f"/clients/{tenants.ids['reseller']}/brand/logo",
                   json={"image": b64(png_image())})
    assert response.status_code == 409
    assert "product name first" in response.get_json()["detail"]


def test_every_wrong_field_is_named_at_once(api, tenants):
    response = api("PUT", f"/clients/{tenants.ids['reseller']}/brand", json={
        "product_name": "North", "primary_colour": "yellow", "support_email": "help",
        "host_name": "10.0.0.1"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "primary_colour": "Use a colour such as #0b6e4f.",
        "support_email": "Use an e-mail address such as support@example.com.",
        "host_name": "Use a host name such as admin.example.com, without https:// or a port."}


def test_an_unfit_body_for_another_tenants_account_is_still_404(api, tenants):
    response = api("PUT", f"/clients/{tenants.ids['other-reseller']}/brand",
                   json={"product_name": "X", "primary_colour": "yellow"})
    assert response.status_code == 404


def test_a_host_name_another_brand_holds_is_409(api, tenants):
    assert api("PUT", f"/clients/{tenants.ids['reseller']}/brand", json=NORTH).status_code == 200
    taken = api("PUT", f"/clients/{tenants.ids['other-reseller']}/brand",
                key="other-reseller", json=NORTH | {"product_name": "Other"})
    assert taken.status_code == 409
    assert taken.get_json()["detail"] == "Another brand uses this host name already."


@pytest.mark.parametrize("key, account, status", [
    ("other-reseller", "reseller", 404),  # another reseller's brand: not even read
    ("client-a", "reseller", 404),
    ("client-a", "client-a", 403),  # a client sets no brand
    ("reseller", "client-a", 403),  # nor does a reseller for one client apart
])
def test_nobody_reads_or_sets_a_brand_that_is_not_theirs(api, tenants, key, account, status):
    path = f"/clients/{tenants.ids[account]}/brand"
    if status == 404:
        assert api("GET", path, key=key).status_code == 404
    assert api("PUT", path, key=key, json=NORTH).status_code == status
    assert api("PUT", path + "/logo", key=key, json={"image": b64(png_image())}
               ).status_code == status
    assert api("DELETE", path, key=key).status_code == status
    assert api("GET", f"/clients/{tenants.ids['reseller']}/brand").get_json()["inherited"]


def test_the_operator_brands_a_reseller(api, tenants):
    put = api("PUT", f"/clients/{tenants.ids['reseller']}/brand", key="operator", json=NORTH)
    assert put.status_code == 200
    assert api("GET", f"/clients/{tenants.ids['client-b']}/brand", key="client-b"
               ).get_json()["product_name"] == "North Calls"
