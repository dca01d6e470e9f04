"""The loader and the frame as sites receive them: within their weights (issue 13: the
loader at most 2,000 bytes gzipped, the frame with everything it loads at most 12,000),
and the display rules in the loader's config."""

from __future__ import annotations

import gzip
import re

from tests.factories import PAGE_ORIGIN
from widget_server.extensions import db
from widget_server.models import Widget
from widget_server.security import tokens

GZIP = {"Accept-Encoding": "gzip"}


def test_the_loader_stays_within_2000_bytes_gzipped_as_sent(client):
    response = client.get("/embed/v1/loader.js", headers=GZIP)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert len(response.data) <= 2000
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


def test_the_frame_with_everything_it_loads_stays_within_12000_bytes_gzipped(app, client,
                                                                               widget):
    with app.app_context():
        token = tokens.embed_token(db.session.get(Widget, widget.id))
    page = client.get(f"/embed/v1/frame/{token}", query_string={"origin": PAGE_ORIGIN},
                      headers=GZIP | {"Sec-Fetch-Dest": "iframe"})
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(page.data).decode()
    # Its stylesheet and script, and the ALTCHA challenge its script fetches.
    loads = re.findall(r'(?:href|src|data-challenge)="(/embed/v1/[^"]+)"', html)
    assert {path.rsplit("/", 1)[-1] for path in loads} >= {"frame.css", "frame.js",
                                                          "challenge"}
    sizes = {"frame": len(page.data)}
    for path in loads:
        response = client.get(path, headers=GZIP)
        assert response.status_code == 200, path
        sizes[path] = len(response.data)
    assert sum(sizes.values()) <= 12_000, sizes
