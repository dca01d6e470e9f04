"""The visitor's path: loader, frame, call request and status. It sets no cookie."""

from widget_server.embed.views import blueprint

__all__ = ["blueprint"]
