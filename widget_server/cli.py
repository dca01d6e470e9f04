"""The ``widget-server`` command: how operators run and script the product.

Its verbs are stable: ``demo``, ``run``, ``worker``, ``init``, ``account
create``, ``widget create``. Every command builds the app with
``create_app()``, so each honours ``WIDGET_SERVER_INSTANCE_PATH`` and the
other ``WIDGET_SERVER_*`` settings.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from widget_server import create_app
from widget_server.abuse.blocklist import blocked_select
from widget_server.calls.queue import create_consumer, start_in_process_consumer
from widget_server.demo import serve_host_page
from widget_server.extensions import db
from widget_server.models import Account, ProviderAccount, User, Widget
from widget_server.providers import PROVIDERS
from widget_server.providers.base import exchange_line
from widget_server.security.keys import KeysConfigured, rotate_stored_keys
from widget_server.security.password_links import INVITATION, MAX_AGE, RESET
from widget_server.services import provider_accounts, two_factor, webhooks
from widget_server.services import widgets as widget_service
from widget_server.services.accounts import (
    KINDS,
    OWNER,
    UNSET,
    Unset,
    create_account,
    delete_account,
    deletion_of,
    operator_account,
    set_allowance,
    set_suspended,
    update_account,
)
from widget_server.services.api_keys import create_api_key, revoke_api_key
from widget_server.services.blocked_numbers import block_number, unblock
from widget_server.services.brands import KEEP, brand_for_account, remove_brand, save_brand
from widget_server.services.errors import ServiceError, refusals
from widget_server.services.users import (
    ROLES,
    change_role,
    create_user,
    invitation_token,
    remove_user,
    reset_token,
    user_by_email,
)
from widget_server.serving import make_server
from widget_server.tenancy import account_path, accounts_by_reference, ancestors, sibling_named

OPERATOR_ACCOUNT = "operator"
ACCOUNT_HELP = ("The account's name; where names repeat under different parents, its path "
                "such as reseller/client, or its id such as #12.")


def options_named(options: dict[str, str]) -> Callable[[str], str]:
    """A command's option (or argument) for each field of the services it gives."""
    return lambda field: options.get(field, field)


# The options of the commands by the fields they give, so a refusal names what to fix.
_widget_option = options_named({"business_numbers": "--number", "domains": "--domain",
                                "home_country": "--country", "language": "--language",
                                "provider_account_id": "--provider",
                                "notify_emails": "--notify-email",
                                "notify_events": "--notify-event",
                                "promise_text": "--promise"})
_account_create_option = options_named({
    "name": "NAME", "parent_id": "--parent", "kind": "--kind",
    "daily_call_cap": "--daily-allowance", "monthly_call_cap": "--monthly-allowance"})
_allowance_option = options_named({"daily_call_cap": "--daily",
                                   "monthly_call_cap": "--monthly"})
_user_option = options_named({"email": "--email", "role": "--role", "account_id": "--account"})
_account_update_option = options_named({"name": "--rename", "max_widgets": "--max-widgets",
                                        "may_add_providers": "--providers"})


@contextmanager
def refused_as_click(subject: str | None = None, option: Callable[[str], str] | None = None):
    """A refusal of the services as the command's error, one line per refusal: its
    sentence, after the ``subject`` typed when that is what is invalid, or after the
    option at fault when ``option`` names the command's option for a field."""
    try:
        yield
    except (ServiceError, ExceptionGroup) as error:
        errors = refusals(error)
        raise click.ClickException("\n".join(
            _refusal_line(each, subject, option) for each in errors)) from None


def _refusal_line(error: ServiceError, subject: str | None,
                  option: Callable[[str], str] | None) -> str:
    if subject and error.kind == "invalid":
        return f"{subject!r}: {error.message}"
    if option is not None and error.field:
        return f"{option(error.field)}: {error.message}"
    return error.message


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False,
             load_dotenv=False)
def main() -> None:
    """Run and manage a widget-server installation."""


def prepare_database() -> Account:
    """Apply migrations and make sure the operator account exists."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    return operator_account(OPERATOR_ACCOUNT)


DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def admin_root(base_url: str = DEFAULT_BASE_URL) -> str:
    """Where the admin's links point: ``PUBLIC_URL``, else ``base_url``."""
    return (current_app.config["PUBLIC_URL"] or base_url).rstrip("/")


