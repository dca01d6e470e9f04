"""A site owner whose button does not show reads why in the browser's console: our
sentence, readable because the config's refusal carries the page's origin (CORS)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_migrate import upgrade

from tests.browser_support import serve, stop
from tests.factories import create_account, create_widget
from widget_server import create_app
from widget_server.extensions import db
from widget_server.models import AllowedDomain, Widget, utcnow
from widget_server.services.widgets import embed_snippet

pytestmark = pytest.mark.browser

PREFIX = "widget-server: the call-back button is not shown: "


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = create_app({"INSTANCE_PATH": str(tmp_path_factory.mktemp("refusals") / "instance"),
                      "DEVELOPMENT": True})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        ids = {name: create_widget(account=create_account(name=name), domains=[]).id
               for name in ("removed", "elsewhere", "suspended")}
    app_server = serve(app)
    app_url = f"http://127.0.0.1:{app_server.effective_port}"
    with app.app_context():
        snippets = {name: embed_snippet(db.session.get(Widget, widget_id), app_url)
                    for name, widget_id in ids.items()}
    host = Flask("host")
    for name, snippet in snippets.items():
        host.add_url_rule(f"/{name}", name, lambda snippet=snippet: (
            f"<!doctype html><title>Shop</title><h1>Radiators</h1>{snippet}"))
    host_server = serve(host)
    with app.app_context():
        for name in ("removed", "suspended"):
            db.session.add(AllowedDomain(widget_id=ids[name],
                                         pattern=f"localhost:{host_server.effective_port}"))
        db.session.get(Widget, ids["removed"]).deleted_at = utcnow()
        db.session.get(Widget, ids["suspended"]).account.suspended_at = utcnow()
        db.session.commit()
    yield f"http://localhost:{host_server.effective_port}"
    for server in (app_server, host_server):
        stop(server)
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path, sentence", [
    ("/removed", "This call-back widget has been removed by its owner."),
    ("/elsewhere", "This widget is not allowed on this site."),
    ("/suspended", "Call-backs are not available on this site at the moment."),
])
def test_the_console_says_why_the_button_is_not_shown(page, site, path, sentence):
    with page.expect_console_message(lambda message: PREFIX in message.text) as logged:
        page.goto(site + path)
    assert logged.value.text == PREFIX + sentence
    assert page.locator("widget-server-button").count() == 0
