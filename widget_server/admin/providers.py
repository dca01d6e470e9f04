"""Admin: provider accounts of the caller's subtree — add, check, rotate credentials, delete.

Roles: everyone signed in sees the provider accounts of their subtree (name,
kind, address, options: never credentials); only owners add, edit, check,
rotate or delete them, since they hold the money-spending credentials and a
check may place a real test call. Members manage widgets and may pick a
provider account for one (admin/widgets.py).

Credentials are write-only: their fields are always rendered empty, secret
ones as password inputs, and nothing decrypted ever reaches a page. The
forms are generated from each adapter's declared ``credential_fields`` and
``option_fields`` (``form_field``); every rule is checked by
services/provider_accounts.py, whose errors land next to their fields.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import Optional

from widget_server.admin.auth import CAN_ADMINISTER, current_account, require_role
from widget_server.admin.views import (
    account_label,
    ask_first,
    blueprint,
    refusal_sentence,
    select_options,
    show_refusal,
)
from widget_server.extensions import db
from widget_server.i18n import admin_gettext as _
from widget_server.i18n import lazy_admin_gettext as _l
from widget_server.models import Account, ProviderAccount
from widget_server.providers import PROVIDERS
from widget_server.providers.base import exchange_line
from widget_server.providers.options import Field
from widget_server.services import provider_accounts
from widget_server.services.errors import ServiceError
from widget_server.tenancy import get_scoped, scoped_select

# How a service names a field -> the prefix of its form field here.
_PREFIXES = {"credentials.": "credential_", "options.": "option_"}


def form_field(spec: Field, *, description: str | None = None, filters: tuple = ()):
    """A form field for a declared credential or option: a choice list where it has
    choices or is a yes/no, a password input for a secret, text otherwise. The
    form checks nothing itself: the service checks every value at once."""
    description = spec.describe() if description is None else description
    if spec.choices or spec.type is bool:
        values = spec.choices or ("true", "false")
        return SelectField(spec.label, description=description, validate_choice=False,
                           choices=select_options([("", "—"), *((v, v) for v in values)]))
    field_class = PasswordField if spec.secret else StringField
    return field_class(spec.label, description=description, filters=filters)


def _base_url_field(cls):
    hint = (_l("Empty: %(url)s.", url=cls.default_base_url) if cls.default_base_url
            else _l("Required: this provider is white-label, give the reseller's own address."))
    return StringField(_l("Base URL"), description=hint)


def _fields(cls, *, credentials: bool, options: bool, base_url: bool) -> dict:
    fields = {}
    if base_url and cls.takes_base_url:
        fields["base_url"] = _base_url_field(cls)
    for spec in cls.credential_fields if credentials else ():
        fields[f"credential_{spec.name}"] = form_field(spec)
    for spec in cls.option_fields if options else ():
        fields[f"option_{spec.name}"] = form_field(spec)
    return fields


class ProviderForm(FlaskForm):
    """Base of the generated forms: reads the credentials and options back out."""

    def values(self, prefix: str) -> dict:
        return {field.name.removeprefix(prefix): field.data for field in self
                if field.name.startswith(prefix) and field.data}

    def base_url_value(self) -> str | None:
        return self.base_url.data or None if "base_url" in self else None


def add_form(cls) -> ProviderForm:
    fields = {
        "account_id": SelectField(_l("Account"), coerce=int,
                                  description=_l("Whose provider account this is; a reseller's "
                                                 "serves its clients' widgets too.")),
        "name": StringField(_l("Name")),
        **_fields(cls, credentials=True, options=True, base_url=True)}
    return type("AddProviderForm", (ProviderForm,), fields)()


def settings_form(cls, provider: ProviderAccount | None = None) -> ProviderForm:
    form_class = type("ProviderSettingsForm", (ProviderForm,),
                      _fields(cls, credentials=False, options=True, base_url=True))
    if provider is None or request.method == "POST":
        return form_class()
    return form_class(data={"base_url": provider.base_url or "", **{
        f"option_{name}": _shown(value) for name, value in (provider.options or {}).items()}})


def _shown(value: object) -> str:
    """A stored option as its form field holds it (booleans as the choice list spells them)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def credentials_form(cls) -> ProviderForm:
    return type("CredentialsForm", (ProviderForm,),
                _fields(cls, credentials=True, options=False, base_url=False))()


class CheckForm(FlaskForm):
    """The test call's numbers as typed: services/provider_accounts.check reads them."""

    test_from = StringField(_l("Number rung first (optional)"), validators=[Optional()],
                            description=_l("A test call rings this number, then the next. "
                                           "Leave both empty to check the credentials only, "
                                           "where the provider allows."))
    test_to = StringField(_l("Number rung second (optional)"), validators=[Optional()])


class CheckReport:
    """Collects what a check did, as lines; the adapter has already redacted it."""

    def __init__(self):
        self.lines: list[str] = []

    def progress(self, status, reason=None, **detail):
        self.lines.append(status + (f" ({reason})" if reason else ""))

    def exchange(self, **evidence):
        self.lines.append(exchange_line(evidence))

    def provider_call_id(self, value):
        self.lines.append(f"provider call id {value}")

    def provider_report(self, **figures):
        self.lines.append(f"report {figures}")


def _provider(provider_id: int) -> ProviderAccount:
    return get_scoped(ProviderAccount, provider_id, current_account())


def _require_owner() -> None:
    """403 for members and read-only users; called after the object is found."""
    if current_user.role not in CAN_ADMINISTER:
        abort(403)


