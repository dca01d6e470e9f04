"""One operation, three ways: the command line, the management API and the admin.

A drift test names an operation and runs it through every interface that has
it (``having``); each driver answers an ``Outcome`` whose refused fields are
spelled as the services spell them (``options.max_duration``), whatever the
interface calls them (``--option max_duration``, ``option_max_duration``), so
one assertion holds for all three.

The tree: operator > reseller > client, an owner and an API key in each;
the command line acts as the operator, the API with the acting account's key,
the admin signed in as its owner.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser

from sqlalchemy import select

from tests.factories import Tree, admin_post, create_tree, signed_in
from widget_server.cli import main
from widget_server.extensions import db
from widget_server.models import ProviderAccount, User, Widget

DOMAIN = "shop.example"
NUMBER = "+12025550100"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Outcome:
    """What an interface answered: accepted, or refused naming ``fields`` with ``text``."""

    accepted: bool
    fields: frozenset[str] = frozenset()
    text: str = ""

    def refused_on(self, *names: str) -> bool:
        return not self.accepted and set(names) <= self.fields


def build_tree(app) -> Tree:
    """operator > reseller > client, each with an API key and an owner@<name>.example."""
    return create_tree(app, resellers={"reseller": ("client",)}, keys=True,
                       users=dict.fromkeys(("operator", "reseller", "client"), ("owner",)))


def _widget_form(**overrides) -> dict:
    """The widget form as a person fills it for a new widget."""
    form = {"name": "Shop", "button_label": "Call me back", "button_colour": "#0b6e4f",
            "button_position": "bottom-right", "language": "en",
            "consent_text": "Call me once.", "business_numbers": NUMBER,
            "home_country": "US", "allowed_countries": "", "time_zone": "UTC",
            "outside_hours": "hidden", "provider_account_id": "0"}
    return form | {f"hours_{day}": "" for day in DAYS} | overrides


class Driver:
    """What every interface shares: the app, the tree, names looked up as ids."""

    name = ""

    def __init__(self, app, tree: Tree):
        self.app, self.tree = app, tree

    def provider_id(self, name: str | None) -> int | None:
        if name is None:
            return None
        with self.app.app_context():
            return db.session.scalar(select(ProviderAccount.id).where(
                ProviderAccount.name == name))

    def widget_row(self, public_id: str) -> dict:
        """The stored widget's settings a test compares."""
        with self.app.app_context():
            widget = db.session.scalar(select(Widget).where(Widget.public_id == public_id))
            return {"id": widget.id, "provider_account_id": widget.provider_account_id,
                    "opening_hours": widget.opening_hours,
                    "business_numbers": widget.business_numbers,
                    "promise_text": widget.promise_text}

    def newest_widget(self) -> str | None:
        with self.app.app_context():
            return db.session.scalar(select(Widget.public_id).order_by(Widget.id.desc()))


# --- the command line ------------------------------------------------------------------

# The command line's options, as the services name the fields.
CLI_FIELDS = {"--daily-allowance": "daily_call_cap", "--monthly-allowance": "monthly_call_cap",
              "--daily": "daily_call_cap", "--monthly": "monthly_call_cap",
              "--number": "business_numbers", "--provider": "provider_account_id",
              "--base-url": "base_url", "--name": "name", "--domain": "domains",
              "--kind": "kind", "--from": "test_from", "--to": "test_to",
              "--promise": "promise_text", "--max-widgets": "max_widgets", "--rename": "name"}


