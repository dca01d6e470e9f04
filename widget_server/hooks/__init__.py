"""Provider callbacks: ``/hooks/<kind>/<signed call token>``."""

from widget_server.hooks.views import blueprint

__all__ = ["blueprint"]
