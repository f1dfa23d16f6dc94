"""Email over SMTP: plain text, one message per alert to every recipient.

Nothing from a post reaches a header but the subject, and the subject is one
line (line breaks and control characters become spaces), so a post cannot add
a ``Bcc:`` or start the body early. The body is ``text/plain`` only: there is
no HTML for a post to inject into.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from listener.config import secret
from listener.errors import ConfigError
from scheduler.alerts import Alert, Channel, ChannelError, one_line
from scheduler.settings import EmailChannelConfig


class EmailChannel(Channel):
    kind = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        to: list[str],
        *,
        label: str = "email",
        events=("spike", "sla", "prospect", "digest"),
        starttls: bool = False,
        use_ssl: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ):
        super().__init__(label, events)
        self.host, self.port, self.sender, self.to = host, port, sender, list(to)
        self.starttls, self.use_ssl = starttls, use_ssl
        self.username, self.password = username, password
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: EmailChannelConfig) -> EmailChannel:
        username = _required_secret(settings, settings.username_env)
        password = _required_secret(settings, settings.password_env)
        return cls(
            settings.host, settings.port, settings.sender, settings.to,
            label=settings.label, events=settings.events, starttls=settings.starttls, use_ssl=settings.ssl,
            username=username, password=password, timeout=settings.timeout,
        )

    def message(self, alert: Alert) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = f"[listener] {one_line(alert.title)}"
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(alert.plain_text())
        return message

    def deliver(self, alert: Alert) -> None:
        try:
            if self.use_ssl:
                client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.starttls:
                    client.starttls(context=ssl.create_default_context())
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(self.message(alert))
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"SMTP {self.host}:{self.port}: {exc}") from None


def _required_secret(settings: EmailChannelConfig, variable: str | None) -> str | None:
    if variable is None:
        return None
    value = secret(variable)
    if value is None:
        raise ConfigError(
            f"alerts channel {settings.label!r}: environment variable {variable} is not set",
            hint=f"Export {variable}, or remove it from the channel to send without logging in.",
        )
    return value
