"""The `widget-server` command, run as an operator runs it: a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import base_config, free_port
from tests.factories import call_body, post_call, solve_altcha
from tests.waiting import get_when_up, wait_until
from widget_server import create_app
from widget_server.extensions import db
from widget_server.models import Widget

BIN = Path(sys.executable).parent / "widget-server"


@pytest.fixture
def cli_env(tmp_path, database_url):
    env = dict(os.environ, WIDGET_SERVER_INSTANCE_PATH=str(tmp_path / "instance"),
               WIDGET_SERVER_DATABASE_URL=database_url, WIDGET_SERVER_DEVELOPMENT="true",
               WIDGET_SERVER_SIMULATOR_SPEED="0.05", WIDGET_SERVER_ALTCHA_MAX_NUMBER="1000")
    yield env
    if database_url:
        import psycopg
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")


# A guard against a command that hangs, not a measure of speed: on a busy machine a
# command's start-up alone has taken over a minute.
COMMAND_TIMEOUT = 600


def widget_server(env, *args, check=True):
    result = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True,
                            timeout=COMMAND_TIMEOUT)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def make_widget(env) -> tuple[str, str]:
    widget_server(env, "init")
    widget_server(env, "account", "create", "acme", "--kind", "reseller")
    widget_server(env, "account", "create", "shop", "--parent", "acme")
    out = widget_server(env, "widget", "create", "--account", "shop", "--domain",
                        "Shop.Example", "--number", "+1 202 555 0100").stdout
    widget_id = re.search(r"^Widget (\S+)$", out, re.M).group(1)
    token = re.search(r'data-widget="([^"]+)"', out).group(1)
    assert 'src="http://127.0.0.1:8000/embed/v1/loader.js"' in out
    return widget_id, token


class HttpClient:
    """The slice of Flask's test client that ``solve_altcha`` uses, over real HTTP."""

    def __init__(self, base: str):
        self.base = base

    def get(self, path: str):
        response = requests.get(self.base + path, timeout=5)
        response.get_json = response.json
        return response


def mint_nonce(env, token: str) -> str:
    """A form nonce as the frame would carry it, signed with the instance's keys."""
    script = ("from widget_server import create_app\n"
              "from widget_server.calls.service import widget_for_token\n"
              "from widget_server.security.tokens import form_nonce\n"
              "import sys\n"
              "with create_app().app_context():\n"
              "    print(form_nonce(widget_for_token(sys.argv[1])))\n")
    result = subprocess.run([sys.executable, "-c", script, token], env=env,
                            capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                            check=True)
    return result.stdout.strip()


def test_init_prints_a_link_to_choose_the_operators_password_once(cli_env):
    first = widget_server(cli_env, "init").stdout
    assert re.search(r"choose its password at http://127\.0\.0\.1:8000/admin/welcome/\S+", first)
    assert "password" not in widget_server(cli_env, "init").stdout


def test_widget_create_refuses_bad_input_with_a_sentence(cli_env):
    widget_server(cli_env, "init")
    widget_server(cli_env, "account", "create", "shop")
    cases = [
        (["--account", "nobody", "--domain", "a.example", "--number", "+12025550100"],
         "No account named 'nobody'"),
        (["--account", "shop", "--domain", "bad domain", "--number", "+12025550100"],
         "is not a valid domain name"),
        (["--account", "shop", "--domain", "*.co.uk", "--number", "+12025550100"],
         "co.uk is a public suffix"),
        (["--account", "shop", "--domain", "a.example", "--number", "12"],
         "is not a phone number"),
        (["--account", "shop", "--domain", "a.example", "--number", "+12025550100",
          "--number", "+1 202 555 0100"],
         "--number: +12025550100 is in the list twice; give each number once."),
        (["--account", "shop", "--domain", "a.example", "--number", "+12025550100 x12"],
         "--number: '+12025550100 x12' has an extension"),
        (["--account", "shop", "--domain", "a.example", "--number", "+12025550100",
          "--notify-email", "owner.example"],
         "--notify-email: 'owner.example' is not an e-mail address"),
        (["--account", "shop", "--domain", "a.example", "--number", "+12025550100",
          "--language", "fa"],
         "--language: There is no visitor form in 'fa' yet. Use auto or one of en, ar,"),
    ]
    for args, sentence in cases:
        result = widget_server(cli_env, "widget", "create", *args, check=False)
        assert result.returncode != 0
        assert sentence in result.stderr


