"""Admin: a widget's domain whitelist and its embed token.

Same roles as widgets (admin/widgets.py): owners and members change them,
read-only users read. Rotating the token bumps the widget's token version,
so every snippet carrying the old token is refused (``token_revoked``).
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length, ValidationError

from widget_server.admin.views import blueprint
from widget_server.admin.widgets import live_widget, render_widget, require_manager
from widget_server.extensions import db
from widget_server.models import AllowedDomain
from widget_server.security.origins import DomainError, normalise_domain


class DomainForm(FlaskForm):
    pattern = StringField("Domain", validators=[Length(max=260)],
                          description="example.com, *.example.com or localhost:5000")

    def validate_pattern(self, field):
        try:
            field.normalised = normalise_domain(field.data or "")
        except DomainError as error:
            raise ValidationError(str(error)) from None


@blueprint.post("/widgets/<int(max=2147483647):widget_id>/domains")
@login_required
def domain_add(widget_id: int):
    widget = live_widget(widget_id)
    require_manager()
    form = DomainForm()
    if not form.validate_on_submit():
        return render_widget(widget, domain_form=form)
    pattern = form.pattern.normalised
    if pattern in (d.pattern for d in widget.domains):
        form.pattern.errors = [f"{pattern} is on the list already."]
        return render_widget(widget, domain_form=form)
    widget.domains.append(AllowedDomain(pattern=pattern))
    db.session.commit()
    flash(f"{pattern} added: the widget may now be embedded there.", "success")
    return redirect(url_for("admin.widget_edit", widget_id=widget.id, _anchor="domains"))


@blueprint.post("/widgets/<int(max=2147483647):widget_id>/domains/<int(max=2147483647):domain_id>/delete")
@login_required
def domain_remove(widget_id: int, domain_id: int):
    widget = live_widget(widget_id)
    domain = db.session.scalar(select(AllowedDomain).where(
        AllowedDomain.id == domain_id, AllowedDomain.widget_id == widget.id))
    if domain is None:
        abort(404)
    require_manager()
    db.session.delete(domain)
    db.session.commit()
    flash(f"{domain.pattern} removed: pages there can no longer show the widget.", "success")
    return redirect(url_for("admin.widget_edit", widget_id=widget.id, _anchor="domains"))


@blueprint.post("/widgets/<int(max=2147483647):widget_id>/rotate-token")
@login_required
def widget_rotate_token(widget_id: int):
    widget = live_widget(widget_id)
    require_manager()
    widget.token_version += 1
    db.session.commit()
    flash("New token issued: the old snippet has stopped working. Replace it on your site "
          "with the one below.", "success")
    return redirect(url_for("admin.widget_edit", widget_id=widget.id, _anchor="snippet"))