def _render(provider: ProviderAccount, *, settings=None, rotate=None, check=None,
            result=None, status: int = 200):
    cls = PROVIDERS[provider.kind]
    return render_template(
        "admin/providers/detail.html", provider=provider, cls=cls,
        settings_form=settings or settings_form(cls, provider),
        rotate_form=rotate or credentials_form(cls), check_form=check or CheckForm(),
        result=result, used_by=provider_accounts.widgets_using(provider),
        can_administer=current_user.role in CAN_ADMINISTER), status


@blueprint.get("/providers")
@login_required
def providers():
    rows = db.session.scalars(scoped_select(ProviderAccount, current_account())
                              .order_by(ProviderAccount.name))
    return render_template("admin/providers/list.html", providers=list(rows),
                           kinds=PROVIDERS, can_administer=current_user.role in CAN_ADMINISTER)


@blueprint.route("/providers/new", methods=["GET", "POST"])
@require_role(CAN_ADMINISTER)
def provider_new():
    kind = request.args.get("kind", "")
    if kind not in PROVIDERS:
        return render_template("admin/providers/kind.html", kinds=PROVIDERS)
    cls = PROVIDERS[kind]
    caller = current_account()
    form = add_form(cls)
    form.account_id.choices = select_options(
        (a.id, account_label(a))
        for a in db.session.scalars(scoped_select(Account, caller).order_by(Account.name)))
    if form.validate_on_submit():
        owner = get_scoped(Account, form.account_id.data, caller)
        try:
            created = provider_accounts.add(
                current_user, owner=owner, name=form.name.data, kind=kind,
                base_url=form.base_url_value(), credentials=form.values("credential_"),
                options=form.values("option_"))
        except (ServiceError, ExceptionGroup) as error:
            if isinstance(error, ServiceError) and error.field == "may_add_providers":
                # The parent's decision, not the caller's role: said, not a bare 403.
                form.form_errors.append(refusal_sentence(error))
            else:
                show_refusal(form, error, _PREFIXES)
        else:
            flash(_("Provider account %(name)s added to %(account)s. Check it below.",
                    name=created.name, account=owner.name), "success")
            return redirect(url_for("admin.provider_detail", provider_id=created.id))
    return render_template("admin/providers/new.html", form=form, cls=cls)


@blueprint.route("/providers/<int(max=2147483647):provider_id>", methods=["GET", "POST"])
@login_required
def provider_detail(provider_id: int):
    provider = _provider(provider_id)
    if request.method != "POST":
        return _render(provider)
    _require_owner()
    form = settings_form(PROVIDERS[provider.kind])
    if form.validate_on_submit():
        try:
            provider_accounts.update(current_user, provider, base_url=form.base_url_value(),
                                     options=form.values("option_"))
        except (ServiceError, ExceptionGroup) as error:
            db.session.rollback()
            show_refusal(form, error, _PREFIXES)
        else:
            flash(_("Settings of %(name)s saved.", name=provider.name), "success")
            return redirect(url_for("admin.provider_detail", provider_id=provider.id))
    return _render(provider, settings=form)


@blueprint.post("/providers/<int(max=2147483647):provider_id>/credentials")
@login_required
def provider_rotate(provider_id: int):
    provider = _provider(provider_id)
    _require_owner()
    form = credentials_form(PROVIDERS[provider.kind])
    if form.validate_on_submit():
        try:
            provider_accounts.rotate_credentials(current_user, provider,
                                                 form.values("credential_"))
        except (ServiceError, ExceptionGroup) as error:
            show_refusal(form, error, _PREFIXES)
        else:
            flash(_("New credentials of %(name)s saved; the old ones are gone.",
                    name=provider.name), "success")
            return redirect(url_for("admin.provider_detail", provider_id=provider.id))
    return _render(provider, rotate=form)


@blueprint.post("/providers/<int(max=2147483647):provider_id>/check")
@login_required
def provider_check(provider_id: int):
    provider = _provider(provider_id)
    _require_owner()
    form = CheckForm()
    if not form.validate_on_submit():
        return _render(provider, check=form)
    report = CheckReport()
    try:
        found = provider_accounts.check(current_user, provider, report,
                                        test_from=form.test_from.data,
                                        test_to=form.test_to.data)
        sentence, ok, checked = found.sentence, True, found.checked
    except ExceptionGroup as group:
        show_refusal(form, group)
        return _render(provider, check=form, status=422)
    except ServiceError as error:
        if error.field:
            show_refusal(form, error)
            return _render(provider, check=form, status=422)
        sentence, ok, checked = refusal_sentence(error), False, True
    return _render(provider, check=form, result={"ok": ok, "checked": checked,
                                                 "sentence": sentence, "lines": report.lines})


@blueprint.route("/providers/<int(max=2147483647):provider_id>/delete", methods=["GET", "POST"])
@login_required
def provider_delete(provider_id: int):
    provider = _provider(provider_id)
    _require_owner()
    serving = provider_accounts.widgets_using(provider)
    page = ask_first(
        title=_("Delete the provider account %(name)s?", name=provider.name),
        consequences=[_("Its credentials are deleted; nothing calls through it any more."),
                      _("The calls placed through it stay in the reports.")],
        button=_("Delete %(name)s", name=provider.name),
        back=url_for("admin.provider_detail", provider_id=provider.id),
        refusal=_("It still serves %(widgets)s: give them another provider first.",
                  widgets=", ".join(widget.name for widget in serving)) if serving else None)
    if page:
        return page
    try:
        provider_accounts.delete(current_user, provider)
    except ServiceError as error:
        flash(refusal_sentence(error), "error")
        return redirect(url_for("admin.provider_detail", provider_id=provider.id))
    flash(_("Provider account %(name)s deleted.", name=provider.name), "success")
    return redirect(url_for("admin.providers"))
