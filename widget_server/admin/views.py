"""Admin pages: sign-in, and the dashboard the other admin pages hang from."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

# types-WTForms 3.2 lacks SelectChoice, which WTForms 3.2 has.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]

from widget_server import reports
from widget_server.abuse.client_ip import client_ip_key
from widget_server.admin.auth import (
    begin_second_factor,
    current_account,
    end_second_factor,
    is_known_device,
    password_matches,
    remember_device,
    remembered_for_second_factor,
)
from widget_server.admin.refusal_reasons import REASON_LABELS
from widget_server.extensions import db, limiter
from widget_server.i18n import admin_gettext as _
from widget_server.i18n import lazy_admin_gettext as _l
from widget_server.models import User, utcnow
from widget_server.services.accounts import suspended_in_lineage
from widget_server.services.brands import may_sign_in_on
from widget_server.services.errors import ServiceError, refusals
from widget_server.services.users import end_sessions, request_password_reset

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


def select_options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as a select field's choices (WTForms 3.3 deprecates tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]


# How the admin names each kind of account; the services and the API use the keys.
ACCOUNT_KINDS = {"operator": _l("operator"), "reseller": _l("reseller"), "client": _l("client")}


def account_label(account) -> str:
    """An account as a choice in a list: its name and, in the reader's words, its kind."""
    return _("%(name)s (%(kind)s)", name=account.name,
             kind=ACCOUNT_KINDS.get(account.kind, account.kind))


def refusal_sentence(error: ServiceError) -> str:
    """A service's sentence in the admin's language: the services write English for the
    API and the command line; the admin's catalogue has their sentences, values as
    placeholders (one still built as an f-string is not in it, and stays English)."""
    return _(error.template, **error.params)


def show_refusal(form, error: ServiceError | ExceptionGroup,
                 prefixes: dict[str, str] | None = None) -> None:
    """A refusal of the services on the page: each sentence next to the field it names,
    else above the form; 404 and 403 as such. A fault in the group is re-raised.

    ``prefixes`` renames the services' dotted fields as the form's: ``options.x`` to
    ``option_x`` with ``{"options.": "option_"}``.
    """
    errors = refusals(error)
    for each in errors:
        if each.kind in ("not_found", "forbidden"):
            abort(404 if each.kind == "not_found" else 403)
    for each in errors:
        name = each.field
        for service_prefix, form_prefix in (prefixes or {}).items():
            if name and name.startswith(service_prefix):
                name = form_prefix + name.removeprefix(service_prefix)
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, refusal_sentence(each)]
        else:
            form.form_errors.append(refusal_sentence(each))


def ask_first(*, title: str, consequences: list[str], button: str, back: str,
              style: str = "danger", refusal: str | None = None):
    """A destructive action's confirmation page on GET, else None (the POST acts).

    Every destructive admin action is routed for GET and POST: its button
    (``confirm_button`` in _forms.html) opens this page, which says what will
    happen, and only its form posts, with the CSRF token. ``refusal``: why it
    cannot be done now (nothing to confirm).
    """
    if request.method == "POST":
        return None
    return render_template("admin/confirm.html", title=title, consequences=consequences,
                           button=button, back=back, style=style, refusal=refusal)


MAX_PAGE = 100_000


def page_number() -> int:
    """``?page=`` of a list: 1 when absent, else a whole number up to ``MAX_PAGE`` (or 400)."""
    raw = request.args.get("page", "") or "1"
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6 and 1 <= int(raw) <= MAX_PAGE):
        abort(400, description=_("The page number must be a whole number from 1 to %(top)s.",
                                 top=MAX_PAGE))
    return int(raw)


def _submitted_email() -> str:
    return (request.form.get("email") or "").strip().lower()


def _email_key() -> str:
    return "sign-in-email:" + _submitted_email()


def _email_and_address_key() -> str:
    return f"sign-in-email-address:{_submitted_email()}|{client_ip_key()}"


def _submitted_user() -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == _submitted_email()))


def _from_known_device() -> bool:
    return is_known_device(_submitted_user())


def _failed(response) -> bool:
    return response.status_code != 302


# Failures are counted per email and address: guessing from one address locks that
# address out of that account, not the account's owner signing in from elsewhere.
# A slower count per email, whatever the address, bounds guessing from many addresses;
# a browser the user signed in from before is exempt from it (not from the first), so
# guessing from many addresses cannot lock the owner out of their own browser.
@blueprint.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
@limiter.limit(lambda: current_app.config["LIMIT_SIGN_IN_FAILURES_PER_ADDRESS"],
               methods=["POST"], key_func=_email_and_address_key, deduct_when=_failed)
@limiter.limit(lambda: current_app.config["LIMIT_SIGN_IN_FAILURES_PER_EMAIL"],
               methods=["POST"], key_func=_email_key, deduct_when=_failed,
               exempt_when=_from_known_device)
def sign_in():
    if request.method == "POST":
        user = _submitted_user()
        # Unknown emails are checked too (against a dummy hash): as slow as a known one.
        # A brand's host name signs in only that brand's people (services/brands.py).
        if (password_matches(user, request.form.get("password") or "")
                and may_sign_in_on(request.host, user.account)):
            suspended = suspended_in_lineage(user.account)
            if suspended is not None:
                # Told only to someone who knows the password: they need to know whom to ask.
                flash(_("%(account)s is suspended, so nobody of %(own)s can sign in; ask "
                        "the account above it to lift the suspension.",
                        account=suspended.name, own=user.account.name), "error")
                return render_template("admin/sign_in.html"), 403
            logout_user()
            end_second_factor()
            if user.totp_enabled and not remembered_for_second_factor(user):
                # Half signed in: nothing but the code page until the code is right.
                begin_second_factor(user)
                response = redirect(url_for("admin.sign_in_code"))
            else:
                login_user(user)
                response = redirect(url_for("admin.dashboard"))
            remember_device(response, user)
            return response
        flash(_("That email and password do not match an account."), "error")
    return render_template("admin/sign_in.html")


def _reset_email_key() -> str:
    return "password-reset-email:" + _submitted_email()


# Asked for often, it would mail someone over and over: limited per address and per
# email, alike for an email with an account and one without.
@blueprint.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
@limiter.limit(lambda: current_app.config["LIMIT_PASSWORD_RESETS_PER_EMAIL"],
               methods=["POST"], key_func=_reset_email_key)
def forgot_password():
    """Ask for a reset mail. The answer never tells whether the address has an account:
    the same redirect and page for every address, the lookup done by the queue."""
    if request.method == "POST":
        request_password_reset(_submitted_email())
        return redirect(url_for("admin.forgot_password_sent"))
    return render_template("admin/forgot_password.html")


@blueprint.get("/forgot-password/sent")
def forgot_password_sent():
    return render_template("admin/forgot_password_sent.html")


@blueprint.post("/sign-out")
@login_required
def sign_out():
    """Sign out everywhere: every session of this user ends, copies of the cookie too."""
    end_sessions(current_user._get_current_object())
    db.session.commit()
    logout_user()
    end_second_factor()
    return redirect(url_for("admin.sign_in"))


@blueprint.get("/")
@login_required
def dashboard():
    """The subtree's figures, each linking to the report (and filters) it counts."""
    account = current_account()
    return render_template("admin/dashboard.html", account=account, user=current_user,
                           figures=reports.dashboard(account, utcnow()),
                           reason_labels=REASON_LABELS)
