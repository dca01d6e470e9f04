"""The scaled-out configuration, for real: gunicorn app instances and worker processes.

``Cluster`` starts processes on one scratch PostgreSQL database (created and
dropped here, on the shared server) and one Redis (the shared one under a key
prefix of the test's own, or a private ``redis-server``), all with the same
instance folder, so the same keys. Calls go through a c2c-php provider fake
on loopback, which counts dials per call id (a repeated ``uniqueid`` is not
a second dial). Every process is stopped by its own pid.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
import requests
from flask_migrate import upgrade
from sqlalchemy import select

from tests.conftest import LOOPBACK_FAKES, base_config, free_port, scratch_postgres
from tests.factories import call_body
from tests.fakes.c2c_php import C2CPhpFake
from tests.waiting import wait_until
from widget_server import create_app
from widget_server.extensions import db
from widget_server.models import Account, AllowedDomain, CallRequest, ProviderAccount, Widget
from widget_server.services.provider_accounts import encrypt_credentials

BIN = Path(sys.executable).parent


@pytest.fixture
def scratch_database():
    """An empty PostgreSQL database on the shared server, dropped after the test."""
    with scratch_postgres("ws_scale") as url:
        yield url


class PrivateRedis:
    """A ``redis-server`` of this test's own on a spare port: stopped and restarted at will."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        wait_until(lambda: _pings(client), 10, "the private redis-server")
        client.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def provider_fake():
    with C2CPhpFake() as fake:
        fake.report_after = 1
        yield fake


def env_value(value) -> str:
    """A setting as its WIDGET_SERVER_* variable spells it (lists comma-separated)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


class Cluster:
    """App instances and workers of one installation, plus an in-process app for set-up."""

    def __init__(self, tmp_path: Path, database_url: str, redis_url: str, prefix: str,
                 settings: dict):
        self.instance = tmp_path / "instance"
        self.log_dir = tmp_path
        # What the child processes get; the in-process app gets the same, as a dict.
        config = {
            "INSTANCE_PATH": str(self.instance), "DATABASE_URL": database_url,
            "REDIS_URL": redis_url, "QUEUE_NAME": prefix, "DEVELOPMENT": True,
            "ALTCHA_MAX_NUMBER": 2000, "POLL_INTERVAL": 0.2, "PLACE_RETRY_DELAY": 0.2,
            "LOG_JSON": False,
            "LIMIT_CALL_POST": "100000/minute", "LIMIT_FRAME": "100000/minute",
            "LIMIT_CALL_STATUS": "100000/minute", "LIMIT_CHALLENGE": "100000/minute",
            "CAP_PER_IP": 100000, "CAP_PER_NUMBER": 100000, "CAP_PER_WIDGET": 100000,
            "CAP_PER_ACCOUNT": 100000, "CAP_PER_NUMBER_PER_MINUTE": 100000,
            "CEILING_PER_IP": 100000, "CEILING_PER_NUMBER": 100000,
            # The provider fake listens on loopback, which provider URLs may not reach
            # unless listed.
            "PROVIDER_PRIVATE_HOSTS": LOOPBACK_FAKES,
        } | settings
        self.prefix = prefix
        self.app = create_app(base_config(self.instance, database_url) | config
                              | {"RATELIMIT_STORAGE_OPTIONS": {"key_prefix": prefix}})
        with self.app.app_context():
            upgrade(directory=self.app.extensions["migrate"].directory)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WIDGET_SERVER_")}
        self.env.update({f"WIDGET_SERVER_{key}": env_value(value)
                         for key, value in config.items()})
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its own
            process = subprocess.Popen(command, env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT, cwd=self.log_dir)
        self.processes.append((name, process))
        return process

    def start_instance(self, workers: int = 2, threads: int = 4) -> str:
        """A gunicorn app instance on a free port; its base URL once it answers."""
        port = free_port()
        # The limiter's key prefix is no environment setting: it goes in as an argument.
        spec = ("widget_server:create_app({'RATELIMIT_STORAGE_OPTIONS': "
                f"{{'key_prefix': '{self.prefix}'}}}})")
        process = self._spawn(f"app-{port}", [
            str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--worker-class", "gthread", "--threads", str(threads), "--log-level", "warning",
            spec])
        url = f"http://127.0.0.1:{port}"

        def healthy():
            if process.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.logs()}")
            try:
                return requests.get(f"{url}/healthz", timeout=3).status_code == 200
            except requests.RequestException:
                return False

        wait_until(healthy, 120, f"gunicorn at {url}", 0.1)
        return url

    def start_worker(self, threads: int = 2) -> subprocess.Popen:
        env_threads = self.env.get("WIDGET_SERVER_QUEUE_WORKERS")
        self.env["WIDGET_SERVER_QUEUE_WORKERS"] = str(threads)
        process = self._spawn(f"worker-{len(self.processes)}", [str(BIN / "widget-server"),
                                                                  "worker"])
        if env_threads is None:
            del self.env["WIDGET_SERVER_QUEUE_WORKERS"]
        else:
            self.env["WIDGET_SERVER_QUEUE_WORKERS"] = env_threads
        return process

    def kill(self, process: subprocess.Popen) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for _, process in self.processes:
            if process.poll() is None:
                process.terminate()
        for _, process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                         for path in sorted(self.log_dir.glob("*.log")))

    # -- data ---------------------------------------------------------------------------

    def widget_calling(self, fake: C2CPhpFake) -> Widget:
        """A widget on shop.example placing its calls through the c2c-php fake."""
        with self.app.app_context():
            owner = Account(name=f"acct-{uuid.uuid4().hex[:8]}", kind="client")
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
            db.session.refresh(widget)
            db.session.expunge(widget)
            return widget

    def call_bodies(self, widget: Widget, count: int) -> list[dict]:
        """Valid call requests, each with its own nonce, solved captcha and number."""
        client = self.app.test_client()
        return [call_body(self.app, client, widget, phone=f"+1202555{1000 + n:04d}")
                for n in range(count)]

    def calls(self) -> dict[str, tuple[str, str | None]]:
        """Every stored call: public id -> (state, reason)."""
        with self.app.app_context():
            rows = db.session.execute(select(CallRequest.public_id, CallRequest.status,
                                             CallRequest.reason)).all()
            db.session.remove()
        return {public_id: (status, reason) for public_id, status, reason in rows}


@contextmanager
def cluster(tmp_path, database_url, redis_url, prefix, **settings):
    made = Cluster(tmp_path, database_url, redis_url, prefix, settings)
    try:
        yield made
    finally:
        made.stop()


def dials_per_call(fake: C2CPhpFake) -> dict[str, int]:
    """How many phones the fake rang for each of our call ids (uniqueid)."""
    counts: dict[str, int] = {}
    for dial in list(fake.dials):
        counts[dial.uniqueid] = counts.get(dial.uniqueid, 0) + 1
    return counts


def place_requests_per_call(fake: C2CPhpFake) -> dict[str, int]:
    """How many placing requests reached the fake for each of our call ids."""
    counts: dict[str, int] = {}
    for request in list(fake.place_requests):
        key = request.params.get("uniqueid", "")
        counts[key] = counts.get(key, 0) + 1
    return counts


def pytest_configure(config):
    config.addinivalue_line("markers", "scale: app instances, workers and Redis as separate "
                                       "processes (each test bounded, well under a minute)")
