"""`widget-server run` holds against slow and idle connections, with real sockets on loopback.

The server is the real command in its own process. Attackers connect from
127.0.0.2 and 127.0.0.3 (Linux answers all of 127/8 on loopback), the honest
client from 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time

import pytest
import requests

from tests.conftest import free_port
from tests.test_cli import BIN

READ_TIMEOUT = 2.0
PER_ADDRESS = 5
# The deadline is checked once per turn of the event loop (at most a second), plus load.
CLOSED_WITHIN = READ_TIMEOUT + 2.5


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = dict(os.environ,
               WIDGET_SERVER_INSTANCE_PATH=str(tmp_path_factory.mktemp("serving") / "instance"),
               WIDGET_SERVER_DATABASE_URL="", WIDGET_SERVER_DEVELOPMENT="true",
               WIDGET_SERVER_RUN_READ_TIMEOUT=str(READ_TIMEOUT),
               WIDGET_SERVER_RUN_CONNECTIONS_PER_ADDRESS=str(PER_ADDRESS))
    port = free_port()
    process = subprocess.Popen([str(BIN), "run", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("widget-server run did not come up")
    yield port
    process.terminate()
    process.wait(timeout=10)


def connect(port: int, source: str) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))


def honest_request_works(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=3).ok
    except requests.RequestException:
        return False


def seconds_until_closed(sock: socket.socket, trickle: bytes = b"", give_up: float = 10.0):
    """Send ``trickle`` a byte every 0.3 s until the server closes: the seconds that took."""
    started = time.monotonic()
    sock.settimeout(0.3)
    while time.monotonic() - started < give_up:
        try:
            if sock.recv(1024) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass
        except ConnectionError:
            return time.monotonic() - started
        if trickle:
            try:
                sock.send(trickle[:1])
            except OSError:
                return time.monotonic() - started
            trickle = trickle[1:]
    return None


TRICKLED_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200


def test_trickled_headers_and_idle_connections_are_dropped_at_the_read_deadline(server):
    trickler = connect(server, "127.0.0.2")
    trickler.send(TRICKLED_HEADERS[:10])
    idle = connect(server, "127.0.0.2")
    slow_body = connect(server, "127.0.0.2")
    slow_body.send(b"POST /embed/v1/calls HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                   b"\r\nContent-Length: 1000\r\n\r\n{")
    try:
        took = seconds_until_closed(trickler, TRICKLED_HEADERS[10:])
        assert took is not None and took <= CLOSED_WITHIN, took
        # The other two were opened at the same time, so their deadline has passed as well.
        for sock in (idle, slow_body):
            assert seconds_until_closed(sock, give_up=CLOSED_WITHIN - took + 1) is not None
        assert honest_request_works(server)
    finally:
        for sock in (trickler, idle, slow_body):
            sock.close()


def test_one_address_cannot_take_every_connection(server):
    """Waitress alone accepts 100 connections, then none: 150 idle ones shut everyone out."""
    hogs = []
    try:
        for _ in range(150):
            hogs.append(connect(server, "127.0.0.3"))
        assert honest_request_works(server)
        # Only the first few of the address's connections were kept open.
        time.sleep(0.5)
        still_open = 0
        for sock in hogs:
            sock.settimeout(0.01)
            try:
                still_open += sock.recv(1) != b""
            except TimeoutError:
                still_open += 1
            except ConnectionError:
                pass
        assert still_open <= PER_ADDRESS
    finally:
        for sock in hogs:
            sock.close()

