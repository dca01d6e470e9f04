"""The loader as sites receive it: small, and with the display rules in its config."""

from __future__ import annotations

import gzip

from tests.factories import PAGE_ORIGIN
from widget_server.extensions import db
from widget_server.models import Widget
from widget_server.security import tokens


def test_the_loader_stays_under_2000_bytes_gzipped_as_sent(client):
    response = client.get("/embed/v1/loader.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert len(response.data) < 2000
    script = gzip.decompress(response.data).decode()
    # Served compacted, its source comments left out, its API kept.
    assert script.startswith("/*! widget-server loader v1")
    assert "\n//" not in script and "\n " not in script
    assert "window.WidgetServer" in script and "data-widget-server-open" in script


def test_the_config_carries_the_widgets_display_rules(app, client, widget):
    with app.app_context():
        row = db.session.get(Widget, widget.id)
        row.show_on_paths, row.hide_on_paths = ["/shop/*"], ["/shop/checkout"]
        row.show_after_seconds, row.show_after_scroll = 5, 40
        db.session.commit()
        token = tokens.embed_token(row)
    config = client.get(f"/embed/v1/config/{token}", headers={"Origin": PAGE_ORIGIN}).get_json()
    assert {key: config[key] for key in ("show_on_paths", "hide_on_paths", "show_after_seconds",
                                         "show_after_scroll")} == {
        "show_on_paths": ["/shop/*"], "hide_on_paths": ["/shop/checkout"],
        "show_after_seconds": 5, "show_after_scroll": 40}