def test_account_under_a_client_is_refused(cli_env):
    widget_server(cli_env, "account", "create", "shop")
    result = widget_server(cli_env, "account", "create", "sub", "--parent", "shop", check=False)
    assert result.returncode != 0 and "cannot have accounts under it" in result.stderr


def test_an_account_sits_where_its_kind_may_and_its_daily_allowance_within_its_monthly(
        cli_env):
    widget_server(cli_env, "account", "create", "north", "--kind", "reseller",
                  "--daily-allowance", "10", "--monthly-allowance", "100")
    nested = widget_server(cli_env, "account", "create", "sub", "--kind", "reseller",
                           "--parent", "north", check=False)
    assert nested.returncode != 0 and "Only the operator has resellers" in nested.stderr
    upside_down = widget_server(cli_env, "account", "create", "tiny", "--daily-allowance",
                                "100", "--monthly-allowance", "10", check=False)
    assert upside_down.returncode != 0
    assert "The daily allowance cannot exceed the monthly one (10)." in upside_down.stderr
    widget_server(cli_env, "account", "create", "shop", "--parent", "north",
                  "--daily-allowance", "5", "--monthly-allowance", "50")
    assert "cannot exceed the monthly one" in widget_server(
        cli_env, "account", "allowance", "north/shop", "--daily", "9", "--monthly", "8",
        check=False).stderr
    assert "cannot exceed north's own" in widget_server(
        cli_env, "account", "allowance", "shop", "--daily", "11", "--monthly", "50",
        check=False).stderr
    assert widget_server(cli_env, "account", "allowance", "shop", "--daily", "8",
                         "--monthly", "80").stdout == "Allowance of shop: 8 a day, 80 a month.\n"


def test_a_name_used_under_two_resellers_is_named_by_its_path_or_id(cli_env):
    for reseller in ("north", "south"):
        widget_server(cli_env, "account", "create", reseller, "--kind", "reseller")
        widget_server(cli_env, "account", "create", "acme", "--parent", reseller)
    again = widget_server(cli_env, "account", "create", "ACME", "--parent", "north",
                          check=False)
    assert again.returncode != 0 and "north has an account with this name already" in again.stderr

    def add_key(account):
        return widget_server(cli_env, "apikey", "create", "--account", account,
                             "--name", "k", check=False)

    ambiguous = add_key("acme")
    assert ambiguous.returncode != 0
    paths = re.findall(r"(north/acme|south/acme) \(#(\d+)\)", ambiguous.stderr)
    assert [path for path, _ in paths] == ["north/acme", "south/acme"]
    assert "Name one by its path or its id." in ambiguous.stderr
    assert add_key("South/ACME").returncode == 0
    assert add_key(f"#{paths[0][1]}").returncode == 0
    assert add_key("east/acme").stderr.strip().endswith("No account named 'east/acme'.")