def create_operator_user(email: str, base_url: str = DEFAULT_BASE_URL) -> str | None:
    """Migrate, and create an operator owner ``email`` unless one exists: the link where
    they choose their password (printed, not mailed: mail may not be set up yet)."""
    operator = prepare_database()
    if user_by_email(email) is not None:
        return None
    with refused_as_click(option=options_named({"email": "--email"})):
        created = create_user(operator, account_id=operator.id, email=email, role=OWNER,
                              invite=False)
    return f"{admin_root(base_url)}/admin/welcome/{invitation_token(created)}"


FIRST_OPERATOR = "admin@localhost"


@main.command()
@click.option("--email", default=FIRST_OPERATOR, show_default=True,
              help="The first operator user's sign-in.")
@with_appcontext
def init(email: str) -> None:
    """Prepare the database (migrations) and the first operator user."""
    link = create_operator_user(email)
    if link is not None:
        click.echo(f"Operator user {email} created; choose its password at {link} "
                   f"(the link works once, for {MAX_AGE[INVITATION] // 86400} days)")
    click.echo(f"Database ready at {current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")


def serve_with_queue(app, host: str, port: int) -> None:
    """Serve the app with waitress and consume the queue in threads of this process."""
    consumer = start_in_process_consumer(app)
    try:
        make_server(app, host, port).run()
    finally:
        consumer.stop(graceful=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@with_appcontext
def run(host: str, port: int) -> None:
    """Serve the app and consume the call queue in-process."""
    prepare_database()
    click.echo(f"widget-server on http://{host}:{port}/")
    # current_app is a proxy, which Flask types as the app itself.
    serve_with_queue(current_app._get_current_object(), host, port)  # type: ignore[attr-defined]


@main.command()
@with_appcontext
def worker() -> None:
    """Consume the call queue in this process (for installations that run it apart)."""
    # current_app is a proxy, which Flask types as the app itself.
    create_consumer(current_app._get_current_object()).run()  # type: ignore[attr-defined]


@main.group()
def account() -> None:
    """Accounts: the operator, resellers and their clients."""


@account.command("create")
@click.argument("name")
@click.option("--parent", default=OPERATOR_ACCOUNT, show_default=True,
              help="A name, a path such as reseller/client, or an id such as #12.")
@click.option("--kind", type=click.Choice(KINDS), default="client", show_default=True)
@click.option("--daily-allowance", type=int, default=None,
              help="Calls a day, counting the accounts under it; else the default.")
@click.option("--monthly-allowance", type=int, default=None,
              help="Calls a month, counting the accounts under it; else the default.")
@with_appcontext
def account_create(name: str, parent: str, kind: str, daily_allowance: int | None,
                   monthly_allowance: int | None) -> None:
    """Create an account under PARENT."""
    operator = prepare_database()
    parent_account = operator if parent == OPERATOR_ACCOUNT else _account_named(parent)
    with refused_as_click(option=_account_create_option):
        create_account(operator, name=name, parent_id=parent_account.id, kind=kind,
                       daily=daily_allowance, monthly=monthly_allowance)
    click.echo(f"Account {name} ({kind}) created under {parent_account.name}.")


@account.command("allowance")
@click.argument("name")
@click.option("--daily", type=int, default=None, help="Calls a day; omitted: the default.")
@click.option("--monthly", type=int, default=None, help="Calls a month; omitted: the default.")
@with_appcontext
def account_allowance(name: str, daily: int | None, monthly: int | None) -> None:
    """Set the allowance of account NAME (a name, a path or #id), within its parent's."""
    operator = prepare_database()
    with refused_as_click(option=_allowance_option):
        found = set_allowance(operator, _account_named(name).id, daily, monthly)
    click.echo(f"Allowance of {found.name}: {_allowance(daily)} a day, "
               f"{_allowance(monthly)} a month.")


def _allowance(value: int | None) -> str:
    return "the default" if value is None else str(value)


@account.command("update")
@click.argument("name")
@click.option("--rename", default=None, help="Its new name.")
@click.option("--providers/--no-providers", "may_add_providers", default=None,
              help="Whether it may add provider accounts of its own.")
@click.option("--max-widgets", default=None,
              help="How many widgets it may have; 'none' for no limit.")
@with_appcontext
def account_update(name: str, rename: str | None, may_add_providers: bool | None,
                   max_widgets: str | None) -> None:
    """Rename account NAME, or decide its provider accounts and widget limit."""
    operator = prepare_database()
    limit: int | Unset | None = UNSET
    if max_widgets is not None:
        if max_widgets.lower() != "none" and not max_widgets.isdigit():
            raise click.BadParameter("use a whole number, or none.", param_hint="--max-widgets")
        limit = None if max_widgets.lower() == "none" else int(max_widgets)
    with refused_as_click(option=_account_update_option):
        found = update_account(operator, _account_named(name).id, name=rename,
                               may_add_providers=may_add_providers, max_widgets=limit)
    click.echo(f"Account {found.name}: provider accounts of its own "
               f"{'allowed' if found.may_add_providers else 'not allowed'}, "
               f"{'no widget limit' if found.max_widgets is None else found.max_widgets}"
               f"{'' if found.max_widgets is None else ' widgets at most'}.")


@account.command("suspend")
@click.argument("name")
@with_appcontext
def account_suspend(name: str) -> None:
    """Suspend account NAME: its widgets and those under it refuse visitors, its users
    and API keys are refused, until ``account unsuspend``."""
    operator = prepare_database()
    with refused_as_click():
        found = set_suspended(operator, _account_named(name).id, True)
    click.echo(f"Account {found.name} suspended.")


@account.command("unsuspend")
@click.argument("name")
@with_appcontext
def account_unsuspend(name: str) -> None:
    """Lift the suspension of account NAME."""
    operator = prepare_database()
    with refused_as_click():
        found = set_suspended(operator, _account_named(name).id, False)
    click.echo(f"Account {found.name} is no longer suspended.")


@account.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Delete without asking.")
@with_appcontext
def account_delete(name: str, yes: bool) -> None:
    """Delete account NAME with its widgets, users, provider accounts, webhooks and block
    list; its API keys are revoked, its calls stay in the reports."""
    operator = prepare_database()
    with refused_as_click():
        deletion = deletion_of(operator, _account_named(name).id)
    found = deletion.account
    click.echo(f"Deleting {found.name} removes {deletion.widgets} widgets, {deletion.users} "
               f"users, {deletion.provider_accounts} provider accounts, {deletion.webhooks} "
               f"webhooks and {deletion.blocked_numbers} blocked numbers, and revokes "
               f"{deletion.api_keys} API keys; its calls stay in the reports.")
    if not yes:
        click.confirm("Delete it?", abort=True)
    with refused_as_click():
        delete_account(operator, found.id)
    click.echo(f"Account {found.name} deleted.")


def create_widget(operator: Account, *, account_name: str, domains: list[str],
                  numbers: list[str], provider: str | None = None, **settings) -> Widget:
    """Create a widget as the operator; ``ClickException`` with a plain sentence for bad input."""
    owner = _account_named(account_name)
    provider_id = None
    if provider:
        provider_id = _provider_named(owner, provider).id
    with refused_as_click(option=_widget_option):
        return widget_service.create_widget(
            operator, account_id=owner.id, domains=domains, settings={
                "business_numbers": numbers, "provider_account_id": provider_id, **settings})


def _provider_named(owner: Account, name: str) -> ProviderAccount:
    """The provider account ``name`` means for ``owner``'s widget: its own, else the nearest
    above it of that name, else any; whether the widget may use it is the services' rule."""
    named = db.session.scalars(select(ProviderAccount).where(ProviderAccount.name == name)
                               .order_by(ProviderAccount.id)).all()
    if not named:
        raise click.ClickException(f"--provider: No provider account is named {name!r}.")
    lineage = [owner.id, *(account.id for account in ancestors(owner))]
    return min(named, key=lambda each: (lineage.index(each.account_id)
                                        if each.account_id in lineage else len(lineage)))


@main.group()
def widget() -> None:
    """Widgets: the button and form a site embeds."""


@widget.command("create")
@click.option("--account", "account_name", required=True, help=ACCOUNT_HELP)
@click.option("--domain", "domains", multiple=True, required=True,
              help="A host allowed to embed the widget: example.com or *.example.com.")
@click.option("--number", "numbers", multiple=True, required=True,
              help="A business number to ring, in +country format.")
@click.option("--provider", default=None, help="The account's provider to call through.")
@click.option("--country", default="US", show_default=True,
              help="The home country: visitors' numbers must be from it.")
@click.option("--language", default="en", show_default=True,
              help="The visitors' language (one with a catalogue), or auto: their browser's.")
@click.option("--promise", default="",
              help="One short line under the form's heading, such as \"We call you back "
                   "within 30 seconds\"; default: none.")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True,
              help="This server's public URL, for the snippet.")
