"""The demo host page: a stand-in for a customer's site, on its own origin."""

from __future__ import annotations

from flask import Flask, render_template
from waitress import serve

from widget_server import PROJECT_ROOT


def host_page_app(snippet: str) -> Flask:
    app = Flask("widget_server_demo_host", template_folder=str(PROJECT_ROOT / "templates"))

    @app.get("/")
    def home():
        return render_template("demo/host.html", snippet=snippet)

    return app


def serve_host_page(host: str, port: int, snippet: str) -> None:
    serve(host_page_app(snippet), host=host, port=port, threads=2, ident="demo-host")
