"""What the browser tests share: real servers in threads, the queue consumer, chromium.

The app runs on a real server (waitress) with the queue consumed in threads of
the test process, as `widget-server run` does; chromium is Debian's, started
with every background network feature off and no name but localhost resolving,
so that it talks to loopback only.
"""

from __future__ import annotations

import signal
import threading

import pytest
from playwright.sync_api import sync_playwright
from waitress import create_server

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync",
                 # No name but localhost resolves: a vendor's host is answered by a
                 # test's page.route or not at all, never looked up.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]


def serve(wsgi_app, host: str = "127.0.0.1", port: int = 0):
    """A waitress server on ``port`` (by default a free one), running in a daemon thread;
    ``stop`` ends it, and serving again on its port brings it back."""
    server = create_server(wsgi_app, host=host, port=port, threads=8)
    server.stopping = threading.Event()

    def run():
        try:
            server.run()
        except OSError:
            # Closing the sockets under a running select() ends the loop with EBADF:
            # expected once stop() closed them, a fault otherwise.
            if not server.stopping.is_set():
                raise

    threading.Thread(target=run, daemon=True).start()
    return server


def stop(server) -> None:
    server.stopping.set()
    server.close()


def start_consumer(app):
    """Huey's consumer in threads, as `widget-server run` starts it.

    Huey installs its own signal handlers; put pytest's back.
    """
    consumer = app.extensions["huey"].create_consumer(
        workers=2, worker_type="thread", periodic=False, max_delay=0.2)
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    handlers = {sig: signal.getsignal(sig) for sig in signals}
    consumer.start()
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    return consumer


@pytest.fixture(scope="module")
def playwright_driver():
    """Playwright itself, for its phone descriptions (``devices``)."""
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_driver):
    launched = playwright_driver.chromium.launch(executable_path="/usr/bin/chromium",
                                                 headless=True, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()
