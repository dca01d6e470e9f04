"""Admin: people in the caller's subtree, and choosing a password from a reset link.

Everyone signed in may read the list; only owners add people, change their
roles and remove them (services/users.py, which also signs the links).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from widget_server.admin.auth import CAN_ADMINISTER, check_role, current_account, posted_account
from widget_server.admin.views import blueprint, refusal_sentence, select_options, show_refusal
from widget_server.extensions import db
from widget_server.i18n import admin_gettext as _
from widget_server.i18n import lazy_admin_gettext as _l
from widget_server.models import Account, User
from widget_server.services.errors import ServiceError
from widget_server.services.users import (
    MIN_PASSWORD,
    ROLES,
    change_role,
    create_user,
    remove_user,
    set_password_by_token,
    user_for_reset_token,
)
from widget_server.tenancy import scoped_select

ROLE_HELP = _l("Owners manage everything, users and API keys included; members manage "
               "widgets, domains and reports; read-only users only read.")
# How the admin names each role; the services and the API use the keys.
ROLE_NAMES = {"owner": _l("owner"), "member": _l("member"), "read-only": _l("read-only")}


class NewUserForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    # Any id may be posted: one outside the caller's subtree is a 404, not a form error.
    account_id = SelectField(_l("Account"), coerce=int, validate_choice=False)
    role = SelectField(_l("Role"), choices=select_options((r, ROLE_NAMES[r]) for r in ROLES),
                       description=ROLE_HELP)
    password = PasswordField(_l("Initial password"), validators=[DataRequired(),
                                                                Length(min=MIN_PASSWORD)],
                             description=_l("At least %(count)s characters; give it to the "
                                            "person privately.", count=MIN_PASSWORD))


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(),
                                                            Length(min=MIN_PASSWORD)],
                             description=_l("At least %(count)s characters.",
                                            count=MIN_PASSWORD))
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(),
                                        EqualTo("password", _l("The two passwords differ."))])


class RoleForm(FlaskForm):
    # Any value may be posted: the service says which roles there are.
    role = SelectField(_l("Role"), choices=select_options((r, ROLE_NAMES[r]) for r in ROLES),
                       validate_choice=False)


@blueprint.get("/users")
@login_required
def users():
    people = db.session.scalars(scoped_select(User, current_account())
                                .join(Account).order_by(Account.name, User.email))
    return render_template("admin/accounts/users.html", users=list(people),
                           can_administer=current_user.role in CAN_ADMINISTER,
                           roles=ROLES, role_names=ROLE_NAMES, role_help=ROLE_HELP)


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
        try:
            created, _password = create_user(current_user, account_id=form.account_id.data,
                                             email=form.email.data or "", role=form.role.data,
                                             password=form.password.data)
        except ServiceError as error:
            show_refusal(form, error)
        else:
            flash(_("%(email)s can now sign in to %(account)s as %(role)s.",
                    email=created.email, account=created.account.name,
                    role=ROLE_NAMES[created.role]), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/accounts/user_new.html", form=form)


def _refused(error: ServiceError):
    """A refusal of an action posted from the list, which has no form to show it in."""
    if error.kind in ("not_found", "forbidden"):
        abort(404 if error.kind == "not_found" else 403)
    flash(refusal_sentence(error), "error")
    return redirect(url_for("admin.users"))


@blueprint.post("/users/<int(max=2147483647):user_id>/role")
@login_required
def user_role(user_id: int):
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        user = change_role(current_user, user_id, form.role.data)
    except ServiceError as error:
        return _refused(error)
    flash(_("%(email)s is now %(role)s.", email=user.email, role=ROLE_NAMES[user.role]),
          "success")
    return redirect(url_for("admin.users"))


@blueprint.post("/users/<int(max=2147483647):user_id>/remove")
@login_required
def user_remove(user_id: int):
    try:
        user = remove_user(current_user, user_id)
    except ServiceError as error:
        return _refused(error)
    flash(_("%(email)s removed; they can no longer sign in.", email=user.email), "success")
    return redirect(url_for("admin.users"))


@blueprint.route("/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    user = user_for_reset_token(token)
    if user is None:
        return render_template("admin/accounts/reset_expired.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            set_password_by_token(token, form.password.data or "")
        except ServiceError as error:
            show_refusal(form, error)
        else:
            flash(_("Your password is set; sign in with it."), "success")
            return redirect(url_for("admin.sign_in"))
    return render_template("admin/accounts/reset.html", form=form, email=user.email)
