"""Load on the scaled-out configuration: PostgreSQL, Redis, gunicorn, a separate worker.

Run: ``.venv/bin/python benchmarks/load.py [--seconds N]``. All traffic stays
on 127.0.0.1. The script creates a scratch database on the PostgreSQL server
given by ``--pg`` (dropped at the end) and starts a private ``redis-server``
on a spare port, so it leaves nothing in shared services.

Printed, each against a bare Flask endpoint (``baseline_app.py``) served by
the same gunicorn command and measured in the same run with the same wrk:
1. ``GET /embed/v1/frame/<token>``: requests/s and p50/p99 latency, against
   ``GET /healthz`` of the baseline (the frame's burst limit is counted in
   Redis on every request).
2. ``POST /embed/v1/calls``: the same, against ``POST /echo``; every POST is a
   valid call admitted with 202 (helpers from ``run.py``).
3. The calls per second one ``widget-server worker`` places against a
   c2c-php provider fake that takes 200 ms to answer each call.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from run import (
    HERE,
    ROOT,
    CallBodies,
    Server,
    bench_env,
    create_widget,
    free_port,
    gunicorn_command,
    process_cpu_seconds,
    run_python_client,
    run_wrk,
    verdict,
)

PROVIDER_LATENCY = 0.2
WORKER_TARGET = 40.0  # calls/s per worker process (issue 15)
LATENCY = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_get(port: int, path: str, seconds: float, connections: int) -> dict:
    """Requests/s and p50/p99 of plain GETs, read from wrk's --latency summary."""
    done = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s",
                           "--timeout", "10s", "--latency", f"http://127.0.0.1:{port}{path}"],
                          check=False, capture_output=True, text=True, timeout=seconds + 60)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", done.stdout, re.MULTILINE)
    quantiles = {q: float(v) * UNITS[u] for q, v, u in LATENCY.findall(done.stdout)}
    if done.returncode or not rate or set(quantiles) != {"50", "99"}:
        raise SystemExit(f"wrk failed:\n{done.stdout}\n{done.stderr}")
    if "Non-2xx or 3xx responses" in done.stdout or "Socket errors" in done.stdout:
        raise SystemExit(f"INVALID RUN: errors under load on {path}:\n{done.stdout}")
    return {"rps": float(rate.group(1)), "p50_ms": quantiles["50"], "p99_ms": quantiles["99"]}


class ScratchDatabase:
    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.name = f"ws_load_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        self.url = admin_url.rsplit("/", 1)[0] + f"/{self.name}"

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def start_redis() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--daemonize", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while subprocess.run(["redis-cli", "-p", str(port), "ping"], check=False, capture_output=True,
                         text=True).stdout.strip() != "PONG":
        if time.monotonic() > deadline:
            raise SystemExit("the private redis-server did not start")
        time.sleep(0.1)
    return process, f"redis://127.0.0.1:{port}/0"


def provider_widget_token(bodies: CallBodies, fake) -> str:
    """A widget whose calls go to the c2c-php fake; its embed token."""
    from widget_server.extensions import db
    from widget_server.models import Account, AllowedDomain, ProviderAccount, Widget
    from widget_server.security.tokens import embed_token
    from widget_server.services.provider_accounts import encrypt_credentials

    with bodies.app.app_context():
        owner = Account(name="bench-provider", kind="client")
        db.session.add(owner)
        db.session.flush()
        account = ProviderAccount(
            account_id=owner.id, name="main", kind="c2c-php", base_url=fake.url,
            options={"holdfile": "17"},
            credentials_encrypted=encrypt_credentials({"uid": fake.uid, "pin": fake.pin}))
        widget = Widget(account_id=owner.id, provider_account=account,
                        business_numbers=["+12025550100"], home_country="US",
                        domains=[AllowedDomain(pattern="shop.example")])
        db.session.add(widget)
        db.session.commit()
        token = embed_token(widget)
        db.session.remove()
        return token


