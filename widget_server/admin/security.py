"""Admin: the second step of signing in, and each person's two-factor settings.

After a right password, a user with two-factor sign-in on is half signed in
(admin/auth.py): only the code page answers, limited per user like the
password. The security page turns TOTP on (QR code and secret, confirmed by a
code, then ten recovery codes shown once) and off (with the password), makes
new recovery codes, forgets remembered browsers, and lets an owner require
two-factor sign-in in their account's subtree. Where it is required, a user
without it is sent to the security page from every other page until enrolled.
The rules are services/two_factor.py's.
"""

from __future__ import annotations

import segno
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user
from markupsafe import Markup

from widget_server.abuse.client_ip import client_ip_key
from widget_server.admin.auth import (
    CAN_ADMINISTER,
    end_second_factor,
    is_known_device,
    pending_user,
    set_device_cookie,
)
from widget_server.admin.views import blueprint, refusal_sentence
from widget_server.extensions import limiter
from widget_server.i18n import admin_gettext as _
from widget_server.services import two_factor
from widget_server.services.errors import ServiceError

# What a user who must enrol may still reach.
_ENROLMENT_ENDPOINTS = frozenset({"admin.security", "admin.security_enrol",
                                  "admin.security_confirm", "admin.sign_out",
                                  "admin.sign_in", "admin.sign_in_code"})


@blueprint.before_request
def send_to_enrolment():
    """A user whose account requires two-factor sign-in, without it: enrol first."""
    if (current_user.is_authenticated and not current_user.totp_enabled
            and request.endpoint not in _ENROLMENT_ENDPOINTS
            and two_factor.required_for(current_user)):
        return redirect(url_for("admin.security"))  # which says why
    return None


def _pending_key() -> str:
    user = pending_user()
    return f"two-factor:{user.id if user else 0}"


def _pending_and_address_key() -> str:
    return f"{_pending_key()}|{client_ip_key()}"


def _from_known_device() -> bool:
    return is_known_device(pending_user())


def _failed(response) -> bool:
    return response.status_code != 302


def _no_store(response):
    """A page showing a secret or recovery codes stays out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
@limiter.limit(lambda: current_app.config["LIMIT_TWO_FACTOR_FAILURES_PER_ADDRESS"],
               methods=["POST"], key_func=_pending_and_address_key, deduct_when=_failed)
@limiter.limit(lambda: current_app.config["LIMIT_TWO_FACTOR_FAILURES_PER_USER"],
               methods=["POST"], key_func=_pending_key, deduct_when=_failed,
               exempt_when=_from_known_device)
def sign_in_code():
    user = pending_user()
    if user is None:
        flash(_("Sign in with your password first."), "error")
        return redirect(url_for("admin.sign_in"))
    if request.method == "POST":
        if two_factor.verify(user, request.form.get("code") or ""):
            end_second_factor()
            login_user(user)
            response = redirect(url_for("admin.dashboard"))
            if request.form.get("remember"):
                set_device_cookie(response, user, two_factor.remember_device(user))
            return response
        flash(_("That code is not right, or was used already."), "error")
    return render_template("admin/sign_in_code.html", days=two_factor.REMEMBER_DAYS)


def _security_page(**context):
    user = current_user._get_current_object()
    return _no_store(current_app.make_response(render_template(
        "admin/security.html", user=user, required=two_factor.required_for(user),
        unused_codes=two_factor.unused_recovery_codes(user) if user.totp_enabled else 0,
        can_require=user.role in CAN_ADMINISTER, account=user.account, **context)))


@blueprint.get("/security")
@login_required
def security():
    return _security_page()


def _enrolment_page(secret: str, error: str | None = None):
    user = current_user._get_current_object()
    uri = two_factor.provisioning_uri(user, secret)
    # segno writes the SVG itself (no user text but the e-mail, which it encodes as modules).
    qr = Markup(segno.make(uri, error="m").svg_inline(scale=5, title=_("QR code")))
    return _no_store(current_app.make_response(render_template(
        "admin/security_enrol.html", qr=qr, secret=secret, error=error)))


@blueprint.post("/security/enrol")
@login_required
def security_enrol():
    try:
        secret = two_factor.begin_enrolment(current_user._get_current_object())
    except ServiceError as error:
        flash(refusal_sentence(error), "error")
        return redirect(url_for("admin.security"))
    return _enrolment_page(secret)


@blueprint.post("/security/confirm")
@login_required
@limiter.limit("10/minute")
def security_confirm():
    user = current_user._get_current_object()
    try:
        codes = two_factor.confirm_enrolment(user, request.form.get("code") or "")
    except ServiceError as error:
        if error.field != "code" or not user.totp_secret_encrypted:
            flash(refusal_sentence(error), "error")
            return redirect(url_for("admin.security"))
        return _enrolment_page(two_factor.secret_of(user), refusal_sentence(error))
    flash(_("Two-factor sign-in is on."), "success")
    return _no_store(current_app.make_response(render_template(
        "admin/security_codes.html", codes=codes)))


@blueprint.post("/security/recovery-codes")
@login_required
def security_recovery_codes():
    try:
        codes = two_factor.new_recovery_codes(current_user._get_current_object())
    except ServiceError as error:
        flash(refusal_sentence(error), "error")
        return redirect(url_for("admin.security"))
    flash(_("New recovery codes: the old ones no longer work."), "success")
    return _no_store(current_app.make_response(render_template(
        "admin/security_codes.html", codes=codes)))


@blueprint.post("/security/disable")
@login_required
@limiter.limit("10/minute")
def security_disable():
    try:
        two_factor.disable(current_user._get_current_object(),
                           request.form.get("password") or "")
    except ServiceError as error:
        return _security_page(password_error=refusal_sentence(error)), 400
    flash(_("Two-factor sign-in is off; remembered browsers are forgotten."), "success")
    return redirect(url_for("admin.security"))


@blueprint.post("/security/forget-devices")
@login_required
def security_forget_devices():
    two_factor.forget_remembered_devices(current_user._get_current_object())
    flash(_("Every remembered browser asks for a code again."), "success")
    return redirect(url_for("admin.security"))


@blueprint.post("/security/require")
@login_required
def security_require():
    user = current_user._get_current_object()
    required = request.form.get("require_two_factor") == "on"
    try:
        two_factor.set_required(user, user.account_id, required)
    except ServiceError as error:
        if error.kind in ("not_found", "forbidden"):
            return _security_page(require_error=refusal_sentence(error)), 403
        return _security_page(require_error=refusal_sentence(error)), 400
    sentence = (_("Two-factor sign-in is now required in %(account)s and the accounts "
                  "under it.", account=user.account.name) if required else
                _("Two-factor sign-in is no longer required in %(account)s and the accounts "
                  "under it.", account=user.account.name))
    flash(sentence, "success")
    return redirect(url_for("admin.security"))