@click.option("--notify-email", "notify_emails", multiple=True,
              help="An address mailed about the widget's calls.")
@click.option("--notify-event", "notify_events", multiple=True,
              type=click.Choice(widget_service.NOTIFY_EVENTS),
              help="What those addresses are mailed about.")
@with_appcontext
def widget_create(account_name, domains, numbers, provider, country, language, promise,
                  base_url, notify_emails, notify_events) -> None:
    """Create a widget and print its id and embed snippet."""
    operator = prepare_database()
    created = create_widget(operator, account_name=account_name, domains=list(domains),
                            numbers=list(numbers), provider=provider, home_country=country,
                            language=language, promise_text=promise,
                            notify_emails=list(notify_emails),
                            notify_events=list(notify_events))
    click.echo(f"Widget {created.public_id}")
    click.echo(widget_service.embed_snippet(created, base_url))


DEMO_ACCOUNT = "demo"


def _demo_admin_sign_in(app_url: str) -> str:
    """How to sign in to the demo's admin: a link to choose the operator's password when
    this run created it, else a one-hour link to set a new one."""
    link = create_operator_user(FIRST_OPERATOR, app_url)
    if link is not None:
        return f"sign in as {FIRST_OPERATOR}; choose its password: {link}"
    user = user_by_email(FIRST_OPERATOR)
    assert user is not None, "create_operator_user found the operator's user"
    return (f"sign in as {FIRST_OPERATOR}; a new password: "
            f"{app_url}/admin/reset/{reset_token(user)}")


