"""Admin: the mail delivery log of the caller's subtree, and whether mail is on at all.

Read-only for every role: mails are written by the notifications
(mail/notifications.py) and sent by the queue. Without ``SMTP_URL`` the page
says mail is off and that mails are written to the server's log. A mail's
body is not shown: its subject, recipient, status, attempts and last error are
what an owner needs to see whether notifications arrive.
"""

from __future__ import annotations

from flask import current_app, render_template
from flask_login import login_required
from sqlalchemy import func, select

from widget_server.admin.auth import current_account
from widget_server.admin.views import blueprint, page_number
from widget_server.extensions import db
from widget_server.models import MailDelivery
from widget_server.tenancy import scoped_select

PAGE_SIZE = 50


@blueprint.get("/mail")
@login_required
def mail_log():
    page = page_number()
    query = scoped_select(MailDelivery, current_account())
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.order_by(MailDelivery.created_at.desc(),
                                             MailDelivery.id.desc())
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("admin/mail.html", deliveries=rows, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)),
                           mail_on=bool(current_app.config["SMTP_URL"]))
