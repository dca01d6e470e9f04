"""Admin: "Your settings", the signed-in user's own language and time zone.

Stored by services/users.py (``update_settings``); the language takes effect
from the next page, the zone in every report (admin/formats.py).
"""

from __future__ import annotations

from babel import Locale
from flask import flash, redirect, render_template, url_for
from flask_babel import refresh
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField

from widget_server.admin.views import blueprint, select_options, show_refusal
from widget_server.i18n import ADMIN_LANGUAGES
from widget_server.i18n import admin_gettext as _
from widget_server.i18n import lazy_admin_gettext as _l
from widget_server.services.users import time_zones, update_settings


class SettingsForm(FlaskForm):
    # Any value may be posted: the service says which languages and zones there are.
    language = SelectField(_l("Language of the admin"), validate_choice=False,
                           description=_l("Empty: your browser's language."))
    time_zone = SelectField(_l("Time zone of reports"), validate_choice=False,
                            description=_l("Empty: each call in its widget's time zone, "
                                           "the one of its opening hours."))


def language_choices() -> list[tuple[str, str]]:
    """Each language in its own words ("Deutsch"), so anyone finds theirs."""
    return [("", _("Your browser's language"))] + [
        (code, (Locale.parse(code).get_display_name(code) or code).capitalize())
        for code in ADMIN_LANGUAGES]


@blueprint.route("/settings", methods=["GET", "POST"])
@login_required
def user_settings():
    user = current_user._get_current_object()
    form = SettingsForm(data={"language": user.language or "",
                              "time_zone": user.time_zone or ""})
    form.language.choices = select_options(language_choices())
    form.time_zone.choices = select_options(
        [("", _("Each widget's time zone"))] + [(zone, zone) for zone in time_zones()])
    if form.validate_on_submit():
        try:
            update_settings(user, language=form.language.data, time_zone=form.time_zone.data)
        except ExceptionGroup as error:
            show_refusal(form, error)
        else:
            refresh()  # the language just chosen says so
            flash(_("Your settings are saved."), "success")
            return redirect(url_for("admin.user_settings"))
    return render_template("admin/settings.html", form=form), (
        422 if form.errors or form.form_errors else 200)
