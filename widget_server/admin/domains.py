"""Admin: a widget's domain whitelist.

Same roles as widgets (admin/widgets.py): owners and members change it,
read-only users read. The rules are services/domains.py's, as for the API.
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import current_user, login_required

from widget_server.admin.formats import unicode_domain
from widget_server.admin.views import ask_first, blueprint, show_refusal
from widget_server.admin.widgets import DomainForm, live_widget, render_widget, require_manager
from widget_server.i18n import admin_gettext as _
from widget_server.services import domains
from widget_server.services.errors import ServiceError


@blueprint.post("/widgets/<int(max=2147483647):widget_id>/domains")
@login_required
def domain_add(widget_id: int):
    widget = live_widget(widget_id)
    require_manager(widget)
    form = DomainForm()
    if not form.validate_on_submit():
        return render_widget(widget, domain_form=form)
    try:
        domain = domains.add_domain(current_user, widget, form.pattern.data or "")
    except ServiceError as error:
        show_refusal(form, error)
        return render_widget(widget, domain_form=form)
    flash(_("%(domain)s added: the widget may now be embedded there.",
            domain=unicode_domain(domain.pattern)), "success")
    return redirect(url_for("admin.widget_edit", widget_id=widget.id, _anchor="domains"))


@blueprint.route("/widgets/<int(max=2147483647):widget_id>/domains/"
                 "<int(max=2147483647):domain_id>/delete", methods=["GET", "POST"])
@login_required
def domain_remove(widget_id: int, domain_id: int):
    widget = live_widget(widget_id)
    domain = next((d for d in widget.domains if d.id == domain_id), None)
    if domain is None:
        abort(404)
    require_manager(widget)
    page = ask_first(
        title=_("Remove %(domain)s from %(name)s?", domain=domain.pattern, name=widget.name),
        consequences=[_("Pages on %(domain)s can no longer show the widget: its button "
                        "disappears there.", domain=domain.pattern),
                      _("Its other domains, settings and calls stay.")],
        button=_("Remove %(domain)s", domain=domain.pattern),
        back=url_for("admin.widget_edit", widget_id=widget.id, _anchor="domains"))
    if page:
        return page
    try:
        domain = domains.remove_domain(current_user, widget, domain_id)
    except ServiceError as error:
        abort(404 if error.kind == "not_found" else 403)
    flash(_("%(domain)s removed: pages there can no longer show the widget.",
            domain=unicode_domain(domain.pattern)), "success")
    return redirect(url_for("admin.widget_edit", widget_id=widget.id, _anchor="domains"))
