"""Prometheus metrics: what the app and its workers count, and their exposition.

The metric objects are module-level so every part of the app records into
the same ones. Under gunicorn each worker process counts alone; with
``PROMETHEUS_MULTIPROC_DIR`` set (before start, to an empty directory shared
by the web and worker processes of a host) prometheus_client writes the
counts to files there and ``/metrics`` adds them up across processes.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

REQUESTS = Counter("widget_server_http_requests", "HTTP requests answered, by endpoint.",
                   ["endpoint", "method", "status"])
REFUSALS = Counter("widget_server_refusals", "JSON refusals answered, by their error code.",
                   ["reason"])
CALLS = Counter("widget_server_calls", "Calls that reached a final state.",
                ["provider", "outcome", "reason"])
PROVIDER_LATENCY = Histogram(
    "widget_server_provider_latency_seconds", "Time of one HTTP exchange with a provider.",
    ["provider"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30))


class QueueDepth:
    """Tasks waiting in the queue, read from the queue itself at scrape time."""

    def __init__(self, huey):
        self.huey = huey

    def collect(self):
        try:
            depth = self.huey.pending_count()
        except Exception:  # an unreachable queue shows in /readyz
            return
        yield GaugeMetricFamily("widget_server_queue_depth", "Tasks waiting in the queue.",
                                value=depth)


def exposition(huey) -> bytes:
    """The text exposition: this process's (or every process's) counts and the queue depth."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    scraped = CollectorRegistry()
    scraped.register(QueueDepth(huey))
    return generate_latest(counted) + generate_latest(scraped)
