"""Nothing the browser receives carries a provider credential or a server secret."""

import json

from tests.factories import call_body, post_call
from widget_server.extensions import db
from widget_server.models import ProviderAccount, Widget
from widget_server.security import tokens
from widget_server.security.keys import fernet

CREDENTIAL = "pin-7d41e0c2-very-secret"


def test_no_browser_response_contains_a_credential_or_a_key(app, client, widget):
    with app.app_context():
        account = ProviderAccount(
            account_id=widget.account_id, name="main", kind="simulator",
            credentials_encrypted=fernet(app.config).encrypt(
                json.dumps({"pin": CREDENTIAL}).encode()).decode())
        db.session.add(account)
        stored = db.session.get(Widget, widget.id)
        stored.provider_account = account
        db.session.commit()
        token = tokens.embed_token(stored)
        encrypted = account.credentials_encrypted

    origin = {"Origin": "https://shop.example"}
    responses = [
        client.get("/embed/v1/loader.js"),
        client.get(f"/embed/v1/config/{token}", headers=origin),
        client.get(f"/embed/v1/frame/{token}?origin=https://shop.example"),
        client.get("/embed/v1/frame.js"),
        client.get("/embed/v1/frame.css"),
        client.get("/embed/v1/captcha/challenge"),
    ]
    accepted = post_call(client, call_body(app, client, widget))
    assert accepted.status_code == 202, accepted.get_json()
    responses.append(accepted)
    responses.append(client.get(accepted.get_json()["status_url"],
                                headers={"X-Call-Token": accepted.get_json()["call_token"]}))
    responses.append(post_call(client, call_body(app, client, widget, phone="+1 900 555 0123")))

    secrets = [CREDENTIAL, encrypted, *app.config["SECRET_KEYS"],
               *app.config["ENCRYPTION_KEYS"]]
    for response in responses:
        seen = response.get_data(as_text=True) + str(response.headers)
        for secret in secrets:
            assert secret not in seen, f"{response.request.path} leaks a secret"
