"""The embed snippet a site owner pastes: shared by the CLI and the admin."""

from __future__ import annotations

from flask import current_app, request

from widget_server.models import Widget
from widget_server.security.tokens import embed_token


def snippet(base_url: str, widget: Widget) -> str:
    return (f'<script async src="{base_url.rstrip("/")}/embed/v1/loader.js" '
            f'data-widget="{embed_token(widget)}"></script>')


def public_base_url() -> str:
    """Where visitors reach this server: PUBLIC_URL, else the address of this request."""
    return current_app.config["PUBLIC_URL"] or request.host_url
