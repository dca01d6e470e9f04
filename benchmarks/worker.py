"""The queue worker: calls placed per second per process, and click-to-dial latency.

Run: ``.venv/bin/python benchmarks/worker.py [--calls N] [--queue-workers N]
[--samples N] [--pg URL]``. All traffic stays on 127.0.0.1: a c2c-php provider
fake (tests/fakes/c2c_php.py) that answers each request 200 ms late, a scratch
PostgreSQL database (dropped at the end) and a private ``redis-server``.

Printed:
1. Throughput: ``--calls`` calls queued with no worker running, then one
   ``widget-server worker`` process places them; calls/s from its first dial to
   its last beside the ideal (threads / 0.2 s) and the target (40/s), and the
   worker's CPU milliseconds per call (user + system, from /proc), which a
   loaded machine moves much less than the rate. Exits 1 on a repeated dial.
2. Click to dial: ``--samples`` calls sent one at a time (random gaps up to
   ``--gap`` s, so a polling consumer is caught in every phase), from the
   moment ``POST /embed/v1/calls`` is sent to the fake's receipt of the
   placing request; median and p99 against 100 ms and 500 ms, for the
   scaled-out set-up (gunicorn, PostgreSQL, Redis, a separate worker) and the
   embedded default (``widget-server run``: SQLite, in-process consumer).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from load import (
    PROVIDER_LATENCY,
    WORKER_TARGET,
    ScratchDatabase,
    provider_widget_token,
    start_redis,
)
from run import (
    ROOT,
    CallBodies,
    Server,
    bench_env,
    create_widget,
    free_port,
    gunicorn_command,
    process_cpu_seconds,
    verdict,
)

from tests.fakes.c2c_php import C2CPhpFake

RATE_TARGET = WORKER_TARGET
MEDIAN_TARGET_MS = 100.0
P99_TARGET_MS = 500.0
CLI = [sys.executable, "-c", "from widget_server.cli import main; main()"]


class SlowProvider:
    """The c2c-php fake answering 200 ms late; notes when each visitor's first request came."""

    def __init__(self):
        self.fake = C2CPhpFake()
        self.first_seen: dict[str, float] = {}
        answer = self.fake.server.handle

        def slow(request):
            number = request.params.get("number2", "")
            self.first_seen.setdefault(number, time.time())
            time.sleep(PROVIDER_LATENCY)
            return answer(request)

        self.fake.server.handle = slow

    def __enter__(self) -> SlowProvider:
        self.fake.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.fake.__exit__(*exc)


def queue_calls(bodies: CallBodies, file: Path, count: int) -> list[str]:
    """Admit ``count`` calls through the app's own request path (a test client, no server)."""
    bodies.write(file, count)
    client = bodies.app.test_client()
    numbers = []
    for line in file.read_text().splitlines():
        reply = client.post("/embed/v1/calls", data=line, content_type="application/json",
                            headers={"Origin": "http://shop.example"})
        if reply.status_code != 202:
            raise SystemExit(f"INVALID RUN: queueing a call answered {reply.status_code}")
        numbers.append(json.loads(line)["phone"])
    return numbers


