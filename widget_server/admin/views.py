"""Admin pages: sign-in, and the dashboard the other admin pages hang from."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from widget_server.admin.auth import current_account, password_matches
from widget_server.extensions import db, limiter
from widget_server.models import User

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


def select_options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as a select field's choices (WTForms 3.3 deprecates tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]


MAX_PAGE = 100_000


def page_number() -> int:
    """``?page=`` of a list: 1 when absent, else a whole number up to ``MAX_PAGE`` (or 400)."""
    raw = request.args.get("page", "") or "1"
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6 and 1 <= int(raw) <= MAX_PAGE):
        abort(400, description=f"The page number must be a whole number from 1 to {MAX_PAGE}.")
    return int(raw)

# Failed sign-ins allowed per submitted email, whatever the address they come from.
SIGN_IN_FAILURES_PER_EMAIL = "5 per 15 minutes"


def _submitted_email() -> str:
    return "sign-in-email:" + (request.form.get("email") or "").strip().lower()


@blueprint.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
@limiter.limit(SIGN_IN_FAILURES_PER_EMAIL, methods=["POST"], key_func=_submitted_email,
               deduct_when=lambda response: response.status_code != 302)
def sign_in():
    if request.method == "POST":
        email = (request.form.get("email") or "").strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if user is not None and password_matches(user, request.form.get("password") or ""):
            login_user(user)
            return redirect(url_for("admin.dashboard"))
        flash("That email and password do not match an account.", "error")
    return render_template("admin/sign_in.html")


@blueprint.post("/sign-out")
@login_required
def sign_out():
    logout_user()
    return redirect(url_for("admin.sign_in"))


@blueprint.get("/")
@login_required
def dashboard():
    return render_template("admin/dashboard.html", account=current_account(),
                           user=current_user)
