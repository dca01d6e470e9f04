"""The mail tasks on the app's queue: send one mail (again later if refused), a password
reset asked for on the sign-in page, the digests, and the sweep of mails whose task was lost."""

from __future__ import annotations

from flask import Flask
from huey import Huey, crontab

from widget_server.mail.notifications import send_digests
from widget_server.mail.outbox import deliver, overdue_mail
from widget_server.mail.people import send_password_reset


class MailTasks:
    """The mail tasks of one app, declared on its Huey under fixed names."""

    def __init__(self, app: Flask, huey: Huey):
        self.app = app
        self.send = huey.task(name="send_mail")(self.send_mail)
        self.reset = huey.task(name="send_password_reset")(self.send_password_reset)
        # Hourly: each widget's day ends at its own midnight.
        huey.periodic_task(crontab(minute="5"), name="send_mail_digests")(self.send_digests)
        huey.periodic_task(crontab(minute="*/5"), name="send_overdue_mail")(
            self.send_overdue_mail)

    def send_mail(self, delivery_id: int) -> None:
        with self.app.app_context():
            delay = deliver(delivery_id)
        if delay is not None:
            self.send.schedule((delivery_id,), delay=delay)

    def send_password_reset(self, email: str) -> None:
        with self.app.app_context():
            send_password_reset(email)

    def send_digests(self) -> None:
        with self.app.app_context():
            send_digests()

    def send_overdue_mail(self) -> None:
        with self.app.app_context():
            overdue = overdue_mail()
        for delivery_id in overdue:
            self.send(delivery_id)
