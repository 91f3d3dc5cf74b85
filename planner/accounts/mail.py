"""Sending a password-reset link or an invitation: by SMTP when MAIL_SERVER is set.

Kept small on purpose: two messages, sent with the standard library's smtplib. Without a mail
server (the embedded default), a reset link is written to the app's log, and an operator can
also print a fresh one with `flask --app app user reset-link EMAIL`; an invitation waits on
the invitee's home page. Links start with BASE_URL (`users.external_url`), which MAIL_SERVER
requires. docs/accounts.md shows the MAIL_* settings for a real server.
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


INVITATION_TEXT = """Hello,

{inviter} invited you to the plan "{plan}" on Planner, as {role}.
Open this link within {days} days to accept or decline:

{url}

If you already have a Planner account with this address, the invitation is also on your home
page when you log in. If you do not know {inviter}, you can ignore this message.
"""


def send_password_reset(user: User, url: str) -> None:
    if not current_app.config.get("MAIL_SERVER"):
        current_app.logger.warning("No MAIL_SERVER set: the password reset link for %s is %s", user.email, url)
        return
    _mail(user.email, "Reset your Planner password", RESET_TEXT.format(name=user.name, url=url))


def send_invitation(email: str, *, inviter: str, plan: str, role: str, days: int, url: str) -> None:
    """Mail an invitation to `email`, the same message whether or not an account uses it.
    Without MAIL_SERVER, nothing: the invitee's home page shows it (and the link is not logged)."""
    if not current_app.config.get("MAIL_SERVER"):
        return
    text = INVITATION_TEXT.format(inviter=inviter, plan=plan, role=role, days=days, url=url)
    _mail(email, "An invitation to a plan on Planner", text)  # no names in headers


def _mail(to: str, subject: str, text: str) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message.set_content(text)
    try:
        _send(message)
    except (OSError, smtplib.SMTPException):
        # The person sees the same answer either way (it must not tell whether the address
        # has an account); the operator sees why the mail did not go.
        current_app.logger.exception("Could not send the mail %r to %s", subject, to)


def _send(message: EmailMessage) -> None:
    config = current_app.config
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