class Cli(Driver):
    name = "cli"

    def run(self, *args: str, stdin: str = "") -> Outcome:
        result = self.app.test_cli_runner().invoke(main, list(args), input=stdin)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        if result.exit_code == 0:
            return Outcome(True, text=result.output)
        fields = set()
        for line in result.output.splitlines():
            found = re.match(r"(?:Error: )?(--option |standard input |--)([\w.-]+): ", line)
            if found and found[1] == "--":
                fields.add(CLI_FIELDS.get("--" + found[2], found[2]))
            elif found:
                fields.add(("options." if found[1] == "--option " else "") + found[2])
        return Outcome(False, frozenset(fields), result.output)

    def create_account(self, *, acting: str, name: str, daily: int | None = None,
                       monthly: int | None = None) -> Outcome:
        args = ["account", "create", name, "--parent", acting]
        args += ["--daily-allowance", str(daily)] if daily is not None else []
        args += ["--monthly-allowance", str(monthly)] if monthly is not None else []
        return self.run(*args)

    def set_allowance(self, *, acting: str, account: str, daily: int | None,
                      monthly: int | None) -> Outcome:
        args = ["account", "allowance", account]
        args += ["--daily", str(daily)] if daily is not None else []
        args += ["--monthly", str(monthly)] if monthly is not None else []
        return self.run(*args)

    def change_role(self, *, acting: str, email: str, role: str) -> Outcome:
        return self.run("user", "role", "--email", email, "--role", role)

    def suspend_account(self, *, acting: str, account: str, suspended: bool = True) -> Outcome:
        return self.run("account", "suspend" if suspended else "unsuspend", account)

    def delete_account(self, *, acting: str, account: str) -> Outcome:
        return self.run("account", "delete", account, "--yes")

    def set_limits(self, *, acting: str, account: str, max_widgets: int | None,
                   may_add_providers: bool) -> Outcome:
        return self.run("account", "update", account, "--max-widgets",
                        "none" if max_widgets is None else str(max_widgets),
                        "--providers" if may_add_providers else "--no-providers")

    def add_provider_account(self, *, acting: str, name: str, kind: str,
                             options: dict | None = None, credentials: dict | None = None,
                             base_url: str | None = None) -> Outcome:
        args = ["provider", "add", "--account", acting, "--kind", kind, "--name", name]
        args += ["--base-url", base_url] if base_url else []
        for key, value in (options or {}).items():
            args += ["--option", f"{key}={value}"]
        stdin = "" if credentials is None else json.dumps(credentials)
        return self.run(*args, stdin=stdin)

    def check_provider(self, *, acting: str, name: str, test_from: str = "",
                       test_to: str = "") -> Outcome:
        args = ["provider", "check", "--account", acting, "--name", name]
        args += ["--from", test_from] if test_from else []
        return self.run(*args, *(["--to", test_to] if test_to else []))

    def create_widget(self, *, acting: str, numbers: list[str] = (NUMBER,),
                      provider: str | None = None, promise: str | None = None) -> Outcome:
        args = ["widget", "create", "--account", acting, "--domain", DOMAIN]
        for number in numbers:
            args += ["--number", number]
        args += ["--provider", provider] if provider else []
        args += ["--promise", promise] if promise is not None else []
        return self.run(*args)

    def create_user(self, *, acting: str, email: str, role: str = "member") -> Outcome:
        return self.run("user", "create", "--account", acting, "--email", email,
                        "--role", role)

    def turn_two_factor_off(self, *, acting: str, email: str) -> Outcome:
        return self.run("user", "two-factor-off", "--email", email)


# --- the management API ----------------------------------------------------------------