@main.command()
@click.option("--port", default=8000, show_default=True, type=int,
              help="The app's port; the demo host page takes the next one.")
def demo(port: int) -> None:
    """Run the app on its embedded defaults with a demo site embedding the widget."""
    app = create_app({"DEVELOPMENT": True})
    app_url, host_url = f"http://127.0.0.1:{port}", f"http://localhost:{port + 1}"
    with app.app_context():
        operator = prepare_database()
        demo_account = sibling_named(operator.id, DEMO_ACCOUNT)
        if demo_account is None:
            demo_account = create_account(operator, name=DEMO_ACCOUNT)
        demo_widget = db.session.scalar(select(Widget).where(
            Widget.account_id == demo_account.id))
        if demo_widget is None:
            demo_widget = create_widget(operator, account_name=f"#{demo_account.id}",
                                        domains=[f"localhost:{port + 1}"],
                                        numbers=["+12025550100"])
        embed = widget_service.embed_snippet(demo_widget, app_url)
        admin_sign_in = _demo_admin_sign_in(app_url)
    click.echo(f"widget-server:   {app_url}/healthz")
    click.echo(f"demo host page:  {host_url}/  (open this one)")
    click.echo(f"admin:           {app_url}/admin/  {admin_sign_in}")
    click.echo("simulator: any valid US number is answered; one ending in 0002 is busy,")
    click.echo("           0003 does not answer, 0004 fails, 0005 is refused.")
    click.echo(f"embed snippet:   {embed}")
    threading.Thread(target=serve_host_page, args=("localhost", port + 1, embed),
                     daemon=True).start()
    serve_with_queue(app, "127.0.0.1", port)


@main.group()
def provider() -> None:
    """Provider accounts: the telephony APIs that place the calls."""


@provider.command("kinds")
def provider_kinds() -> None:
    """List the provider kinds with their credentials and options: type, range, help."""
    for kind, cls in PROVIDERS.items():
        click.echo(f"{kind}: {cls.label}")
        for title, fields in (("credentials", cls.credential_fields),
                              ("options", cls.option_fields)):
            if fields:
                click.echo(f"    {title}:")
            for spec in fields:
                click.echo(f"      {spec.name} ({spec.type.__name__}"
                           + ("" if spec.required else ", optional") + f"): {spec.label}"
                           + (f"; {spec.describe()}" if spec.describe() else ""))
        if cls.custom_fields:
            custom = cls.custom_fields
            click.echo(f"    {custom.label}: up to {custom.max_count}, "
                       f"{custom.value.describe()}")