def test_run_serves_the_app_and_places_calls_in_process(cli_env):
    _, token = make_widget(cli_env)
    port = free_port()
    server = subprocess.Popen([str(BIN), "run", "--port", str(port)], env=cli_env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        assert get_when_up(f"{base}/healthz", server).ok
        frame = requests.get(f"{base}/embed/v1/frame/{token}",
                             params={"origin": "https://shop.example"}, timeout=5)
        assert frame.status_code == 200
        nonce = mint_nonce(cli_env, token)
        captcha = solve_altcha(HttpClient(base))
        accepted = requests.post(f"{base}/embed/v1/calls", timeout=5, headers={"Origin": base},
                                 json={"token": token, "nonce": nonce, "phone": "2025550123",
                                       "captcha": captcha, "consent": True,
                                       "page_origin": "https://shop.example"})
        assert accepted.status_code == 202, accepted.text
        body = accepted.json()

        def status() -> str:
            return requests.get(base + body["status_url"], timeout=5,
                                headers={"X-Call-Token": body["call_token"]}).json()["status"]

        wait_until(lambda: status() == "completed", what="the call to complete",
                   interval=0.2, process=server)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_block_add_list_and_remove(cli_env):
    widget_server(cli_env, "init")
    widget_server(cli_env, "account", "create", "shop")

    def block(*args, check=True):
        return widget_server(cli_env, "block", *args, check=check)

    def listed() -> list[str]:
        return [line.split("\t")[0] for line in block("list", "--account", "shop")
                .stdout.splitlines()]

    assert block("add", "--account", "shop", "--country", "US", "(202) 555-0123").stdout == (
        "+12025550123 blocked for shop.\n")
    assert block("add", "--account", "shop", "+1 202-555-0123").stdout == (
        "+12025550123 is blocked for shop already; nothing changed.\n")
    block("add", "--account", "shop", "+44 20 7946 0018")
    assert listed() == ["+442079460018", "+12025550123"]
    assert re.fullmatch(r"\+442079460018\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
                        block("list", "--account", "shop").stdout.splitlines()[0])
    assert block("remove", "--account", "shop", "--country", "us", "202 555 0123").stdout == (
        "+12025550123 unblocked for shop.\n")
    assert listed() == ["+442079460018"]
    again = block("remove", "--account", "shop", "+12025550123", check=False)
    assert again.returncode != 0
    assert "+12025550123 is not on this account's block list." in again.stderr


def test_block_refuses_bad_input_with_a_sentence(cli_env):
    widget_server(cli_env, "init")
    widget_server(cli_env, "account", "create", "shop")
    cases = [
        (["add", "--account", "nobody", "+12025550123"], "No account named 'nobody'"),
        (["add", "--account", "shop", "not a number"], "That does not look like a phone number."),
        (["add", "--account", "shop", "2025550123"], "Give the number in +country format"),
        (["add", "--account", "shop", "--country", "XX", "2025550123"],
         "'XX' is not a country code such as US or GB."),
        (["remove", "--account", "shop", "--country", "US", "12"],
         "That phone number is not valid"),
        (["list", "--account", "nobody"], "No account named 'nobody'"),
    ]
    for args, sentence in cases:
        result = widget_server(cli_env, "block", *args, check=False)
        assert result.returncode != 0, args
        assert sentence in result.stderr, (args, result.stderr)
    empty = widget_server(cli_env, "block", "list", "--account", "shop")
    assert empty.stdout == "" and "No numbers are blocked for shop." in empty.stderr


def test_a_number_blocked_on_the_command_line_is_refused_by_the_widget(cli_env, database_url):
    widget_id, _token = make_widget(cli_env)
    widget_server(cli_env, "block", "add", "--account", "shop", "+12025550123")
    app = create_app(base_config(cli_env["WIDGET_SERVER_INSTANCE_PATH"], database_url))
    try:
        with app.app_context():
            widget = db.session.query(Widget).filter_by(public_id=widget_id).one()
            db.session.expunge(widget)
        client = app.test_client()
        refused = post_call(client, call_body(app, client, widget, phone="(202) 555-0123"))
        assert refused.status_code == 403 and refused.get_json()["error"] == "phone_blocked"
        accepted = post_call(client, call_body(app, client, widget, phone="+12025550124"))
        assert accepted.status_code == 202, accepted.get_json()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def read_until(stream, pattern: str, timeout: float = 60) -> list[str]:
    """Lines of ``stream`` up to the one matching ``pattern``."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        lines.append(line)
        if re.search(pattern, line):
            return lines
    raise AssertionError(f"no line matching {pattern!r} in {lines}")


def run_demo(env, port: int):
    return subprocess.Popen([str(BIN), "demo", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def admin_signs_in(port: int, email: str, password: str) -> bool:
    with requests.Session() as browser:
        form = browser.get(f"http://127.0.0.1:{port}/admin/sign-in", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        browser.post(f"http://127.0.0.1:{port}/admin/sign-in", timeout=10, data={
            "csrf_token": token, "email": email, "password": password})
        return browser.get(f"http://127.0.0.1:{port}/admin/", timeout=10,
                           allow_redirects=False).status_code == 200


def choose_password_at(link: str, password: str) -> None:
    """Set a password at a printed link, as a person does in the browser."""
    with requests.Session() as browser:
        form = browser.get(link, timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        chosen = browser.post(link, timeout=10, allow_redirects=False, data={
            "csrf_token": token, "password": password, "confirm": password})
        assert chosen.status_code == 302, chosen.text


def test_demo_serves_the_host_page_the_widget_and_the_admin(cli_env):
    port = free_port(span=2)  # the demo's host page listens on the next port
    demo = run_demo(cli_env, port)
    try:
        lines = "".join(read_until(demo.stdout, r"^embed snippet:"))
        host = re.search(r"demo host page:\s+(\S+)", lines).group(1)
        admin = re.search(r"admin:\s+(\S+)\s+sign in as (\S+); choose its password: (\S+)",
                          lines)
        assert admin and admin.group(1) == f"http://127.0.0.1:{port}/admin/"
        assert admin.group(3).startswith(f"http://127.0.0.1:{port}/admin/welcome/")
        page = get_when_up(host, demo).text
        token = re.search(r'data-widget="([^"]+)"', page).group(1)
        assert f'src="http://127.0.0.1:{port}/embed/v1/loader.js"' in page
        frame = get_when_up(f"http://127.0.0.1:{port}/embed/v1/frame/{token}", demo,
                            params={"origin": host.rstrip("/")})
        assert frame.status_code == 200 and 'id="phone"' in frame.text
        choose_password_at(admin.group(3), "the demo's password")
        assert admin_signs_in(port, admin.group(2), "the demo's password")
    finally:
        demo.terminate()
        demo.wait(timeout=30)
    # Started again, the password is not known any more: a link to set one is printed.
    demo = run_demo(cli_env, port)
    try:
        lines = "".join(read_until(demo.stdout, r"^admin:"))
        link = re.search(r"a new password: (\S+/admin/reset/\S+)", lines).group(1)
        assert get_when_up(link, demo).status_code == 200
    finally:
        demo.terminate()
        demo.wait(timeout=30)


def test_provider_add_refuses_every_private_address_and_spelling(make_app, monkeypatch):
    """In process (CliRunner), so a name can resolve through the rule's seam."""
    import ipaddress

    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from tests.security.test_outbound import PUBLIC, REFUSED_ADDRESSES, REFUSED_SHAPES
    from widget_server.cli import main
    from widget_server.models import ProviderAccount
    from widget_server.security import outbound

    app = make_app(PROVIDER_PRIVATE_HOSTS=[], DEVELOPMENT=False)
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [ipaddress.ip_address(
        "10.9.8.7" if host == "lan.example.com" else PUBLIC)])

    def add(base_url: str, name: str = "pbx"):
        return CliRunner().invoke(main, [
            "provider", "add", "--account", "operator", "--kind", "c2c-php", "--name", name,
            "--base-url", base_url, "--option", "holdfile=17"],
            input='{"uid": "u-1", "pin": "pin-12345678"}', obj=ScriptInfo(create_app=lambda: app))

    refused = {**REFUSED_ADDRESSES, **REFUSED_SHAPES,
               "https://lan.example.com/": "resolves to a non-public address"}
    for url, why in refused.items():
        result = add(url)
        assert result.exit_code != 0 and why in result.output, (url, result.output)
    assert add("https://voice.example.com/", name="public").exit_code == 0
    with app.app_context():
        assert [p.name for p in db.session.scalars(db.select(ProviderAccount))] == ["public"]


