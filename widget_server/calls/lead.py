"""Where a lead came from: the host page's URL and its campaign parameters.

The frame sends the URL of the page it sits in (the loader hands it over in
the frame URL's fragment). It is metadata for the report and nothing more:
it fills no field and decides nothing, so a value that cannot be the page's
is dropped rather than refused; the visitor's call matters more than the
report. Kept: the page's origin, which must be the whitelisted framing page's,
and its path; the query is read for ``utm_*`` and ``gclid`` and then dropped,
so whatever else a site puts in its URLs (an e-mail, a reset token) is never
stored. Cookies are never read.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from widget_server.security.origins import same_origin

CAMPAIGN_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                   "gclid")
# A longer URL is not read at all; a stored one (origin and path) fits the column.
MAX_INPUT_LENGTH = 4096
MAX_PAGE_URL_LENGTH = 1000
MAX_CAMPAIGN_VALUE_LENGTH = 100
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\s]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def read_lead(page_url: object, page_origin: str) -> tuple[str | None, dict[str, str]]:
    """The page URL to store (origin and path, or None) and its campaign parameters."""
    if not isinstance(page_url, str) or len(page_url) > MAX_INPUT_LENGTH:
        return None, {}
    try:
        parts = urlsplit(page_url)
    except ValueError:
        return None, {}
    if parts.scheme.lower() not in ("http", "https") or not same_origin(page_url, page_origin):
        return None, {}
    path = parts.path or "/"
    stored = page_origin.rstrip("/") + path
    keep_url = not _UNPRINTABLE.search(path) and len(stored) <= MAX_PAGE_URL_LENGTH
    try:
        query = parse_qs(parts.query, max_num_fields=100)
    except ValueError:  # more fields than any campaign link has
        query = {}
    campaign = {}
    for name in CAMPAIGN_FIELDS:
        value = _CONTROL.sub("", (query.get(name) or [""])[0]).strip()
        if value:
            campaign[name] = value[:MAX_CAMPAIGN_VALUE_LENGTH]
    return (stored if keep_url else None), campaign