def _option_name(field: str) -> str:
    """A service's field as the command line spells it: --base-url, --option max_duration."""
    if field.startswith("options."):
        return f"--option {field.removeprefix('options.')}"
    if field.startswith("credentials"):
        return f"standard input {field}"
    return "--" + field.replace("_", "-")


def _parse_options(pairs: tuple[str, ...]) -> dict:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.ClickException(f"Options are KEY=VALUE; {pair!r} is not.")
        options[key.strip()] = value
    return options


@provider.command("add")
@click.option("--account", "account_name", required=True, help=ACCOUNT_HELP)
@click.option("--kind", required=True, type=click.Choice(sorted(PROVIDERS)))
@click.option("--name", required=True, help="A name for this provider account.")
@click.option("--base-url", default=None,
              help="Scheme, host and optional path prefix the documented paths hang from.")
@click.option("--option", "options", multiple=True,
              help="KEY=VALUE, repeatable; `provider kinds` lists each kind's.")
@with_appcontext
def provider_add(account_name, kind, name, base_url, options) -> None:
    """Add a provider account; its credentials are read as a JSON object on standard input."""
    prepare_database()
    owner = _account_named(account_name)
    raw = "" if sys.stdin.isatty() else sys.stdin.read()
    try:
        credentials = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        raise click.ClickException(
            "Standard input must be a JSON object of credentials.") from None
    if not isinstance(credentials, dict):
        raise click.ClickException("Standard input must be a JSON object of credentials.")
    with refused_as_click(option=_option_name):
        provider_accounts.add(None, owner=owner, name=name, kind=kind, base_url=base_url,
                              credentials=credentials, options=_parse_options(options))
    click.echo(f"Provider account {name} ({kind}) added to {account_name}.")


class ConsoleReport:
    """Prints what a provider check did, already redacted by the adapter."""

    def progress(self, status, reason=None, **detail):
        click.echo(f"  {status}" + (f" ({reason})" if reason else ""))

    def exchange(self, **evidence):
        click.echo(f"  {exchange_line(evidence)}")

    def provider_call_id(self, value):
        click.echo(f"  provider call id {value}")

    def provider_report(self, **figures):
        click.echo(f"  report {figures}")


@provider.command("check")
@click.option("--account", "account_name", required=True, help=ACCOUNT_HELP)
@click.option("--name", required=True)
@click.option("--from", "test_from", default=None, help="Test call: the number rung first.")
@click.option("--to", "test_to", default=None, help="Test call: the number rung second.")
@with_appcontext
def provider_check(account_name, name, test_from, test_to) -> None:
    """Check a provider account's credentials, or place a test call, and say what is wrong."""
    found = db.session.scalar(select(ProviderAccount).where(
        ProviderAccount.account_id == _account_named(account_name).id,
        ProviderAccount.name == name))
    if found is None:
        raise click.ClickException(f"Account {account_name} has no provider {name!r}.")
    with refused_as_click(option=options_named({"test_from": "--from", "test_to": "--to"})):
        result = provider_accounts.check(None, found, ConsoleReport(), test_from=test_from,
                                         test_to=test_to)
    click.echo(result.sentence if result.checked else f"Nothing was checked: {result.sentence}")


@main.group()
def keys() -> None:
    """Signing and encryption keys."""