def start_worker(env: dict, threads: int, log: Path, profile: Path | None) -> subprocess.Popen:
    command = [*CLI, "worker"]
    if profile:
        spy = Path(sys.executable).with_name("py-spy")
        command = [str(spy), "record", "--nonblocking", "--gil", "-f", "raw",
                   "-o", str(profile), "--", *command]
    with open(log, "wb") as out:
        return subprocess.Popen(command, env=env | {"WIDGET_SERVER_QUEUE_WORKERS": str(threads)},
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def wait_for_consumer(process: subprocess.Popen, threads: int) -> None:
    """Until the consumer's threads run: a call queued before would time the start-up."""
    deadline = time.monotonic() + 120
    status = Path(f"/proc/{process.pid}/status")
    while int(re.search(r"^Threads:\s+(\d+)", status.read_text(), re.M).group(1)) <= threads:
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit("the worker did not start")
        time.sleep(0.05)
    time.sleep(0.5)


def worker_pid(process: subprocess.Popen, profiled: bool) -> int:
    if not profiled:
        return process.pid
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    deadline = time.monotonic() + 10
    while not children.read_text().split():
        if time.monotonic() > deadline:
            raise SystemExit("py-spy started no worker")
        time.sleep(0.05)
    return int(children.read_text().split()[0])


def throughput(env: dict, provider: SlowProvider, bodies: CallBodies, calls: int, threads: int,
               workdir: Path, profile: Path | None) -> dict:
    """Queue ``calls`` with no worker running, then time one worker process placing them."""
    queue_calls(bodies, workdir / "throughput-calls", calls)
    fake = provider.fake
    before = len(fake.dials)
    worker = start_worker(env, threads, workdir / "worker.log", profile)
    pid = worker_pid(worker, profile is not None)
    try:
        deadline = time.monotonic() + 300
        first = cpu_first = None
        while len(fake.dials) - before < calls:
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit(f"the worker placed {len(fake.dials) - before} of {calls} "
                                 f"calls:\n{(workdir / 'worker.log').read_text()[-3000:]}")
            if first is None and len(fake.dials) > before:
                first, cpu_first = time.monotonic(), process_cpu_seconds(pid)
            time.sleep(0.005)
        elapsed = time.monotonic() - first
        cpu = process_cpu_seconds(pid) - cpu_first
    finally:
        # py-spy writes its profile on SIGINT; the worker stops on either.
        worker.send_signal(signal.SIGINT if profile else signal.SIGTERM)
        worker.wait(timeout=30)
    return {"calls": calls, "threads": threads, "per_second": (calls - 1) / elapsed,
            "cpu_ms": cpu * 1000 / (calls - 1),
            "repeats": len(fake.place_requests) - len(fake.dials)}


def click_to_dial(port: int, bodies: CallBodies, provider: SlowProvider, samples: int,
                  gap: float, workdir: Path, name: str) -> dict:
    """Send calls one at a time; seconds from each POST's send to the provider's receipt."""
    file = workdir / f"latency-{name}"
    bodies.write(file, samples)
    session = requests.Session()
    url = f"http://127.0.0.1:{port}/embed/v1/calls"
    headers = {"Content-Type": "application/json", "Origin": "http://shop.example"}
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}
    provider.first_seen.clear()  # each set-up's bodies count visitor numbers from the start
    for line in file.read_text().splitlines():
        time.sleep(random.uniform(0, gap))
        number = json.loads(line)["phone"].lstrip("+")
        sent[number] = time.time()
        reply = session.post(url, data=line, headers=headers, timeout=30)
        answered[number] = time.time()
        if reply.status_code != 202:
            raise SystemExit(f"INVALID RUN: a call answered {reply.status_code}: {reply.text}")
    deadline = time.monotonic() + 30
    while not set(sent) <= set(provider.first_seen) and time.monotonic() < deadline:
        time.sleep(0.01)
    missing = set(sent) - set(provider.first_seen)
    if missing:
        raise SystemExit(f"INVALID RUN: {len(missing)} calls never reached the provider")
    def quantiles(start: dict, end: dict) -> tuple[float, float, float]:
        spans = sorted((end[n] - start[n]) * 1000 for n in sent)
        return (statistics.median(spans),
                statistics.quantiles(spans, n=100, method="inclusive")[98], spans[-1])

    return {"click": quantiles(sent, provider.first_seen), "post": quantiles(sent, answered),
            "queue": quantiles(answered, provider.first_seen), "samples": samples}


def scaled_out(options, workdir: Path, provider: SlowProvider) -> tuple[dict, dict]:
    database = ScratchDatabase(options.pg)
    redis_process, redis_url = start_redis()
    servers: list[Server] = []
    try:
        env = bench_env(workdir / "scaled", database.url, redis_url)
        env["WIDGET_SERVER_LOG_JSON"] = "false"
        env["WIDGET_SERVER_POLL_INTERVAL"] = "600"  # the measures count placing only
        bodies = CallBodies(env, create_widget(env))
        bodies.token = provider_widget_token(bodies, provider.fake)
        rate = throughput(env, provider, bodies, options.calls, options.queue_workers,
                          workdir, options.profile)
        if not options.samples:
            return rate, {}
        port = free_port()
        servers.append(Server("app", gunicorn_command("widget_server:create_app()", port, 2, 4,
                                                      ROOT), env, port, workdir))
        servers[0].wait_ready(timeout=120)
        worker = start_worker(env, options.queue_workers, workdir / "worker-latency.log", None)
        try:
            wait_for_consumer(worker, options.queue_workers)
            latency = click_to_dial(port, bodies, provider, options.samples, options.gap,
                                    workdir, "scaled")
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    finally:
        for server in servers:
            server.stop()
        redis_process.terminate()
        redis_process.wait(timeout=10)
        database.drop()
    return rate, latency


