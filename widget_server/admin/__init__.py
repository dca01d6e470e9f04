"""The server-rendered admin for operators, resellers and site owners."""

from widget_server.admin import (  # noqa: F401  (imported for the routes they add)
    accounts,
    api_keys,
    blocked_numbers,
    brand,
    calls,
    domains,
    figures,
    formats,
    mail,
    providers,
    reports,
    security,
    settings,
    users,
    webhooks,
    widgets,
)
from widget_server.admin.views import blueprint

__all__ = ["blueprint"]