@keys.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Add a new signing and encryption key; re-encrypt every provider credential, webhook
    signing secret and two-factor secret."""
    config = current_app.config
    try:
        rotate_stored_keys(config)
    except KeysConfigured as error:
        raise click.ClickException(str(error)) from None
    provider_accounts.reencrypt_credentials()
    webhooks.reencrypt_secrets()
    two_factor.reencrypt_secrets()
    click.echo("New keys in use: new tokens are signed and credentials encrypted with them; "
               "tokens signed with older keys stay valid.")


def _account_named(reference: str) -> Account:
    """The one account ``reference`` (a name, a path ``reseller/client`` or ``#id``) means.

    Names are unique among siblings only, so a name may be ambiguous: then the
    command stops and lists the paths to choose from.
    """
    found = accounts_by_reference(reference)
    if not found:
        raise click.ClickException(f"No account named {reference!r}.")
    if len(found) > 1:
        choices = ", ".join(f"{account_path(a)} (#{a.id})" for a in found)
        raise click.ClickException(
            f"{len(found)} accounts are named {reference!r}: {choices}. Name one by its path "
            "or its id.")
    return found[0]


@main.group()
def user() -> None:
    """People who sign in to the admin."""


@user.command("create")
@click.option("--account", "account_name", required=True, help=ACCOUNT_HELP)
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), default="owner", show_default=True)
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True,
              help="Where the admin is served, when PUBLIC_URL is not set.")
@with_appcontext
def user_create(account_name: str, email: str, role: str, base_url: str) -> None:
    """Add a user to ACCOUNT and mail them an invitation to choose their password."""
    operator = prepare_database()
    with refused_as_click(option=_user_option):
        created = create_user(operator, account_id=_account_named(account_name).id,
                              email=email, role=role, base_url=admin_root(base_url))
    click.echo(f"User {email} ({role}) created in {account_name}; an invitation to choose "
               f"their password is mailed to them (the link works for "
               f"{MAX_AGE[INVITATION] // 86400} days).")
    if not current_app.config["SMTP_URL"]:
        click.echo("Mail is off (no SMTP_URL): hand them this link yourself: "
                   f"{admin_root(base_url)}/admin/welcome/{invitation_token(created)}")


def _user_named(email: str) -> User:
    found = user_by_email(email)
    if found is None:
        raise click.ClickException(f"No user signs in as {email}.")
    return found


@user.command("role")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@with_appcontext
def user_role(email: str, role: str) -> None:
    """Give the user EMAIL another role."""
    operator = prepare_database()
    with refused_as_click():
        change_role(operator, _user_named(email).id, role)
    click.echo(f"{email} is now {role}.")


@user.command("remove")
@click.option("--email", required=True)
@with_appcontext
def user_remove(email: str) -> None:
    """Remove the user EMAIL: they can no longer sign in."""
    operator = prepare_database()
    with refused_as_click():
        remove_user(operator, _user_named(email).id)
    click.echo(f"{email} removed.")


@user.command("two-factor-off")
@click.option("--email", required=True)
@with_appcontext
def user_two_factor_off(email: str) -> None:
    """Turn off two-factor sign-in for EMAIL, who lost their phone and recovery codes."""
    operator = prepare_database()
    with refused_as_click():
        two_factor.turn_off_for(operator, _user_named(email).id)
    click.echo(f"Two-factor sign-in is off for {email}; they can set it up again.")


@user.command("reset-link")
@click.option("--email", required=True)
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True,
              help="Where the admin is served, when PUBLIC_URL is not set.")
@with_appcontext
def user_reset_link(email: str, base_url: str) -> None:
    """Print a password link for EMAIL: valid for an hour, and only until the password changes."""
    found = _user_named(email)
    click.echo(f"{admin_root(base_url)}/admin/reset/{reset_token(found)}")
    click.echo(f"The link works once, for {MAX_AGE[RESET] // 60} minutes.", err=True)


@main.group()
def apikey() -> None:
    """Keys for the management API."""


@apikey.command("create")
@click.option("--account", "account_name", required=True, help=ACCOUNT_HELP)
@click.option("--name", default="", help="What the key is for.")
@with_appcontext
def apikey_create(account_name: str, name: str) -> None:
    """Create a key for ACCOUNT and print it once (only its digest is kept)."""
    operator = prepare_database()
    with refused_as_click():
        _key, plaintext = create_api_key(operator, account_id=_account_named(account_name).id,
                                         name=name)
    click.echo(plaintext)


@apikey.command("revoke")
@click.option("--prefix", required=True, help="The 8 characters after wsk_.")
@with_appcontext
def apikey_revoke(prefix: str) -> None:
    """Revoke the key with PREFIX: programs using it are refused from now on."""
    operator = prepare_database()
    with refused_as_click():
        revoke_api_key(operator, prefix=prefix)
    click.echo(f"Key {prefix} revoked.")


@main.group("block")
def block_group() -> None:
    """An account's block list: numbers its widgets refuse to call back."""


COUNTRY_HELP = "Where a number written without +country is read, e.g. US."


@block_group.command("add")
@click.option("--account", "account_name", required=True, help=ACCOUNT_HELP)
@click.option("--country", default=None, help=COUNTRY_HELP)
@click.argument("number")
@with_appcontext
def block_add(account_name: str, country: str | None, number: str) -> None:
    """Block NUMBER (any country's; stored as E.164) for ACCOUNT's widgets."""
    operator = prepare_database()
    with refused_as_click(number):
        entry, added = block_number(operator, _account_named(account_name).id, number, country)
    e164 = entry.e164
    click.echo(f"{e164} blocked for {account_name}." if added
               else f"{e164} is blocked for {account_name} already; nothing changed.")


@block_group.command("remove")
@click.option("--account", "account_name", required=True, help=ACCOUNT_HELP)
@click.option("--country", default=None, help=COUNTRY_HELP)
@click.argument("number")
@with_appcontext
def block_remove(account_name: str, country: str | None, number: str) -> None:
    """Take NUMBER off ACCOUNT's block list."""
    operator = prepare_database()
    with refused_as_click(number):
        entry = unblock(operator, _account_named(account_name).id, number=number,
                        country=country)
    click.echo(f"{entry.e164} unblocked for {account_name}.")


@block_group.command("list")
@click.option("--account", "account_name", required=True, help=ACCOUNT_HELP)
@with_appcontext
def block_list(account_name: str) -> None:
    """Print ACCOUNT's blocked numbers, newest first: E.164 and when added (UTC)."""
    account_row = _account_named(account_name)
    entries = db.session.scalars(blocked_select(account_row.id)).all()
    for entry in entries:
        click.echo(f"{entry.e164}\t{entry.created_at.isoformat(timespec='seconds')}Z")
    if not entries:
        click.echo(f"No numbers are blocked for {account_name}.", err=True)


_brand_option = options_named({"product_name": "--name", "primary_colour": "--colour",
                               "support_email": "--support-email", "host_name": "--host-name",
                               "logo": "--logo"})


@main.group("brand")
def brand_group() -> None:
    """White label: the brand a reseller (or the operator) shows its clients."""


@brand_group.command("set")
@click.option("--account", "account_name", default=OPERATOR_ACCOUNT, show_default=True,
              help=ACCOUNT_HELP + " A reseller, or the operator.")
@click.option("--name", "product_name", required=True,
              help="The product name its clients see in the admin and mails.")
@click.option("--colour", default=None, help="Primary colour such as #0b6e4f.")
@click.option("--support-email", default=None, help="Shown on every page; mail replies go there.")
@click.option("--host-name", default=None, help="The admin answers on it with this brand.")
@click.option("--logo", type=click.File("rb"), default=None,
              help="PNG, JPEG or WebP, at most 200 KB; else the logo stays as it is.")
@with_appcontext
def brand_set(account_name: str, product_name: str, colour: str | None,
              support_email: str | None, host_name: str | None, logo) -> None:
    """Set ACCOUNT's brand: every option given (a missing one is cleared), logo aside."""
    operator = prepare_database()
    found = _account_named(account_name)
    with refused_as_click(option=_brand_option):
        save_brand(operator, found.id, product_name=product_name, primary_colour=colour,
                   support_email=support_email, host_name=host_name,
                   logo=logo.read(1024 * 1024) if logo else KEEP)
    click.echo(f"Brand of {found.name} saved: its clients see {product_name}.")


@brand_group.command("show")
@click.option("--account", "account_name", default=OPERATOR_ACCOUNT, show_default=True,
              help=ACCOUNT_HELP)
@with_appcontext
def brand_show(account_name: str) -> None:
    """Print the brand ACCOUNT's people see, as JSON."""
    shown = brand_for_account(_account_named(account_name))
    click.echo(json.dumps({"product_name": shown.product_name,
                           "primary_colour": shown.primary_colour,
                           "support_email": shown.support_email,
                           "host_name": shown.host_name,
                           "logo": shown.logo_path}, indent=2))


@brand_group.command("remove")
@click.option("--account", "account_name", required=True, help=ACCOUNT_HELP)
@with_appcontext
def brand_remove(account_name: str) -> None:
    """Remove ACCOUNT's brand: its clients see the brand above it again."""
    operator = prepare_database()
    found = _account_named(account_name)
    with refused_as_click():
        remove_brand(operator, found.id)
    click.echo(f"Brand of {found.name} removed.")
