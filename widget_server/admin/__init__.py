"""The server-rendered admin for operators, resellers and site owners."""

from widget_server.admin.views import blueprint

__all__ = ["blueprint"]
from widget_server.admin import accounts, api_keys, blocked_numbers, users  # noqa: F401  (their routes)
from widget_server.admin import domains, providers, widgets  # noqa: E402,F401  (their routes)
from widget_server.admin import reports  # noqa: F401  (its routes)
