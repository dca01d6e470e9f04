"""Mail to site owners: an outbox the queue sends from, and the notifications that fill it.

``outbox.queue_mail`` stores a mail and queues its sending; ``tasks.MailTasks``
sends it over SMTP (``smtp.py``) with retries; ``notifications.notify``
turns a call's events into mails for the widget's recipients, and the daily
digest sums a widget's day.
"""

from __future__ import annotations

from flask import Flask

from widget_server.mail.notifications import notify
from widget_server.mail.smtp import smtp_target
from widget_server.mail.tasks import MailTasks


def init_app(app: Flask) -> None:
    """Declare the mail tasks on the app's queue and listen to calls' events.

    A malformed ``SMTP_URL`` stops the start rather than losing every mail later.
    """
    smtp_target(app.config["SMTP_URL"])
    app.extensions["mail_tasks"] = MailTasks(app, app.extensions["huey"])
    app.extensions["call_event_subscribers"].append(notify)