def embedded(options, workdir: Path, provider: SlowProvider) -> dict:
    env = bench_env(workdir / "embedded")
    env["WIDGET_SERVER_LOG_JSON"] = "false"
    env["WIDGET_SERVER_POLL_INTERVAL"] = "600"
    bodies = CallBodies(env, create_widget(env))
    bodies.token = provider_widget_token(bodies, provider.fake)
    port = free_port()
    with open(workdir / "run.log", "wb") as log:
        run = subprocess.Popen([*CLI, "run", "--port", str(port)], env=env, cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    server = Server.__new__(Server)
    server.name, server.port, server.process = "run", port, run
    server.log_path = workdir / "run.log"
    try:
        server.wait_ready(timeout=120)
        time.sleep(1)
        return click_to_dial(port, bodies, provider, options.samples, options.gap, workdir,
                             "embedded")
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="calls placed (default 200)")
    parser.add_argument("--queue-workers", type=int, default=16,
                        help="threads of the measured worker (default 16)")
    parser.add_argument("--samples", type=int, default=100,
                        help="calls timed click to dial, per set-up; 0: none (default 100)")
    parser.add_argument("--gap", type=float, default=0.6,
                        help="longest random pause between timed calls, s (default 0.6)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--profile", type=Path, default=None,
                        help="record the throughput run's worker with py-spy (raw) to FILE")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    options = parser.parse_args()
    if not shutil.which("redis-server"):
        raise SystemExit("needs redis-server")

    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="widget-server-worker-"))
    try:
        with SlowProvider() as provider:
            rate, scaled = scaled_out(options, workdir, provider)
            local = embedded(options, workdir, provider) if options.samples else {}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print("widget-server queue worker (all traffic on 127.0.0.1; provider answers "
          f"{PROVIDER_LATENCY * 1000:.0f} ms late)")
    print(f"  machine: {os.cpu_count()} cores, 1-minute load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after (a busy machine lowers the rates, not the CPU)")
    ideal = rate["threads"] / PROVIDER_LATENCY
    rows = [("metric", "value", "target", "result"),
            (f"calls/s, 1 worker process, {rate['threads']} threads",
             f"{rate['per_second']:.1f}", f">= {RATE_TARGET:.0f} (ideal {ideal:.0f})",
             verdict(rate["per_second"] >= RATE_TARGET)),
            ("  worker CPU ms per call", f"{rate['cpu_ms']:.1f}",
             f"<= {1000 / RATE_TARGET:.0f} (one core)", verdict(rate["cpu_ms"] * RATE_TARGET
                                                             <= 1000)),
            ("  repeated placing requests", str(rate["repeats"]), "0",
             verdict(not rate["repeats"]))]
    for name, result in (("scaled out", scaled), ("embedded", local)) if scaled else ():
        median, p99, longest = result["click"]
        rows += [(f"click to dial, {name} ({result['samples']} calls): median ms",
                  f"{median:.0f}", f"<= {MEDIAN_TARGET_MS:.0f}",
                  verdict(median <= MEDIAN_TARGET_MS)),
                 (f"click to dial, {name}: p99 ms (max {longest:.0f})", f"{p99:.0f}",
                  f"<= {P99_TARGET_MS:.0f}", verdict(p99 <= P99_TARGET_MS))]
        rows += [(f"  {part}: median / p99 ms", f"{result[key][0]:.0f} / {result[key][1]:.0f}",
                  "", "") for part, key in (("POST sent to 202 read", "post"),
                                            ("202 read to provider's receipt", "queue"))]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    missed = any(row[3] == "FAIL" for row in rows)
    return 1 if rate["repeats"] or (options.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
