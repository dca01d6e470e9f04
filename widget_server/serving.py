"""The web server of `widget-server run`: waitress, with limits that hold against slow clients.

Waitress reads requests asynchronously, so a slow client holds a connection,
not a thread; but it accepts only ``connection_limit`` connections, and its
inactivity timeout restarts with every byte, so a client trickling headers
keeps a connection for ever and about a hundred of them shut everyone out.
Three limits close that:

- a read deadline (``RUN_READ_TIMEOUT``): a connection that is not being
  answered has that long, from its opening or from its last answer, to send
  a whole request, headers and body; then it is closed, however it trickles;
- a cap on connections from one client address (``RUN_CONNECTIONS_PER_ADDRESS``;
  IPv6 per /64), so one address cannot take every slot; it does not apply
  behind a trusted proxy, where every connection comes from the proxy;
- a higher connection limit (``RUN_CONNECTION_LIMIT``) on poll(), which,
  unlike select(), is not bound to 1024 descriptors.

Waitress has no header deadline of its own; the channel checks its deadline
each time the event loop asks whether it has something to write (at least
once a second). A public installation still belongs behind a buffering proxy.
"""

from __future__ import annotations

import math
import time

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server

from widget_server.abuse.client_ip import normalise_client_address

# Headers beyond this are refused (431) before the app sees them; waitress allows 256 KiB.
MAX_HEADER_BYTES = 32 * 1024


class GuardedChannel(HTTPChannel):
    """A connection that must send each request within ``read_timeout`` seconds."""

    read_timeout: float = 10.0
    # Connections one client address may hold at once; 0: no cap.
    per_address: int = 0

    def __init__(self, server, sock, addr, adj, map=None):
        # Until the first request, the deadline counts from the connection's opening.
        self.waiting_since = time.time()
        self.address_key = normalise_client_address(addr[0] if addr else None)
        super().__init__(server, sock, addr, adj, map=map)
        if self.per_address and self._connections_from_my_address() > self.per_address:
            self.will_close = True

    def _connections_from_my_address(self) -> int:
        # types-waitress declares active_channels as one channel; it maps fds to channels.
        channels = self.server.active_channels.values()  # type: ignore[attr-defined]
        return sum(1 for channel in channels
                   if getattr(channel, "address_key", None) == self.address_key)

    def service(self):
        # While a request is answered, the read deadline does not run.
        self.waiting_since = math.inf
        try:
            super().service()
        finally:
            self.waiting_since = time.time()

    def writable(self):
        """Also the deadline check: the event loop asks this of every connection each turn."""
        if (not self.will_close and not self.requests
                and time.time() - self.waiting_since > self.read_timeout):
            self.will_close = True
        return super().writable()


def make_server(app: Flask, host: str, port: int, threads: int = 8):
    """A waitress server for ``app`` on ``host``:``port`` with the limits of its settings."""
    config = app.config
    read_timeout = float(config["RUN_READ_TIMEOUT"])
    # Behind a trusted proxy every connection has the proxy's address: its limit_conn counts.
    per_address = 0 if config["TRUSTED_PROXY_COUNT"] else int(config["RUN_CONNECTIONS_PER_ADDRESS"])
    channel_class = type("Channel", (GuardedChannel,), {"read_timeout": read_timeout,
                                                          "per_address": per_address})
    sockets: dict = {}
    server = create_server(
        app, map=sockets, host=host, port=port, threads=threads, ident="widget-server",
        connection_limit=int(config["RUN_CONNECTION_LIMIT"]), asyncore_use_poll=True,
        # Waitress's own inactivity timeout, at the same value (the deadline above is stricter).
        channel_timeout=read_timeout, cleanup_interval=max(1, int(read_timeout)),
        max_request_header_size=MAX_HEADER_BYTES,
        # Flask refuses more anyway; waitress would first buffer it to disk.
        max_request_body_size=int(config["MAX_CONTENT_LENGTH"]))
    for listener in sockets.values():
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = channel_class
    return server
