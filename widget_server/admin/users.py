"""Admin: people in the caller's subtree, and choosing a password from a mailed link.

Everyone signed in may read the list; only owners invite people, change their
roles and remove them (services/users.py). An invited person chooses their
password at the invitation's link; anyone at a reset link's.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from widget_server.admin.auth import CAN_ADMINISTER, check_role, current_account, posted_account
from widget_server.admin.views import (
    ask_first,
    blueprint,
    refusal_sentence,
    select_options,
    show_refusal,
)
from widget_server.extensions import db
from widget_server.i18n import admin_gettext as _
from widget_server.i18n import lazy_admin_gettext as _l
from widget_server.models import Account, User
from widget_server.security.password_links import INVITATION, MAX_AGE, RESET
from widget_server.services.errors import ServiceError
from widget_server.services.two_factor import turn_off_for
from widget_server.services.users import (
    MIN_PASSWORD,
    ROLES,
    change_role,
    create_user,
    invite_again,
    remove_user,
    set_password_by_link,
    user_for_link,
)
from widget_server.tenancy import get_scoped, scoped_select

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
            created = create_user(current_user, account_id=form.account_id.data,
                                  email=form.email.data or "", role=form.role.data,
                                  base_url=request.url_root)
        except ServiceError as error:
            show_refusal(form, error)
        else:
            flash(_("An invitation to %(account)s as %(role)s is on its way to %(email)s: "
                    "they choose their password at its link, within %(days)s days.",
                    account=created.account.name, role=ROLE_NAMES[created.role],
                    email=created.email, days=MAX_AGE[INVITATION] // 86400), "success")
            if not current_app.config["SMTP_URL"]:
                flash(_("Mail is off on this server, so the invitation is not sent: ask the "
                        "operator for a link (widget-server user reset-link)."), "error")
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


@blueprint.post("/users/<int(max=2147483647):user_id>/invite")
@login_required
def user_invite(user_id: int):
    try:
        user = invite_again(current_user, user_id, request.url_root)
    except ServiceError as error:
        return _refused(error)
    flash(_("A new invitation is on its way to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.users"))


@blueprint.post("/users/<int(max=2147483647):user_id>/two-factor-off")
@login_required
def user_two_factor_off(user_id: int):
    try:
        user = turn_off_for(current_user, user_id)
    except ServiceError as error:
        return _refused(error)
    flash(_("Two-factor sign-in is off for %(email)s; they can set it up again.",
            email=user.email), "success")
    return redirect(url_for("admin.users"))


@blueprint.route("/users/<int(max=2147483647):user_id>/remove", methods=["GET", "POST"])
@login_required
def user_remove(user_id: int):
    shown = get_scoped(User, user_id, current_account())
    check_role(CAN_ADMINISTER)
    page = ask_first(
        title=_("Remove %(email)s?", email=shown.email),
        consequences=[_("%(email)s can no longer sign in to %(account)s; a session open now "
                        "ends with their next click.", email=shown.email,
                        account=shown.account.name),
                      _("What they changed stays.")],
        button=_("Remove %(email)s", email=shown.email), back=url_for("admin.users"))
    if page:
        return page
    try:
        user = remove_user(current_user, user_id)
    except ServiceError as error:
        return _refused(error)
    flash(_("%(email)s removed; they can no longer sign in.", email=user.email), "success")
    return redirect(url_for("admin.users"))


def _choose_password(token: str, purpose: str, template: str):
    """The page of a password link: choose one, then sign in with it."""
    user = user_for_link(token, purpose)
    if user is None:
        return render_template("admin/accounts/reset_expired.html", purpose=purpose), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            set_password_by_link(token, purpose, form.password.data or "")
        except ServiceError as error:
            if error.kind == "not_found":
                return render_template("admin/accounts/reset_expired.html",
                                       purpose=purpose), 404
            show_refusal(form, error)
        else:
            flash(_("Your password is set; sign in with it."), "success")
            return redirect(url_for("admin.sign_in"))
    return render_template(template, form=form, email=user.email, account=user.account)


@blueprint.route("/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    return _choose_password(token, RESET, "admin/accounts/reset.html")


@blueprint.route("/welcome/<token>", methods=["GET", "POST"])
def invitation(token: str):
    return _choose_password(token, INVITATION, "admin/accounts/welcome.html")