class Api(Driver):
    name = "api"

    def request(self, method: str, path: str, *, acting: str, **kwargs) -> Outcome:
        response = self.app.test_client().open(
            "/api/v1" + path, method=method, headers={
                "Authorization": f"Bearer {self.tree.keys[acting]}"}, **kwargs)
        body = response.get_json(silent=True) or {}
        if response.status_code < 400:
            return Outcome(True, text=str(body.get("id", "")))
        return Outcome(False, frozenset(body.get("errors") or {}),
                       " ".join([body.get("detail", ""), *(body.get("errors") or {}).values()]))

    def create_account(self, *, acting: str, name: str, daily: int | None = None,
                       monthly: int | None = None) -> Outcome:
        return self.request("POST", "/clients", acting=acting, json={
            "name": name, "daily_call_cap": daily, "monthly_call_cap": monthly})

    def set_allowance(self, *, acting: str, account: str, daily: int | None,
                      monthly: int | None) -> Outcome:
        return self.request("PATCH", f"/clients/{self.tree.ids[account]}", acting=acting,
                            json={"daily_call_cap": daily, "monthly_call_cap": monthly})

    def user_id(self, email: str) -> int:
        with self.app.app_context():
            return db.session.scalar(select(User.id).where(User.email == email))

    def change_role(self, *, acting: str, email: str, role: str) -> Outcome:
        return self.request("PATCH", f"/users/{self.user_id(email)}", acting=acting,
                            json={"role": role})

    def suspend_account(self, *, acting: str, account: str, suspended: bool = True) -> Outcome:
        action = "suspend" if suspended else "unsuspend"
        return self.request("POST", f"/clients/{self.tree.ids[account]}/{action}",
                            acting=acting)

    def delete_account(self, *, acting: str, account: str) -> Outcome:
        return self.request("DELETE", f"/clients/{self.tree.ids[account]}", acting=acting)

    def set_limits(self, *, acting: str, account: str, max_widgets: int | None,
                   may_add_providers: bool) -> Outcome:
        return self.request("PATCH", f"/clients/{self.tree.ids[account]}", acting=acting,
                            json={"max_widgets": max_widgets,
                                  "may_add_providers": may_add_providers})

    def add_provider_account(self, *, acting: str, name: str, kind: str,
                             options: dict | None = None, credentials: dict | None = None,
                             base_url: str | None = None) -> Outcome:
        body = {"name": name, "kind": kind, "options": options or {},
                "credentials": credentials or {}}
        return self.request("POST", "/provider_accounts", acting=acting,
                            json=body | ({"base_url": base_url} if base_url else {}))

    def create_widget(self, *, acting: str, numbers: list[str] = (NUMBER,),
                      provider: str | None = None, promise: str | None = None) -> Outcome:
        return self.request("POST", "/widgets", acting=acting, json={
            "business_numbers": list(numbers), "domains": [DOMAIN],
            "provider_account_id": self.provider_id(provider)} | (
                {"promise_text": promise} if promise is not None else {}))

    def update_widget(self, public_id: str, *, acting: str, **settings) -> Outcome:
        if "provider" in settings:
            settings["provider_account_id"] = self.provider_id(settings.pop("provider"))
        return self.request("PATCH", f"/widgets/{public_id}", acting=acting, json=settings)

    def set_hours(self, public_id: str, *, acting: str, hours: dict) -> Outcome:
        return self.update_widget(public_id, acting=acting, opening_hours=hours)

    def set_widget_options(self, public_id: str, *, acting: str, options: dict) -> Outcome:
        return self.update_widget(public_id, acting=acting, provider_options=options)

    def resave_widget(self, public_id: str, *, acting: str) -> Outcome:
        """Read the widget and send its opening hours back unchanged."""
        response = self.app.test_client().get(
            f"/api/v1/widgets/{public_id}",
            headers={"Authorization": f"Bearer {self.tree.keys[acting]}"})
        assert response.status_code == 200, response.get_json()
        return self.update_widget(public_id, acting=acting,
                                  opening_hours=response.get_json()["opening_hours"])


# --- the admin -------------------------------------------------------------------------


