"""Admin: widgets in the caller's subtree — create, edit, pause, delete, preview, snippet.

Roles: everyone signed in reads the widgets of their subtree; owners and
members (``CAN_MANAGE``) create, edit, pause and delete them and manage
their domains and tokens (admin/domains.py); read-only users get 403 on
every change. Objects outside the subtree are 404 for every role, so the
object is looked up before the role is checked.

A widget may use a provider account of its own account or of an account
above it (a reseller's provider serves its clients' widgets): the one rule
is ``provider_accounts.usable_by``.

A widget's own provider options (``Widget.provider_options``) override the
provider account's when a call is placed. Their form is generated from the
``option_fields`` of the provider account's kind (``form_field``, as
admin/providers.py does), every field optional: empty follows the provider
account. They are checked by ``provider_accounts.widget_options``, and a
switch to a provider of another kind drops the options that kind does not take.

The forms read what was typed; services/widgets.py and services/domains.py
check every rule and store, so a setting means here what it means to the API
and the command line.
"""

from __future__ import annotations

import re

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    ColorField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from widget_server.abuse.caps import CEILINGS
from widget_server.admin.auth import CAN_MANAGE, current_account, require_role
from widget_server.admin.providers import form_field
from widget_server.admin.views import (
    account_label,
    ask_first,
    blueprint,
    refusal_sentence,
    select_options,
    show_refusal,
)
from widget_server.extensions import db
from widget_server.i18n import LANGUAGES
from widget_server.i18n import admin_gettext as _
from widget_server.i18n import lazy_admin_gettext as _l
from widget_server.models import Account, ProviderAccount, Widget
from widget_server.providers import PROVIDERS
from widget_server.services import provider_accounts
from widget_server.services import widgets as service
from widget_server.services.actors import check_widget
from widget_server.services.errors import ServiceError, refusals
from widget_server.tenancy import get_scoped, in_subtree, scoped_select

DAYS = (("mon", _l("Monday")), ("tue", _l("Tuesday")), ("wed", _l("Wednesday")),
        ("thu", _l("Thursday")), ("fri", _l("Friday")), ("sat", _l("Saturday")),
        ("sun", _l("Sunday")))
_SPAN = re.compile(
    r"^([01][0-9]|2[0-3]):([0-5][0-9])\s*-\s*([01][0-9]|2[0-3]|24):([0-5][0-9])$")
NO_PROVIDER = 0


def parse_spans(text: str) -> list[list[str]]:
    """``09:00-12:00, 22:00-02:00`` as ``[["09:00","12:00"], ...]``, or ValueError.

    Only the writing is read here; what a range may be (one that closes
    before it opens runs overnight, 24:00 closes at midnight) is the services'
    rule, whose refusals land next to their day (``HOURS_FIELDS``).
    """
    spans = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _SPAN.match(part)
        if not match:
            raise ValueError(_("%(span)s is not a time span like 09:00-17:00.", span=repr(part)))
        spans.append([f"{match[1]}:{match[2]}", f"{match[3]}:{match[4]}"])
    return spans


# The services name a day's hours opening_hours.mon; the form calls it hours_mon.
HOURS_FIELDS = {"opening_hours.": "hours_"}


