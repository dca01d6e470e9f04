"""Admin: people in the caller's subtree, and password reset by a signed link.

Everyone signed in may read the list; only owners add and remove users. A
reset link is signed over SECRET_KEYS and expires; it carries a fingerprint
of the password hash it was made for, so it works once: a new password
changes the hash and every earlier link stops working.
"""

from __future__ import annotations

import hashlib
import re

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from widget_server.admin.auth import (
    CAN_ADMINISTER,
    ROLES,
    check_role,
    current_account,
    hash_password,
    posted_account,
    set_password,
)
from widget_server.admin.views import blueprint, select_options
from widget_server.extensions import db
from widget_server.models import Account, User
from widget_server.tenancy import get_scoped, scoped_select

MIN_PASSWORD = 10
RESET_MAX_AGE = 3600
_RESET_SALT = "widget-server.password-reset"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _valid_email(form, field) -> None:
    if not _EMAIL.fullmatch((field.data or "").strip()):
        raise ValidationError("Enter an email address, like name@example.com.")


def email_taken(email: str) -> bool:
    return db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower())) \
        is not None


class NewUserForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=254), _valid_email])
    # Any id may be posted: one outside the caller's subtree is a 404, not a form error.
    account_id = SelectField("Account", coerce=int, validate_choice=False)
    role = SelectField("Role", choices=select_options((r, r) for r in ROLES),
                       description="Owners manage everything, users and API keys included; "
                                   "members manage widgets, domains and reports; "
                                   "read-only users only read.")
    password = PasswordField("Initial password", validators=[DataRequired(),
                                                             Length(min=MIN_PASSWORD)],
                             description=f"At least {MIN_PASSWORD} characters; "
                                         "give it to the person privately.")


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(),
                                                         Length(min=MIN_PASSWORD)],
                             description=f"At least {MIN_PASSWORD} characters.")
    confirm = PasswordField("New password again",
                            validators=[DataRequired(), EqualTo("password",
                                                                "The two passwords differ.")])


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEYS"], salt=_RESET_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def reset_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def user_for_reset_token(token: str) -> User | None:
    """The user a live, unused reset token is for, or None."""
    try:
        payload = _serializer().loads(token, max_age=RESET_MAX_AGE)
        user = db.session.get(User, int(payload["u"]))
        fingerprint = str(payload["f"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if user is None or fingerprint != _fingerprint(user):
        return None
    return user


@blueprint.get("/users")
@login_required
def users():
    people = db.session.scalars(scoped_select(User, current_account())
                                .join(Account).order_by(Account.name, User.email))
    return render_template("admin/accounts/users.html", users=list(people),
                           can_administer=current_user.role in CAN_ADMINISTER)


@blueprint.route("/users/new", methods=["GET", "POST"])
@login_required
def user_new():
    caller = current_account()
    posted_account()
    check_role(CAN_ADMINISTER)
    form = NewUserForm()
    form.account_id.choices = select_options(
        (a.id, a.name) for a in db.session.scalars(scoped_select(Account, caller)
                                                   .order_by(Account.name)))
    if form.validate_on_submit():
        account = get_scoped(Account, form.account_id.data, caller)
        email = form.email.data.strip()
        if email_taken(email):
            form.email.errors = [*form.email.errors, "Someone already signs in with this email."]
        else:
            db.session.add(User(account_id=account.id, email=email, role=form.role.data,
                                password_hash=hash_password(form.password.data)))
            db.session.commit()
            flash(f"{email} can now sign in to {account.name} as {form.role.data}.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/accounts/user_new.html", form=form)


@blueprint.post("/users/<int(max=2147483647):user_id>/remove")
@login_required
def user_remove(user_id: int):
    user = get_scoped(User, user_id, current_account())
    check_role(CAN_ADMINISTER)
    if user.id == current_user.id:
        abort(403)
    db.session.delete(user)
    db.session.commit()
    flash(f"{user.email} removed; they can no longer sign in.", "success")
    return redirect(url_for("admin.users"))


@blueprint.route("/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    user = user_for_reset_token(token)
    if user is None:
        return render_template("admin/accounts/reset_expired.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        set_password(user, form.password.data)
        db.session.commit()
        flash("Your password is set; sign in with it.", "success")
        return redirect(url_for("admin.sign_in"))
    return render_template("admin/accounts/reset.html", form=form, email=user.email)
