"""Mail about a reseller's client wears the reseller's brand: From, Reply-To, links, signature."""

from __future__ import annotations

from tests.factories import create_account, create_user, create_widget, png_image
from tests.mail.conftest import OWNER, smtp_url
from tests.mail.test_notifications import parts, request_call
from widget_server.extensions import db
from widget_server.mail.outbox import deliver
from widget_server.models import Account, MailDelivery, WebhookEndpoint, Widget, utcnow
from widget_server.services.brands import save_brand, set_logo
from widget_server.webhooks.delivery import disable_failing_endpoint

NORTH_HOST = "admin.north.example"


def branded_client(app) -> int:
    """Client north-a of reseller north, which brands itself North Calls; the client's id."""
    with app.app_context():
        operator = create_account(name="operator", kind="operator")
        north = create_account(name="north", kind="reseller", parent=operator)
        client = create_account(name="north-a", kind="client", parent=north)
        save_brand(north, north.id, product_name="North Calls", primary_colour="#ffd200",
                   support_email="help@north.example", host_name=NORTH_HOST)
        set_logo(north, north.id, png_image())
        return client.id


def notifying_widget_of(app, account_id: int, *, events, **fields) -> Widget:
    with app.app_context():
        widget = create_widget(account=db.session.get_one(Account, account_id),
                               domains=["shop.example", "localhost:5000"],
                               notify_emails=[OWNER], notify_events=list(events), **fields)
        db.session.expunge(widget)
        return widget


def test_a_clients_notification_carries_its_resellers_brand_only(mail_app, smtp):
    widget = notifying_widget_of(mail_app, branded_client(mail_app), events=("missed",))
    call_id = request_call(mail_app, widget, "+12025550003")  # the visitor does not answer
    [message] = smtp.messages
    assert message["From"] == "North Calls <calls@widgets.example>"
    assert message["Reply-To"] == "help@north.example"
    text, html = parts(message)
    link = f"https://{NORTH_HOST}/admin/reports/calls/{call_id}"
    assert link in text and f'href="{link}"' in html
    assert "North Calls · Questions? Write to help@north.example." in text
    assert "North Calls · Questions? Write to help@north.example." in html
    assert "widget-server" not in message.as_string().lower()


def test_the_signature_is_in_the_widgets_language(mail_app, smtp):
    widget = notifying_widget_of(mail_app, branded_client(mail_app), events=("requested",),
                                 language="de")
    request_call(mail_app, widget, "+12025550123")
    text, _ = parts(smtp.messages[0])
    assert "North Calls · Fragen? Schreiben Sie an help@north.example." in text


def test_mail_of_an_unbranded_tree_comes_from_the_operators_product(make_app, smtp):
    app = make_app(SMTP_URL=smtp_url(smtp), MAIL_FROM="Calls <calls@widgets.example>",
                   PRODUCT_NAME="Acme Voice")
    with app.app_context():
        shop_id = create_account(name="shop").id
    widget = notifying_widget_of(app, shop_id, events=("requested",))
    request_call(app, widget, "+12025550123")
    [message] = smtp.messages
    assert message["From"] == "Acme Voice <calls@widgets.example>"
    assert message["Reply-To"] is None
    assert parts(message)[0].rstrip().endswith("Acme Voice")


def test_the_webhook_disabled_mail_carries_the_brand(mail_app, smtp):
    client_id = branded_client(mail_app)
    with mail_app.app_context():
        create_user(account=db.session.get_one(Account, client_id), email=OWNER)
        endpoint = WebhookEndpoint(account_id=client_id, url="https://hooks.north-a.example/",
                                   events=["call.completed"], secret_encrypted="x",
                                   failing_since=utcnow())
        db.session.add(endpoint)
        db.session.commit()
        [mail_id] = disable_failing_endpoint(endpoint, utcnow())
        db.session.commit()
        row = db.session.get_one(MailDelivery, mail_id)
        assert f"https://{NORTH_HOST}/admin/webhooks/{endpoint.id}" in row.text
        assert "North Calls · Questions? Write to help@north.example." in row.text
        deliver(mail_id)
    [message] = smtp.messages
    assert message["From"] == "North Calls <calls@widgets.example>"
    assert "widget-server" not in message.as_string().lower()
