"""Chromium and a fresh page for this directory's browser tests (tests/browser_support.py);
a loopback SMTP server and an app mailing through it (tests/mail/conftest.py)."""

from tests.browser_support import browser, page, playwright_driver  # noqa: F401  (fixtures)
from tests.mail.conftest import mail_app, smtp  # noqa: F401  (fixtures)
