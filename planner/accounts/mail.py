"""Sending a password-reset link: by SMTP when MAIL_SERVER is set, else into the log.

Kept small on purpose: one message, sent with the standard library's smtplib. Without a mail
server (the embedded default), the link is written to the app's log, and an operator can also
print a fresh one with `flask --app app user reset-link EMAIL`. docs/accounts.md shows the
MAIL_* settings for a real server.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app

from planner.accounts.models import User

RESET_TEXT = """Hello {name},

Someone (we hope you) asked to reset the password of your Planner account.
Open this link within an hour to choose a new password:

{url}

If you did not ask, you can ignore this message: your password stays as it is.
"""


def send_password_reset(user: User, url: str) -> None:
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        current_app.logger.warning("No MAIL_SERVER set: the password reset link for %s is %s", user.email, url)
        return
    message = EmailMessage()
    message["Subject"] = "Reset your Planner password"
    message["From"] = config["MAIL_FROM"]
    message["To"] = user.email
    message.set_content(RESET_TEXT.format(name=user.name, url=url))
    try:
        _send(message)
    except (OSError, smtplib.SMTPException):
        # The person sees the same answer either way (it must not tell whether the address
        # has an account); the operator sees why the mail did not go.
        current_app.logger.exception("Could not send the password reset mail to %s", user.email)


def _send(message: EmailMessage) -> None:
    config = current_app.config
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
