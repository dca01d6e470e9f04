"""Settings: defaults here, overridden by ``WIDGET_SERVER_*`` environment variables.

Every setting key is named once, in ``Defaults``. An environment variable
``WIDGET_SERVER_<KEY>`` overrides it; values are parsed as JSON when they look
like JSON (numbers, booleans, lists), else kept as strings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

ENV_PREFIX = "WIDGET_SERVER"


class Defaults:
    # Where the SQLite database, the generated keys and the queue live.
    INSTANCE_PATH: str | None = None
    # Empty: SQLite in the instance folder.
    DATABASE_URL: str = ""
    # One Redis URL switches both the limiter storage and the task queue.
    REDIS_URL: str = ""
    RATELIMIT_STORAGE_URI: str = ""
    QUEUE_URL: str = ""
    # Names this installation's queue in Redis, so installations can share one server.
    QUEUE_NAME: str = "widget-server"
    # Bearer token /metrics requires; empty: /metrics is open (keep it off the internet).
    METRICS_TOKEN: str = ""
    # JSON log lines on stderr with a request id; false leaves logging to the host.
    LOG_JSON: bool = True
    # Oldest first: itsdangerous signs with the last key. Empty: generated once.
    SECRET_KEYS: list[str] = []
    # Newest first: MultiFernet encrypts with the first key. Empty: generated once.
    ENCRYPTION_KEYS: list[str] = []
    # Reverse proxies in front of the app whose X-Forwarded-For we trust.
    TRUSTED_PROXY_COUNT: int = 0
    # Development accepts http:// embedding origins (the demo runs on http).
    DEVELOPMENT: bool = False
    # Public base URL of this server, for snippets; empty: taken from the request.
    PUBLIC_URL: str = ""
    # The product's name in the admin and the mails wherever no brand is set (a reseller's
    # brand, services/brands.py, replaces it for its clients).
    PRODUCT_NAME: str = "widget-server"
    # `widget-server run`: seconds a connection has to send a whole request (from its
    # opening or its last answer), connections at once, and per client address (IPv6
    # per /64; not applied behind a trusted proxy, whose own limit_conn counts).
    RUN_READ_TIMEOUT: float = 10.0
    RUN_CONNECTION_LIMIT: int = 500
    RUN_CONNECTIONS_PER_ADDRESS: int = 20
    # Provider base URLs reach public addresses only; these may be private anyway:
    # host names, host:port or CIDR networks (an on-premises PBX), comma-separated.
    PROVIDER_PRIVATE_HOSTS: list[str] = []

    # Seconds a process answers a widget's config from its snapshot (embed/snapshots.py):
    # an edit reaches visitors that much later; 0 reads the database on every request.
    CONFIG_CACHE_SECONDS: float = 10.0
    # Seconds a process adds refused embed requests up in memory before writing the
    # figures (abuse/refusals.py): reports lag that much; 0 writes each refusal at once.
    REFUSAL_FLUSH_SECONDS: float = 1.0

    # Burst limits (Flask-Limiter syntax) on the public endpoints; empty for none. A
    # value that does not parse stops the start (abuse/burst_limit.py).
    LIMIT_FRAME: str = "60/minute"
    LIMIT_CALL_POST: str = "10/minute;30/hour"
    LIMIT_CALL_STATUS: str = "120/minute"
    LIMIT_CHALLENGE: str = "30/minute"
    LIMIT_HOOKS: str = "600/minute"
    LIMIT_API: str = "300/minute"
    # Failed admin sign-ins: per email from one client address (locks out that
    # address only), and per email from every address together (slower).
    LIMIT_SIGN_IN_FAILURES_PER_ADDRESS: str = "5 per 15 minutes"
    LIMIT_SIGN_IN_FAILURES_PER_EMAIL: str = "50 per hour"
    # Wrong second-factor codes of one user: from one address, and from all together.
    LIMIT_TWO_FACTOR_FAILURES_PER_ADDRESS: str = "5 per 15 minutes"
    LIMIT_TWO_FACTOR_FAILURES_PER_USER: str = "20 per hour"
    # "Forgot password?" mails asked for one email (known or not alike).
    LIMIT_PASSWORD_RESETS_PER_EMAIL: str = "5 per hour"

    # Installation-wide daily ceilings, counted across every widget of every tenant:
    # calls to one number (they protect the people who are called) and calls from
    # one client address. No widget may set its own per-number or per-visitor
    # cap above them.
    CEILING_PER_NUMBER: int = 5
    CEILING_PER_IP: int = 20
    # Daily caps used when a widget or account does not set its own; a widget's
    # per-visitor and per-number caps count on that widget alone.
    CAP_PER_IP: int = 5
    CAP_PER_NUMBER: int = 3
    CAP_PER_WIDGET: int = 200
    CAP_PER_ACCOUNT: int = 1000
    # Calls to one destination number per minute (flood guard).
    CAP_PER_NUMBER_PER_MINUTE: int = 1
    # Harassment guard: a number whose call-backs went unanswered (busy, no answer,
    # not reached) this many times within a day, across the installation, is not
    # called for a day. 0 turns the guard off.
    UNANSWERED_BEFORE_COOLDOWN: int = 3

    FORM_NONCE_MAX_AGE: int = 15 * 60
    MAX_CONTENT_LENGTH: int = 16 * 1024

    # Captcha: altcha (self-hosted, default), hcaptcha or turnstile.
    CAPTCHA: str = "altcha"
    CAPTCHA_SITE_KEY: str = ""
    CAPTCHA_SECRET: str = ""
    CAPTCHA_VERIFY_URL: str = ""
    # Hostname the captcha vendor must report (this server's); empty: request host.
    CAPTCHA_HOSTNAME: str = ""
    # Seconds to wait for the vendor's siteverify before answering 503.
    CAPTCHA_TIMEOUT: float = 5.0
    ALTCHA_MAX_NUMBER: int = 50_000
    ALTCHA_MAX_AGE: int = 10 * 60

    # Task queue consumer threads for `widget-server run` and `worker`. A call waits
    # on its provider, so threads, not cores, set the rate: a separate worker with 16
    # places 40+ calls/s against a 200 ms provider (benchmarks/worker.py).
    QUEUE_WORKERS: int = 4
    # Run queued tasks inline (tests of the request path only).
    QUEUE_IMMEDIATE: bool = False
    # A call whose provider could not be reached is tried again this often, this late.
    PLACE_RETRIES: int = 2
    PLACE_RETRY_DELAY: float = 10.0
    # Providers followed by polling: seconds between polls, and how many.
    POLL_INTERVAL: float = 5.0
    POLL_ATTEMPTS: int = 60
    # A call left dialing this long with nothing recorded lost its worker: recovery resolves it.
    STALL_SECONDS: float = 120.0
    # A placed call whose provider reports its end by callback (calledin) and sent
    # none this long after the last news ends with an unknown outcome.
    CALLBACK_WAIT_SECONDS: float = 4 * 3600.0
    # Circuit breaker per provider account.
    CIRCUIT_FAILURES: int = 3
    CIRCUIT_OPEN_SECONDS: int = 60
    # Outbound webhooks: seconds to connect and to read an answer; a failed
    # delivery is tried again after RETRY_BASE seconds, doubling (with jitter) up to
    # RETRY_CAP, until RETRY_FOR after the event; an endpoint failing for
    # DISABLE_AFTER seconds (no success in between) is disabled.
    WEBHOOK_TIMEOUT: float = 10.0
    WEBHOOK_RETRY_BASE: float = 10.0
    WEBHOOK_RETRY_CAP: float = 2 * 3600.0
    WEBHOOK_RETRY_FOR: float = 26 * 3600.0
    WEBHOOK_DISABLE_AFTER: float = 3 * 86400.0
    # Multiplies the simulator's delays (0.1 in tests makes a call take a second).
    SIMULATOR_SPEED: float = 1.0

    # Mail to site owners, sent by the queue: smtp://user:pass@host:port (STARTTLS when
    # the server offers it) or smtps:// (implicit TLS). Empty: mail is written to the log.
    SMTP_URL: str = ""
    MAIL_FROM: str = "widget-server@localhost"
    # Seconds to connect and for each answer of the SMTP server.
    SMTP_TIMEOUT: float = 10.0
    # A CA bundle (PEM) the SMTP server's certificate is checked against; empty: the system's.
    SMTP_CA_FILE: str = ""
    # A mail the server could not take is tried again this many times, the wait doubling
    # from MAIL_RETRY_DELAY up to MAIL_RETRY_MAX_DELAY seconds.
    MAIL_RETRIES: int = 6
    MAIL_RETRY_DELAY: float = 30.0
    MAIL_RETRY_MAX_DELAY: float = 3600.0


def _parse(raw: str, default: object) -> object:
    if isinstance(default, str) or default is None:
        return raw
    if isinstance(default, list) and not raw.lstrip().startswith("["):
        return [part.strip() for part in raw.split(",") if part.strip()]
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Defaults overlaid with the ``WIDGET_SERVER_*`` variables that are set."""
    environ = os.environ if environ is None else environ
    settings: dict[str, object] = {}
    for key in dir(Defaults):
        if not key.isupper():
            continue
        default = getattr(Defaults, key)
        raw = environ.get(f"{ENV_PREFIX}_{key}")
        settings[key] = _parse(raw, default) if raw is not None else default
    return settings