def _invoke(app, *args: str, credentials: str = ""):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from widget_server.cli import main

    return CliRunner().invoke(main, list(args), input=credentials,
                              obj=ScriptInfo(create_app=lambda: app))


def _provider_names(app) -> list[str]:
    from widget_server.extensions import db
    from widget_server.models import ProviderAccount

    with app.app_context():
        return [p.name for p in db.session.scalars(db.select(ProviderAccount))]


@pytest.mark.parametrize("kind, options, credentials, refused", [
    ("c2c-php", ["holdfile=17", "max_duration=abc", "number_format=weird"],
     '{"uid": "u-1", "pin": "pin-1"}', ["--option max_duration", "--option number_format"]),
    ("dialogtech", ["first_leg_timeout=abc"], '{"access_key": "a", "secret_access_key": "s"}',
     ["--option first_leg_timeout: first_leg_timeout must be a number of seconds"]),
])
def test_provider_add_refuses_every_mistyped_option_at_once(make_app, kind, options,
                                                             credentials, refused):
    app = make_app()
    result = _invoke(app, "provider", "add", "--account", "operator", "--kind", kind,
                     "--name", "pbx", "--base-url", "http://127.0.0.1:9",
                     *(arg for option in options for arg in ("--option", option)),
                     credentials=credentials)
    assert result.exit_code != 0
    for sentence in refused:
        assert sentence in result.output, result.output
    assert _provider_names(app) == []


def test_provider_add_takes_a_simulator_without_address_or_credentials(make_app):
    app = make_app()
    result = _invoke(app, "provider", "add", "--account", "operator", "--kind", "simulator",
                     "--name", "sim")
    assert result.exit_code == 0, result.output
    assert _provider_names(app) == ["sim"]


def test_provider_kinds_lists_each_options_type_range_and_choices(make_app):
    result = _invoke(make_app(), "provider", "kinds")
    assert result.exit_code == 0
    assert ("max_duration (int, optional): Longest call; a whole number of seconds from 1 "
            "to 86400; default 600") in result.output
    assert "number_format (str, optional): Number format;" in result.output
    assert "one of digits, 00, plus" in result.output