class _FormReader(HTMLParser):
    """The values of the named fields of the form posting to ``action`` (the page's own
    address), as a browser sends them."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.values = action, False, {}
        self._textarea = self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            # A form without an action posts to the page itself, which is ``action`` here.
            self.inside = attrs.get("action", self.action) == self.action
        elif not self.inside or ("name" not in attrs and tag != "option"):
            return
        elif tag == "input" and attrs.get("type") not in ("checkbox", "submit"):
            self.values[attrs["name"]] = attrs.get("value") or ""
        elif tag == "input" and attrs.get("type") == "checkbox" and "checked" in attrs:
            self.values[attrs["name"]] = attrs.get("value") or "y"
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.values[attrs["name"]] = ""
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and self._select and (
                "selected" in attrs or self._select not in self.values):
            self.values[self._select] = attrs.get("value") or ""

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def form_values(page: str, action: str) -> dict:
    reader = _FormReader(action)
    reader.feed(page)
    return {name: value.removeprefix("\n") for name, value in reader.values.items()}


# The admin's form fields, as the services name them.
ADMIN_PREFIXES = {"option_": "options.", "credential_": "credentials.",
                  "hours_": "opening_hours."}
# A widget's own provider options: the same fields, for the widget's settings.
WIDGET_OPTION_PREFIXES = {"option_": "provider_options."}


def _service_field(form_field: str, prefixes: dict[str, str]) -> str:
    for form_prefix, service_prefix in prefixes.items():
        if form_field.startswith(form_prefix):
            return service_prefix + form_field.removeprefix(form_prefix)
    return form_field


class Admin(Driver):
    name = "admin"

    def client(self, acting: str):
        return signed_in(self.app, f"owner@{acting}.example")

    def post(self, path: str, *, acting: str, data: dict,
             prefixes: dict[str, str] = ADMIN_PREFIXES) -> Outcome:
        """Post ``data`` as the browser posts the form (a form read by another session
        carries that session's CSRF token: this one's replaces it)."""
        client = self.client(acting)
        response = admin_post(client, path, **data | {"csrf_token": client.csrf})
        if response.status_code == 302:
            return Outcome(True, text=response.location)
        if response.status_code in (403, 404):  # the error page: no form to name a field in
            return Outcome(False, text=unescape(response.get_data(as_text=True)))
        assert response.status_code in (200, 422), response.status_code
        page = response.get_data(as_text=True)
        if response.status_code == 200 and 'class="field-error"' not in page:
            return Outcome(True, text=page)  # done, and shown on the same page (a check)
        fields = {_service_field(name, prefixes)
                  for name in re.findall(r'id="([\w-]+)-error"', page)}
        sentences = re.findall(r'class="field-error"[^>]*>([^<]*)<', page)
        return Outcome(False, frozenset(fields), unescape(" ".join(sentences)))

    def create_account(self, *, acting: str, name: str, daily: int | None = None,
                       monthly: int | None = None) -> Outcome:
        return self.post("/admin/accounts/new", acting=acting, data={
            "name": name, "parent_id": self.tree.ids[acting], "kind": "client",
            "daily_call_cap": "" if daily is None else daily,
            "monthly_call_cap": "" if monthly is None else monthly})

    def set_allowance(self, *, acting: str, account: str, daily: int | None,
                      monthly: int | None) -> Outcome:
        return self.post(f"/admin/accounts/{self.tree.ids[account]}/allowance", acting=acting,
                         data={"daily_call_cap": "" if daily is None else daily,
                               "monthly_call_cap": "" if monthly is None else monthly})

    def change_role(self, *, acting: str, email: str, role: str) -> Outcome:
        with self.app.app_context():
            user_id = db.session.scalar(select(User.id).where(User.email == email))
        return self.post(f"/admin/users/{user_id}/role", acting=acting, data={"role": role})

    def suspend_account(self, *, acting: str, account: str, suspended: bool = True) -> Outcome:
        action = "suspend" if suspended else "unsuspend"
        return self.post(f"/admin/accounts/{self.tree.ids[account]}/{action}", acting=acting,
                         data={})

    def delete_account(self, *, acting: str, account: str) -> Outcome:
        return self.post(f"/admin/accounts/{self.tree.ids[account]}/delete", acting=acting,
                         data={})

    def set_limits(self, *, acting: str, account: str, max_widgets: int | None,
                   may_add_providers: bool) -> Outcome:
        path = f"/admin/accounts/{self.tree.ids[account]}"
        values = form_values(self.client(acting).get(path).get_data(as_text=True), path)
        values.pop("may_add_providers", None)
        values["max_widgets"] = "" if max_widgets is None else str(max_widgets)
        if may_add_providers:
            values["may_add_providers"] = "y"
        return self.post(path, acting=acting, data=values)

    def add_provider_account(self, *, acting: str, name: str, kind: str,
                             options: dict | None = None, credentials: dict | None = None,
                             base_url: str | None = None) -> Outcome:
        data = {"account_id": self.tree.ids[acting], "name": name, "base_url": base_url or "",
                **{f"option_{key}": value for key, value in (options or {}).items()},
                **{f"credential_{key}": value for key, value in (credentials or {}).items()}}
        return self.post(f"/admin/providers/new?kind={kind}", acting=acting, data=data)

    def check_provider(self, *, acting: str, name: str, test_from: str = "",
                       test_to: str = "") -> Outcome:
        path = f"/admin/providers/{self.provider_id(name)}"
        return self.post(f"{path}/check", acting=acting,
                         data={"test_from": test_from, "test_to": test_to})

    def create_widget(self, *, acting: str, numbers: list[str] = (NUMBER,),
                      provider: str | None = None, promise: str | None = None) -> Outcome:
        return self.post("/admin/widgets/new", acting=acting, data=_widget_form(
            account_id=self.tree.ids[acting], business_numbers="\n".join(numbers),
            provider_account_id=self.provider_id(provider) or 0, promise_text=promise or ""))

    def create_user(self, *, acting: str, email: str, role: str = "member") -> Outcome:
        return self.post("/admin/users/new", acting=acting, data={
            "email": email, "account_id": self.tree.ids[acting], "role": role})

    def turn_two_factor_off(self, *, acting: str, email: str) -> Outcome:
        """A button on the users page: its refusal is a flash on the page it returns to."""
        with self.app.app_context():
            user_id = db.session.scalar(select(User.id).where(User.email == email))
        client = self.client(acting)
        page = client.post(f"/admin/users/{user_id}/two-factor-off", follow_redirects=True,
                           data={"csrf_token": client.csrf}).get_data(as_text=True)
        refusal = re.search(r'class="flash flash-error"[^>]*>([^<]*)<', page)
        return Outcome(refusal is None, text=unescape(refusal[1]) if refusal else page)

    def update_widget(self, public_id: str, *, acting: str, **settings) -> Outcome:
        """Change what ``settings`` name in the edit page's form, the rest as shown."""
        path = f"/admin/widgets/{self.widget_row(public_id)['id']}"
        values = form_values(self.client(acting).get(path).get_data(as_text=True), path)
        if "provider" in settings:
            values["provider_account_id"] = self.provider_id(settings.pop("provider")) or 0
        if "opening_hours" in settings:
            hours = settings.pop("opening_hours")
            values["hours_limited"] = "y"
            values |= {f"hours_{day}": ", ".join(f"{start}-{end}" for start, end in
                                                 hours.get(day, [])) for day in DAYS}
        assert not settings, f"the admin driver does not set {settings}"
        return self.post(path, acting=acting, data=values)

    def set_hours(self, public_id: str, *, acting: str, hours: dict) -> Outcome:
        return self.update_widget(public_id, acting=acting, opening_hours=hours)

    def set_widget_options(self, public_id: str, *, acting: str, options: dict) -> Outcome:
        path = f"/admin/widgets/{self.widget_row(public_id)['id']}"
        values = form_values(self.client(acting).get(path).get_data(as_text=True),
                             f"{path}/provider-options")
        values |= {f"option_{key}": value for key, value in options.items()}
        return self.post(f"{path}/provider-options", acting=acting, data=values,
                         prefixes=WIDGET_OPTION_PREFIXES)

    def resave_widget(self, public_id: str, *, acting: str) -> Outcome:
        """Save the edit page's form as it is shown."""
        return self.update_widget(public_id, acting=acting)


DRIVERS = {driver.name: driver for driver in (Cli, Api, Admin)}


def having(operation: str) -> list[str]:
    """The interfaces that have ``operation``: each drift test runs through all of them."""
    return [name for name, driver in DRIVERS.items() if hasattr(driver, operation)]