def _countries(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,]+", text.upper()) if c]


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class WidgetForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)],
                       description=_l("For you; visitors do not see it."))
    button_label = StringField(_l("Button label"), validators=[DataRequired(), Length(max=60)])
    button_colour = ColorField(_l("Button colour"), validators=[DataRequired()])
    button_position = SelectField(_l("Button position"), choices=select_options([
        ("bottom-right", _l("Bottom right")), ("bottom-left", _l("Bottom left"))]))
    language = StringField(
        _l("Language"), validators=[DataRequired()],
        description=_l("The language of the form visitors see: %(languages)s; or auto: the "
                       "visitor's browser language among these, else English.",
                       languages=", ".join(LANGUAGES)))
    consent_text = TextAreaField(_l("Consent text"),
                                 validators=[DataRequired(), Length(max=500)],
                                 description=_l("What visitors agree to before asking for a "
                                                "call."))
    # Its length is the services' rule, in their words (PROMISE_RULE).
    promise_text = StringField(
        _l("Promise"), description=_l("One short line under the form's heading, such as \"We "
                                      "call you back within 30 seconds\", shown as written; "
                                      "empty: none."))
    business_numbers = TextAreaField(
        _l("Business numbers to ring"), validators=[DataRequired()],
        description=_l("One per line in +country format; the first is rung first."))
    home_country = StringField(_l("Home country"), validators=[DataRequired()],
                               description=_l("Two-letter code such as US or GB."))
    allowed_countries = StringField(
        _l("Allowed countries"), description=_l("Visitors' numbers must be from these (codes "
                                                "separated by spaces or commas); empty: the "
                                                "home country only."))
    cap_per_ip = IntegerField(_l("Calls a day per visitor address"),
                              validators=[Optional(), NumberRange(min=0)],
                              description=_l("Empty: the installation's default."))
    cap_per_number = IntegerField(_l("Calls a day per visitor number"),
                                  validators=[Optional(), NumberRange(min=0)],
                                  description=_l("Empty: the installation's default."))
    cap_per_widget = IntegerField(_l("Calls a day on this widget"),
                                  validators=[Optional(), NumberRange(min=0)],
                                  description=_l("Empty: the installation's default."))
    show_on_paths = TextAreaField(
        _l("Show the button only on these pages"),
        description=_l("Page paths, one per line, such as /pricing or /blog/* (* stands for "
                       "any characters); empty: every page. Your own buttons with "
                       "data-widget-server-open work on every page."))
    hide_on_paths = TextAreaField(_l("Never show the button on these pages"),
                                  description=_l("Page paths, one per line, such as "
                                                 "/checkout/*."))
    show_after_seconds = IntegerField(_l("Show the button after (seconds)"), default=0,
                                      validators=[Optional(), NumberRange(min=0)],
                                      description=_l("Time on the page first; 0: at once."))
    show_after_scroll = IntegerField(_l("Show the button after scrolling (percent)"), default=0,
                                     validators=[Optional(), NumberRange(min=0, max=100)],
                                     description=_l("How far down the page the visitor has "
                                                    "scrolled first; 0: at once."))
    hours_limited = BooleanField(_l("Take calls only during opening hours"))
    time_zone = StringField(_l("Time zone"), validators=[DataRequired()],
                            description=_l("The opening hours' zone, such as Europe/London."))
    outside_hours = SelectField(_l("Outside opening hours"), choices=select_options([
        ("hidden", _l("Hide the button")),
        ("callback", _l("Offer a call back at a time the visitor chooses"))]))
    redial_attempts = IntegerField(
        _l("Redials when the business does not answer"),
        validators=[Optional(), NumberRange(min=0, max=5)],
        description=_l("0 to 5; 0: none. Each of the business numbers is tried in order "
                       "first; when the redials are used up, a call-back is booked for the "
                       "next opening if the widget offers call-backs."))
    redial_interval_minutes = IntegerField(
        _l("Minutes between redials"),
        validators=[Optional(), NumberRange(min=1, max=1440)],
        description=_l("Redials wait for opening hours."))
    provider_account_id = SelectField(_l("Provider account"), coerce=int)
    notify_emails = TextAreaField(
        _l("E-mail these addresses"), description=_l("One per line, at most ten; they are "
                                                     "mailed about the events ticked below, in "
                                                     "the widget's language."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.day_fields = [getattr(self, f"hours_{day}") for day, _label in DAYS]
        config = current_app.config
        for field, default in ((self.cap_per_ip, "CAP_PER_IP"),
                               (self.cap_per_number, "CAP_PER_NUMBER")):
            field.description = _(
                "Counted on this widget alone. Empty: the installation's default "
                "(%(default)s); at most %(ceiling)s.", default=config[default],
                ceiling=config[CEILINGS[field.name]])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self.day_fields:
            try:
                field.spans = parse_spans(field.data or "")
            except ValueError as error:
                field.errors = [*field.errors, str(error)]
                valid = False
        return valid

    def settings(self) -> dict:
        """What was typed, as the settings services/widgets.py checks and stores."""
        values = {name: getattr(self, name).data for name in (
            "name", "button_label", "button_colour", "button_position", "language",
            "consent_text", "home_country", "time_zone", "outside_hours", "cap_per_ip",
            "cap_per_number", "cap_per_widget")}
        return values | {
            "promise_text": self.promise_text.data or "",
            "business_numbers": _lines(self.business_numbers.data),
            "allowed_countries": _countries(self.allowed_countries.data or ""),
            "opening_hours": ({day: field.spans for (day, _label), field in
                               zip(DAYS, self.day_fields, strict=True)}
                              if self.hours_limited.data else {}),
            "provider_account_id": self.provider_account_id.data or None,
            **{name: _lines(getattr(self, name).data) for name in service.PATH_RULES},
            **{name: getattr(self, name).data or 0 for name in service.DISPLAY_NUMBERS},
            "notify_emails": _lines(self.notify_emails.data),
            "notify_events": [event for event in service.NOTIFY_EVENTS
                              if getattr(self, f"notify_{event}").data],
        } | {name: getattr(self, name).data
             for name in ("redial_attempts", "redial_interval_minutes")
             if getattr(self, name).data is not None}  # left empty: unchanged

    def load(self, widget: Widget) -> None:
        """Fill the text fields that do not map one to one onto the widget."""
        self.business_numbers.data = "\n".join(widget.business_numbers or [])
        self.allowed_countries.data = " ".join(widget.allowed_countries or [])
        for name in service.PATH_RULES:
            getattr(self, name).data = "\n".join(getattr(widget, name) or [])
        self.hours_limited.data = bool(widget.opening_hours)
        for (day, _label), field in zip(DAYS, self.day_fields, strict=True):
            field.data = ", ".join(f"{a}-{b}" for a, b in (widget.opening_hours or {})
                                   .get(day, []))
        self.provider_account_id.data = widget.provider_account_id or NO_PROVIDER
        self.notify_emails.data = "\n".join(widget.notify_emails or [])
        for event in service.NOTIFY_EVENTS:
            getattr(self, f"notify_{event}").data = event in (widget.notify_events or [])


for _day, _label in DAYS:
    setattr(WidgetForm, f"hours_{_day}", StringField(
        _label, description=_l("Such as 09:00-12:00, 13:00-17:00; 22:00-02:00 runs past "
                               "midnight; empty: closed.")))

# The mail events a widget's recipients may choose, as the admin names them.
NOTIFY_LABELS = {"requested": _l("A new request"), "scheduled": _l("A call-back booked"),
                 "missed": _l("A missed call (the business not reached or no answer)"),
                 "failed": _l("A failed call"), "digest": _l("A digest of each day's calls")}
for _event in service.NOTIFY_EVENTS:
    setattr(WidgetForm, f"notify_{_event}", BooleanField(NOTIFY_LABELS[_event]))


class NewWidgetForm(WidgetForm):
    account_id = SelectField(_l("Account"), coerce=int,
                             description=_l("Whose widget this is: yours or a client's."))


def provider_choices(owner: Account | None, current: ProviderAccount | None = None):
    """The provider accounts ``owner``'s widgets may use (any account the caller may give
    a widget to, for a new one), and the current one."""
    owners = [owner] if owner is not None else db.session.scalars(
        scoped_select(Account, current_account()))
    found = {p.id: p for account in owners for p in provider_accounts.usable_by(account)}
    if current is not None:
        found.setdefault(current.id, current)
    return [(NO_PROVIDER, _("None: the simulator (no real calls)"))] + [
        (p.id, _("%(name)s (%(kind)s, of %(account)s)", name=p.name, kind=p.kind,
                 account=p.account.name))
        for p in sorted(found.values(), key=lambda p: (p.name, p.id))]


def live_widget(widget_id: int) -> Widget:
    """The caller's widget ``widget_id``, not deleted, else 404."""
    widget = get_scoped(Widget, widget_id, current_account())
    if widget.deleted_at is not None:
        abort(404)
    return widget


def require_manager(widget: Widget) -> None:
    """403 unless the services let the signed-in user change ``widget`` (found first: 404)."""
    try:
        check_widget(current_user, widget)
    except ServiceError as error:
        abort(404 if error.kind == "not_found" else 403)


class DomainForm(FlaskForm):
    """An entry for the widget's domain whitelist (admin/domains.py stores it)."""

    pattern = StringField(_l("Domain"), validators=[Length(max=260)],
                          description=_l("example.com, *.example.com or localhost:5000; "
                                         "a name such as bücher.example may be typed as it "
                                         "reads."))


# --- the widget's own provider options ---------------------------------------------

OPTION_PREFIX = "option_"


def provider_kind(provider: ProviderAccount | None) -> str:
    """The kind whose options a widget takes: its provider account's, else the simulator's."""
    return provider.kind if provider is not None else "simulator"


def takes_options(kind: str) -> bool:
    return bool(PROVIDERS[kind].option_fields or PROVIDERS[kind].custom_fields)


def known_options(kind: str, options: dict) -> tuple[dict, list[str]]:
    """``options`` split into those provider ``kind`` declares and the names of the others."""
    cls = PROVIDERS[kind]
    names = {spec.name for spec in cls.option_fields}
    kept = {name: value for name, value in options.items()
            if name in names or (cls.custom_fields and cls.custom_fields.owns(name))}
    return kept, sorted(set(options) - set(kept))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ProviderOptionsForm(FlaskForm):
    """Base of the generated forms: the widget's own options, per provider kind."""

    provider_kind = HiddenField()

    def option_fields(self) -> list:
        return [field for field in self if field.name.startswith(OPTION_PREFIX)]

    def validate_custom(self, field):
        field.pairs = {}
        custom = PROVIDERS[self.provider_kind.data or "simulator"].custom_fields
        if custom is None:  # a kind changed since the page was loaded: refused by the view
            return
        prefix = custom.prefix
        for line in filter(None, (line.strip() for line in (field.data or "").splitlines())):
            name, equals, value = (part.strip() for part in line.partition("="))
            if not equals or not value:
                raise ValidationError(_("Write each custom field as %(prefix)sname=value: "
                                        "%(line)s.", prefix=prefix, line=repr(line)))
            if not name.startswith(prefix):
                raise ValidationError(_("Custom field names start with %(prefix)s: %(name)s.",
                                        prefix=prefix, name=repr(name)))
            if name in field.pairs:
                raise ValidationError(_("%(name)s is given twice.", name=name))
            field.pairs[name] = value

    def values(self) -> dict:
        """The non-empty options, as the widget stores them."""
        options = {field.name.removeprefix(OPTION_PREFIX): field.data
                   for field in self.option_fields() if field.data}
        if "custom" in self:
            options.update(getattr(self.custom, "pairs", {}))
        return options

    def refuse(self, problem: str) -> None:
        """A sentence above the fields."""
        self.form_errors.append(problem)

    def show(self, error: ExceptionGroup) -> None:
        """Each sentence next to the option it names (custom fields under custom)."""
        for each in refusals(error):
            name, message = each.field or "", refusal_sentence(each)
            field = self._fields.get(OPTION_PREFIX + name.removeprefix("provider_options."))
            if field is None and "custom" in self:
                field = self.custom
            if field is not None:
                field.errors = [*field.errors, message]
            else:
                self.form_errors.append(message)


def _account_setting(provider: ProviderAccount | None, visible: bool, name: str) -> str:
    if provider is None or not visible:
        return _("Empty: use the provider account's setting.")
    value = (provider.options or {}).get(name)
    if value in (None, ""):
        return _("Empty: use the provider account's setting (it sets none).")
    return _("Empty: use the provider account's setting, %(value)s.", value=value)


def options_form(widget: Widget, *, posted: bool = False) -> ProviderOptionsForm:
    """The options form of the kind of ``widget``'s provider account.

    Read from the request when ``posted``, else filled with the widget's
    options (also while another form of the page is being posted).

    The hints show the provider account's options (never its credentials), and
    only to callers who may see that provider account.
    """
    provider = widget.provider_account
    kind = provider_kind(provider)
    visible = provider is not None and in_subtree(current_account(), provider.account_id)
    fields = {}
    cls = PROVIDERS[kind]
    for spec in cls.option_fields:
        fields[f"{OPTION_PREFIX}{spec.name}"] = form_field(
            spec, filters=(_strip,), description=f"{spec.describe()}. "
            f"{_account_setting(provider, visible, spec.name)}".lstrip(". "))
    custom = cls.custom_fields
    if custom is not None:
        inherited = ", ".join(f"{name}={value}" for name, value in sorted(
            (provider.options or {}).items()) if custom.owns(name)
        ) if visible and provider is not None else ""
        fields["custom"] = TextAreaField(
            custom.label, description=_(
                "One per line as %(prefix)sname=value, sent with each call beside the provider "
                "account's (a name given here replaces its value there).",
                prefix=custom.prefix) + " " + (
                _("Empty: the provider account's only, %(inherited)s.", inherited=inherited)
                if inherited else _("Empty: the provider account's only.")))
    form_class = type("WidgetProviderOptionsForm", (ProviderOptionsForm,), fields)
    if posted:
        return form_class()
    current = widget.provider_options or {}
    return form_class(formdata=None, data={
        "provider_kind": kind,
        "custom": "\n".join(f"{name}={value}" for name, value in current.items()
                            if custom is not None and custom.owns(name)),
        **{f"{OPTION_PREFIX}{name}": str(value).lower() if isinstance(value, bool) else value
           for name, value in current.items() if custom is None or not custom.owns(name)}})


def options_after_switch(widget: Widget, provider_id: int | None) -> tuple[dict, list[str]]:
    """The widget's options that the chosen provider's kind takes, and the names it drops.

    ``provider_id`` is one of the form's choices; services/widgets.py decides
    whether the widget may use it and checks the options kept.
    """
    provider = db.session.get(ProviderAccount, provider_id) if provider_id else None
    kind = provider_kind(provider)
    if kind == provider_kind(widget.provider_account) or not widget.provider_options:
        return widget.provider_options or {}, []
    return known_options(kind, widget.provider_options)


def render_widget(widget: Widget, form: WidgetForm | None = None,
                  domain_form: DomainForm | None = None, status: int = 200,
                  provider_options_form: ProviderOptionsForm | None = None):
    """The widget's page: settings, provider options, preview, snippet, domains and token."""
    if form is None:
        form = WidgetForm(obj=widget)
        form.load(widget)
    form.provider_account_id.choices = select_options(
        provider_choices(widget.account, widget.provider_account))
    kind = provider_kind(widget.provider_account)
    if provider_options_form is None and takes_options(kind):
        provider_options_form = options_form(widget)
    return render_template(
        "admin/widgets/edit.html", widget=widget, form=form,
        domain_form=domain_form or DomainForm(), days=DAYS,
        options_form=provider_options_form,
        provider_label=PROVIDERS[kind].label or kind,
        snippet=service.embed_snippet(widget, request.host_url),
        can_manage=current_user.role in CAN_MANAGE), status


@blueprint.get("/widgets")
@login_required
def widgets():
    rows = db.session.scalars(scoped_select(Widget, current_account())
                              .where(Widget.deleted_at.is_(None)).order_by(Widget.name))
    return render_template("admin/widgets/list.html", widgets=list(rows),
                           can_manage=current_user.role in CAN_MANAGE)


@blueprint.route("/widgets/new", methods=["GET", "POST"])
@require_role(CAN_MANAGE)
def widget_new():
    caller = current_account()
    form = NewWidgetForm(obj=Widget(name="Call me back", button_label="Call me back",
                                    button_colour="#0b6e4f", language="en", time_zone="UTC",
                                    home_country="US", redial_attempts=0,
                                    redial_interval_minutes=10,
                                    consent_text=Widget.__table__.c.consent_text.default.arg))
    accounts = list(db.session.scalars(scoped_select(Account, caller).order_by(Account.name)))
    form.account_id.choices = select_options((a.id, account_label(a)) for a in accounts)
    form.provider_account_id.choices = select_options(provider_choices(None))
    if form.validate_on_submit():
        try:
            widget = service.create_widget(current_user, account_id=form.account_id.data,
                                           settings=form.settings())
        except (ServiceError, ExceptionGroup) as error:
            show_refusal(form, error, HOURS_FIELDS)
        else:
            flash(_("Widget %(name)s created for %(account)s. Add the domains it may be "
                    "embedded on, then copy the snippet.", name=widget.name,
                    account=widget.account.name), "success")
            return redirect(url_for("admin.widget_edit", widget_id=widget.id))
    return render_template("admin/widgets/new.html", form=form, days=DAYS), (
        422 if request.method == "POST" else 200)


@blueprint.route("/widgets/<int(max=2147483647):widget_id>", methods=["GET", "POST"])
@login_required
def widget_edit(widget_id: int):
    widget = live_widget(widget_id)
    if request.method != "POST":
        return render_widget(widget)
    require_manager(widget)
    form = WidgetForm()
    form.provider_account_id.choices = select_options(
        provider_choices(widget.account, widget.provider_account))
    if form.validate_on_submit():
        settings = form.settings()
        kept, dropped = options_after_switch(widget, settings["provider_account_id"])
        if dropped:
            settings["provider_options"] = kept
        try:
            service.update_widget(current_user, widget, settings)
        except (ServiceError, ExceptionGroup) as error:
            db.session.rollback()
            show_refusal(form, _options_at_provider(error, widget, settings), HOURS_FIELDS)
        else:
            flash(_("Widget %(name)s saved.", name=widget.name), "success")
            if dropped:
                flash(_("Provider options %(names)s dropped: %(kind)s does not take them.",
                        names=", ".join(dropped), kind=provider_kind(widget.provider_account)),
                      "info")
            return redirect(url_for("admin.widget_edit", widget_id=widget.id))
    return render_widget(widget, form, status=422)


def _options_at_provider(error: ServiceError | ExceptionGroup, widget: Widget,
                         settings: dict) -> ServiceError | ExceptionGroup:
    """The widget's own options refused for a new provider: said next to the provider,
    which is what was changed, with where to change them."""
    errors = list(error.exceptions) if isinstance(error, ExceptionGroup) else [error]
    kind = provider_kind(db.session.get(ProviderAccount, settings["provider_account_id"])
                         if settings["provider_account_id"] else None)
    moved = [ServiceError(_("This widget's own provider options do not suit %(kind)s: "
                            "%(reason)s Change them under Provider options for this widget "
                            "first.", kind=kind, reason=refusal_sentence(each)),
                          "provider_account_id")
             if isinstance(each, ServiceError) and (each.field or "").partition(".")[0]
             == "provider_options" else each
             for each in errors]
    return ExceptionGroup(str(error), moved)


@blueprint.post("/widgets/<int(max=2147483647):widget_id>/provider-options")
@login_required
def widget_provider_options(widget_id: int):
    """Store the widget's own provider options: the non-empty fields, checked as the API does."""
    widget = live_widget(widget_id)
    require_manager(widget)
    kind = provider_kind(widget.provider_account)
    form = options_form(widget, posted=True)
    if form.validate_on_submit():
        if form.provider_kind.data != kind:
            fresh = options_form(widget)
            fresh.refuse(_("This widget's provider changed to %(kind)s since the page was "
                           "loaded: check the fields below and save again.", kind=kind))
            return render_widget(widget, provider_options_form=fresh)
        options = form.values()
        _kept, dropped = known_options(kind, widget.provider_options or {})
        try:
            service.update_widget(current_user, widget, {"provider_options": options})
        except ExceptionGroup as group:
            db.session.rollback()
            form.show(group)
        else:
            flash(_("Provider options of %(name)s saved.", name=widget.name) if options else
                  _("Provider options of %(name)s cleared: the provider account's settings "
                    "apply.", name=widget.name), "success")
            if dropped:
                flash(_("Provider options %(names)s dropped: %(kind)s does not take them.",
                        names=", ".join(dropped), kind=kind), "info")
            return redirect(url_for("admin.widget_edit", widget_id=widget.id,
                                    _anchor="provider-options"))
    return render_widget(widget, provider_options_form=form)


def _act(widget_id: int, operation, done: str, anchor: str | None = None):
    """Run a one-click ``operation`` of services/widgets.py on the widget, and say so."""
    widget = live_widget(widget_id)
    try:
        operation(current_user, widget)
    except ServiceError as error:
        abort(404 if error.kind == "not_found" else 403)
    flash(done % {"name": widget.name}, "success")
    return redirect(url_for("admin.widget_edit", widget_id=widget.id, _anchor=anchor))


@blueprint.route("/widgets/<int(max=2147483647):widget_id>/pause", methods=["GET", "POST"])
@login_required
def widget_pause(widget_id: int):
    widget = live_widget(widget_id)
    require_manager(widget)
    page = ask_first(
        title=_("Pause %(name)s?", name=widget.name),
        consequences=[_("Its button disappears from every site it is on; visitors can no "
                        "longer ask for a call-back."),
                      _("Its settings, snippet and calls stay: resuming shows it again.")],
        button=_("Pause %(name)s", name=widget.name), style="secondary",
        back=url_for("admin.widget_edit", widget_id=widget.id))
    if page:
        return page
    return _act(widget_id, lambda user, widget: service.set_paused(user, widget, True),
                _("Widget %(name)s paused: the button no longer shows."))


@blueprint.post("/widgets/<int(max=2147483647):widget_id>/resume")
@login_required
def widget_resume(widget_id: int):
    return _act(widget_id, lambda user, widget: service.set_paused(user, widget, False),
                _("Widget %(name)s resumed."))


@blueprint.route("/widgets/<int(max=2147483647):widget_id>/delete", methods=["GET", "POST"])
@login_required
def widget_delete(widget_id: int):
    widget = live_widget(widget_id)
    require_manager(widget)
    page = ask_first(
        title=_("Delete %(name)s?", name=widget.name),
        consequences=[_("Its snippet stops working for good on every site it is on: "
                        "visitors read that the widget was removed."),
                      _("Its calls stay in the reports and the usage."),
                      _("This cannot be undone: a new widget gets a new snippet.")],
        button=_("Delete %(name)s", name=widget.name),
        back=url_for("admin.widget_edit", widget_id=widget.id))
    if page:
        return page
    try:
        service.delete_widget(current_user, widget)
    except ServiceError as error:
        abort(404 if error.kind == "not_found" else 403)
    flash(_("Widget %(name)s deleted: its snippet no longer works; its calls stay in the "
            "reports.", name=widget.name), "success")
    return redirect(url_for("admin.widgets"))


@blueprint.route("/widgets/<int(max=2147483647):widget_id>/rotate-token",
                 methods=["GET", "POST"])
@login_required
def widget_rotate_token(widget_id: int):
    widget = live_widget(widget_id)
    require_manager(widget)
    page = ask_first(
        title=_("Issue a new token for %(name)s?", name=widget.name),
        consequences=[_("The snippet on your sites stops working at once: the button "
                        "disappears until you paste the new snippet there."),
                      _("Its settings and calls stay as they are.")],
        button=_("Issue a new token"), style="secondary",
        back=url_for("admin.widget_edit", widget_id=widget.id, _anchor="snippet"))
    if page:
        return page
    return _act(widget_id, service.rotate_token,
                _("New token issued: the old snippet has stopped working. Replace it on your "
                  "site with the one below."), anchor="snippet")

