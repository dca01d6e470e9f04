"""Chromium and a fresh page for this directory's browser tests (tests/browser_support.py)."""

from tests.browser_support import browser, page, playwright_driver  # noqa: F401  (fixtures)