def calls_stored(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        return connection.execute("SELECT count(*) FROM call_requests").fetchone()[0]


def empty_the_queue(database_url: str, redis_url: str) -> None:
    """Empty the private Redis once the app has stored the POST run's last call.

    The POST run left thousands of queued simulator calls that the worker would
    otherwise take first. wrk stops with up to a request per connection still in
    the app: flushed before those were answered, their calls were queued ahead
    of the ones timed here and held most of the worker's threads for seconds,
    each simulated call ringing with the machine idle. That, not the worker, was
    the low and swinging worker line of earlier sessions (24 to 52 calls/s).
    """
    deadline, count = time.monotonic() + 30, -1
    while (now := calls_stored(database_url)) != count and time.monotonic() < deadline:
        count = now
        time.sleep(0.5)
    subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], check=True, capture_output=True)


def worker_rate(env: dict, bodies: CallBodies, app_port: int, calls: int, threads: int,
                workdir: Path, redis_url: str) -> dict:
    """Queue ``calls`` calls with no worker running, then time one worker placing them."""
    empty_the_queue(env["WIDGET_SERVER_DATABASE_URL"], redis_url)
    sys.path.insert(0, str(ROOT))
    from tests.fakes.c2c_php import C2CPhpFake

    with C2CPhpFake() as fake:
        answer = fake.server.handle

        def slow(request):
            time.sleep(PROVIDER_LATENCY)
            return answer(request)

        fake.server.handle = slow
        bodies.token = provider_widget_token(bodies, fake)
        file = workdir / "provider-calls"
        bodies.write(file, calls)
        queued = run_python_client(app_port, "/embed/v1/calls", file, 60, 8, 8, "once")
        if queued["statuses"] != {"202": calls}:
            raise SystemExit(f"INVALID RUN: queueing calls answered {queued['statuses']}")
        worker_env = env | {"WIDGET_SERVER_QUEUE_WORKERS": str(threads)}
        with open(workdir / "worker.log", "wb") as log:
            worker = subprocess.Popen([sys.executable, "-c",
                                       "from widget_server.cli import main; main()", "worker"],
                                      env=worker_env, cwd=ROOT, stdout=log,
                                      stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            first = None
            while len(fake.dials) < calls:
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise SystemExit(f"the worker placed {len(fake.dials)} of {calls} calls:\n"
                                     f"{(workdir / 'worker.log').read_text()[-3000:]}")
                if first is None and fake.dials:
                    first, cpu_first = time.monotonic(), process_cpu_seconds(worker.pid)
                time.sleep(0.01)
            elapsed = time.monotonic() - first
            cpu = process_cpu_seconds(worker.pid) - cpu_first
        finally:
            worker.terminate()
            worker.wait(timeout=15)
        repeats = len(fake.place_requests) - calls
    return {"calls": calls, "threads": threads, "per_second": (calls - 1) / elapsed,
            "cpu_ms": cpu * 1000 / (calls - 1), "repeats": repeats}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="each measured run (default 8)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--queue-workers", type=int, default=16,
                        help="threads of the measured widget-server worker (default 16)")
    parser.add_argument("--calls", type=int, default=200,
                        help="calls the worker places against the 200 ms fake (default 200)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="a PostgreSQL database to create the scratch database from")
    options = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("redis-server"):
        raise SystemExit("needs wrk and redis-server")

    workdir = Path(tempfile.mkdtemp(prefix="widget-server-load-"))
    database = ScratchDatabase(options.pg)
    redis_process, redis_url = start_redis()
    servers: list[Server] = []
    try:
        env = bench_env(workdir / "instance", database.url, redis_url)
        env["WIDGET_SERVER_LOG_JSON"] = "false"
        env["WIDGET_SERVER_POLL_INTERVAL"] = "600"  # the worker measure counts placing only
        token = create_widget(env)
        app_port, base_port = free_port(), free_port()
        app_cmd = gunicorn_command("widget_server:create_app()", app_port, options.workers,
                                   options.threads, ROOT)
        base_cmd = gunicorn_command("baseline_app:app", base_port, options.workers,
                                    options.threads, HERE)
        servers += [Server("app", app_cmd, env, app_port, workdir),
                    Server("baseline", base_cmd, env, base_port, workdir)]
        for server in servers:
            server.wait_ready()

        frame_path = f"/embed/v1/frame/{token}?origin=http://shop.example"
        wrk_get(app_port, frame_path, 2, options.connections)
        wrk_get(base_port, "/healthz", 2, options.connections)
        frame = wrk_get(app_port, frame_path, options.seconds, options.connections)
        frame_base = wrk_get(base_port, "/healthz", options.seconds, options.connections)

        bodies = CallBodies(env, token)
        warm, base_file, main_file = (workdir / n for n in ("warm", "base", "main"))
        bodies.write(warm, 500)
        bodies.write(base_file, 200)
        warm_run = run_wrk(app_port, "/embed/v1/calls", warm, 2, options.connections, 1, "once")
        bodies.write(main_file, int(max(warm_run["rps"], 50) * options.seconds * 3) + 500)
        post_base = run_wrk(base_port, "/echo", base_file, options.seconds,
                            options.connections, 1, "cycle")
        post = run_wrk(app_port, "/embed/v1/calls", main_file, options.seconds,
                       options.connections, 1, "once")
        if post["statuses"] != {"202": post["requests"]} or post["exhausted"]:
            raise SystemExit(f"INVALID RUN: POST answered {post['statuses']}")

        worker = worker_rate(env, bodies, app_port, options.calls, options.queue_workers,
                             workdir, redis_url)
    finally:
        for server in servers:
            server.stop()
        redis_process.terminate()
        redis_process.wait(timeout=10)
        database.drop()
        shutil.rmtree(workdir, ignore_errors=True)

    print("widget-server under load, scaled out (all traffic on 127.0.0.1)")
    print(f"  app:      {' '.join(app_cmd)}")
    print(f"  baseline: {' '.join(base_cmd)}")
    print("  storage:  a scratch PostgreSQL database; limits and queue on a private Redis")
    print(f"  client:   wrk, 1 thread, {options.connections} connections, "
          f"{options.seconds} s per run after a 2 s warm-up")
    print()
    print(f"{'endpoint':<28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'rps ratio':>11}{'p50 ratio':>11}{'p99 ratio':>11}")
    for name, app, base in (("GET frame", frame, frame_base),
                            ("  baseline GET /healthz", frame_base, None),
                            ("POST /embed/v1/calls", post, post_base),
                            ("  baseline POST /echo", post_base, None)):
        ratios = ("" if base is None else
                  f"{app['rps'] / base['rps']:>11.2f}{base['p50_ms'] / app['p50_ms']:>11.2f}"
                  f"{base['p99_ms'] / app['p99_ms']:>11.2f}")
        print(f"{name:<28}{app['rps']:>9,.0f}{app['p50_ms']:>9.1f}{app['p99_ms']:>9.1f}{ratios}")
    print("(ratios: app/baseline for req/s, baseline/app for latency; 1.0 = as fast as bare "
          "Flask)")
    print()
    print(f"worker: {worker['per_second']:.1f} calls/s placed by one widget-server worker "
          f"process with {worker['threads']} threads against a provider answering in "
          f"{PROVIDER_LATENCY * 1000:.0f} ms ({worker['calls']} calls; target >= "
          f"{WORKER_TARGET:.0f}/s, {verdict(worker['per_second'] >= WORKER_TARGET)}; ideal "
          f"{worker['threads'] / PROVIDER_LATENCY:.0f}/s); {worker['cpu_ms']:.1f} ms of the "
          f"worker's CPU a call; repeated placing requests: {worker['repeats']}")
    print("  (benchmarks/worker.py adds the worker's CPU per call and click-to-dial times)")
    return 1 if worker["repeats"] else 0


if __name__ == "__main__":
    sys.exit(main())
