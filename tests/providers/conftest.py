"""Adapters against their provider fakes: directly, or through the whole widget flow.

Most provider tests are about an adapter's HTTP protocol and need no app:
``adapter()`` builds one as ``adapter_for`` does (options parsed, the
loopback fakes allowed by the session), ``order()`` is the call the worker
would hand it, and a ``RecordingReport`` keeps what the adapter reports.

``live`` serves the app on a real loopback port (providers call back to it)
with the queue consumed in threads of the test process, as ``widget-server
run`` does. ``LiveApp.place_call`` goes the visitor's way: frame nonce,
ALTCHA solution, POST, then the status the frame polls. Each provider keeps
a few such tests: callbacks, retries, and what the visitor reads.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import select, text
from werkzeug.serving import make_server

from tests.conftest import LOOPBACK_FAKES, base_config, migrated_app
from tests.factories import solve_altcha
from widget_server.calls.queue import start_in_process_consumer
from widget_server.calls.service import widget_for_token
from widget_server.extensions import db
from widget_server.models import (
    Account,
    AllowedDomain,
    CallEvent,
    CallRequest,
    ProviderAccount,
    Widget,
)
from widget_server.providers import PROVIDERS
from widget_server.providers.base import CallOrder, Provider
from widget_server.security import tokens
from widget_server.services.provider_accounts import encrypt_credentials, provider_session

PAGE_ORIGIN = "https://shop.example"
# The session of an adapter built by hand: base_config's rule, which allows the loopback
# fakes (and plain http).
FAKE_SESSION = provider_session({"DEVELOPMENT": True, "PROVIDER_PRIVATE_HOSTS": LOOPBACK_FAKES})


def adapter(kind: str, base_url: str | None, credentials: dict, options: dict | None = None,
            *, shows_answers: bool = True, session: requests.Session = FAKE_SESSION
            ) -> Provider:
    """The adapter ``adapter_for`` would build: options parsed (or ``OptionsInvalid``)."""
    cls = PROVIDERS[kind]
    return cls(base_url=base_url, credentials=dict(credentials),
               options=cls.options_or_refusal(dict(options or {})), session=session,
               shows_answers=shows_answers)


def order(provider: Provider | None = None, **fields) -> CallOrder:
    """A call as the worker hands it over: the business first, the adapter's options."""
    values = {"call_id": "c0ntract1d", "business_number": "+12025550100",
              "visitor_number": "+12025550123", "page": PAGE_ORIGIN,
              "options": provider.options if provider else {}}
    return CallOrder(**(values | fields))


class RecordingReport:
    """A ``CallReport`` that keeps what the adapter tells, for the test to read."""

    def __init__(self):
        self.steps: list[tuple] = []
        self.exchanges: list[dict] = []
        self.call_ids: list[str] = []
        self.reports: list[dict] = []

    def progress(self, status, reason=None, **detail):
        self.steps.append((status, reason, detail))

    def exchange(self, **evidence):
        self.exchanges.append(evidence)

    def provider_call_id(self, value):
        self.call_ids.append(value)

    def provider_report(self, **figures):
        self.reports.append(figures)

    @property
    def states(self) -> list[tuple[str, str | None]]:
        """(state, reason) of each step, in order."""
        return [(status, reason) for status, reason, _ in self.steps]


@dataclass
class LiveApp:
    app: object
    url: str

    def provider_widget(self, *, kind: str, base_url: str, credentials: dict,
                        options: dict | None = None, widget_options: dict | None = None,
                        numbers=("+12025550100",), home_country: str = "US",
                        countries: list[str] | None = None, owner_kind: str = "client") -> str:
        """A widget calling through a new provider account; its embed token.

        ``owner_kind="operator"``: an account only the operator edits, whose
        exchanges keep the provider's words (a tenant's keep status and size).
        """
        with self.app.app_context():
            owner = Account(name=f"acct-{time.monotonic_ns()}", kind=owner_kind)
            db.session.add(owner)
            db.session.flush()
            account = ProviderAccount(account_id=owner.id, name="main", kind=kind,
                                      base_url=base_url, options=options or {},
                                      credentials_encrypted=encrypt_credentials(credentials))
            widget = Widget(account_id=owner.id, provider_account=account,
                            provider_options=widget_options or {},
                            business_numbers=list(numbers), home_country=home_country,
                            allowed_countries=countries or [],
                            domains=[AllowedDomain(pattern="shop.example")])
            db.session.add(widget)
            db.session.commit()
            return tokens.embed_token(widget)

    def solve_captcha(self) -> str:
        class Client:
            def get(_, path):
                response = requests.get(self.url + path, timeout=5)
                response.get_json = response.json
                return response

        return solve_altcha(Client())

    def request_call(self, token: str, phone: str = "+12025550123") -> requests.Response:
        with self.app.app_context():
            nonce = tokens.form_nonce(widget_for_token(token))
            db.session.remove()
        return requests.post(f"{self.url}/embed/v1/calls", timeout=10,
                             headers={"Origin": self.url},
                             json={"token": token, "nonce": nonce, "phone": phone,
                                   "captcha": self.solve_captcha(), "consent": True,
                                   "page_origin": PAGE_ORIGIN})

    def follow(self, accepted: dict, *, until=("completed", "failed", "rejected"),
               timeout: float = 20) -> dict:
        """Poll the status as the frame does until it reaches one of ``until``."""
        deadline = time.monotonic() + timeout
        while True:
            status = requests.get(self.url + accepted["status_url"], timeout=30,
                                  headers={"X-Call-Token": accepted["call_token"]}).json()
            if status["status"] in until or time.monotonic() > deadline:
                return status
            time.sleep(0.1)

    def place_call(self, token: str, phone: str = "+12025550123", **follow) -> dict:
        response = self.request_call(token, phone)
        assert response.status_code == 202, response.text
        return self.follow(response.json(), **follow)

    def call(self, public_id: str) -> CallRequest:
        with self.app.app_context():
            call = db.session.scalar(select(CallRequest).where(
                CallRequest.public_id == public_id))
            db.session.expunge(call)
            return call

    def events(self, public_id: str) -> list[CallEvent]:
        with self.app.app_context():
            found = list(db.session.scalars(select(CallEvent).join(CallRequest).where(
                CallRequest.public_id == public_id).order_by(CallEvent.id)))
            db.session.expunge_all()
            return found

    def exchanges(self, public_id: str) -> list[dict]:
        return [e.detail["exchange"] for e in self.events(public_id)
                if e.detail and "exchange" in e.detail]


@pytest.fixture
def live(tmp_path, database_url, sqlite_template):
    config = base_config(tmp_path / "instance", database_url) | {
        "QUEUE_IMMEDIATE": False, "QUEUE_WORKERS": 2, "POLL_INTERVAL": 0.1,
        "PLACE_RETRY_DELAY": 0.1, "CIRCUIT_OPEN_SECONDS": 60,
        # Provider tests place several calls to one number from one address.
        "CAP_PER_NUMBER_PER_MINUTE": 100, "CAP_PER_NUMBER": 100, "CAP_PER_IP": 100,
    }
    app = migrated_app(config, sqlite_template)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    consumer = start_in_process_consumer(app)
    yield LiveApp(app=app, url=url)
    consumer.stop(graceful=False)
    server.shutdown()
    with app.app_context():
        db.session.remove()
        if database_url:
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
        db.engine.dispose()
