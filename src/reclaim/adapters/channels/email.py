"""Email over SMTP: :class:`SmtpEmailSender`, :func:`parse_smtp_url`, the error mapping.

``RECLAIM_SMTP_URL`` forms (user and password percent-encoded)::

    smtp://relay.example:25                       STARTTLS when offered, else plain
    smtp://user:pa%40ss@relay.example:587?starttls=require   never without TLS
    smtp://127.0.0.1:25?starttls=never            plain, a local relay
    smtps://relay.example:465                     implicit TLS
    …?verify=false                                accept any certificate (tests, local relays)

Ports default to 25 (smtp) and 465 (smtps). Credentials are only ever sent encrypted, or to
a loopback relay. The envelope sender (``MAIL FROM``) is the From address; a separate bounce
address can come later. One recipient per message.

Error mapping (:func:`smtp_error`; ``code`` is the SMTP reply code):

- 4xx anywhere, a dropped connection, a timeout, a refused connection, a TLS handshake or
  certificate failure → ``DeliveryError(permanent=False)``; the next send reopens when the
  connection is gone (after 421 or a drop), else reuses it after ``RSET``.
- 5xx at ``RCPT`` (or at the end of ``DATA``) about the recipient → ``permanent=True,
  suppress=True``: enhanced codes 5.1.x except 5.1.7/5.1.8 (those are about the sender) and
  5.2.1 (mailbox disabled); without an enhanced code, 550, 551 and 553 at ``RCPT``.
- any other 5xx → ``permanent=True, suppress=False``: 552 / 5.2.2 / 5.3.4 (full mailbox,
  message too big), 554 and 5.7.x (policy, spam, relaying denied: about us or the content,
  not the address), 5xx at ``MAIL FROM`` (about the sender), 535 (bad SMTP credentials),
  and a server that does not offer STARTTLS when ``starttls=require``.

An address that is not ASCII (``jürgen@exämple.de``, RFC 6531/6532) goes with the
``SMTPUTF8`` option of ``MAIL FROM`` (and ``BODY=8BITMIME`` where offered) and its header
written in UTF-8; a relay that does not offer SMTPUTF8 cannot take it: ``permanent=True,
suppress=False`` (the address may be good; the relay cannot carry it), before ``MAIL FROM``,
so the connection stays usable.

A reused connection that turns out dead (drop or 421 at ``MAIL FROM``, the first command
of a transaction, so nothing of the message was sent yet) is reopened once and the
transaction retried. A drop after ``DATA`` started is reported as transient: the server may
or may not have the message, and a retry may then deliver it twice.

Thread-safety: a sender owns one SMTP connection and is **not** thread-safe; use one sender
per worker thread (the connection is the thing being reused).
"""

from __future__ import annotations

import ipaddress
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Literal, NoReturn
from urllib.parse import parse_qsl, unquote, urlsplit

from reclaim.adapters.channels.dkim import DkimSigner
from reclaim.adapters.channels.mime import build_mime, mailbox, needs_smtputf8
from reclaim.domain.messages import OutgoingEmail, SendResult
from reclaim.errors import DeliveryError, InvalidInput

__all__ = [
    "SmtpEmailSender",
    "SmtpTarget",
    "build_mime",
    "parse_smtp_url",
    "smtp_error",
]

URL_FIELD = "RECLAIM_SMTP_URL"
StartTls = Literal["auto", "require", "never"]
Stage = Literal["connect", "mail", "rcpt", "data"]

_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_STARTTLS: dict[str, StartTls] = {"auto": "auto", "require": "require", "never": "never"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_ENHANCED = re.compile(r"\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
_QUEUE_ID = re.compile(r"queued as ([!-~]+)", re.IGNORECASE)
_RECIPIENT_BASIC = frozenset([550, 551, 553])
_SENDER_DETAILS = frozenset([7, 8])  # X.1.7 / X.1.8: bad *sender* mailbox or system


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """Where and how to connect, parsed from the SMTP URL (the password is kept out of repr)."""

    host: str
    port: int
    implicit_tls: bool
    starttls: StartTls
    verify: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def is_loopback(self) -> bool:
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_smtp_url(url: str) -> SmtpTarget:
    """Parse and validate an SMTP URL; raises ``InvalidInput(field="RECLAIM_SMTP_URL")``."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("the SMTP URL is empty", field=URL_FIELD)
    if re.search(r"[\s\x00-\x1f\x7f]", url):
        raise InvalidInput(
            "the SMTP URL contains whitespace or a control character", field=URL_FIELD
        )
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidInput(
            f"the SMTP URL must start with smtp:// or smtps://, not {parts.scheme or url!r}",
            field=URL_FIELD,
        )
    if not parts.hostname:
        raise InvalidInput("the SMTP URL has no host", field=URL_FIELD)
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise InvalidInput(
            "the SMTP URL's port is not a number from 1 to 65535", field=URL_FIELD
        ) from None
    if parts.path not in ("", "/") or parts.fragment:
        raise InvalidInput("the SMTP URL must not have a path or a fragment", field=URL_FIELD)
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    if (username is None) != (password is None) or username == "":
        raise InvalidInput(
            "the SMTP URL must give both a user and a password (user:password@host) or neither",
            field=URL_FIELD,
        )
    options: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
        if key in options:
            raise InvalidInput(f"the SMTP URL sets {key!r} twice", field=URL_FIELD)
        options[key] = value.lower()
    unknown = sorted(set(options) - {"starttls", "verify"})
    if unknown:
        raise InvalidInput(
            f"the SMTP URL has unknown option(s) {', '.join(unknown)}; known: starttls, verify",
            field=URL_FIELD,
        )
    starttls_text = options.get("starttls", "auto")
    starttls = _STARTTLS.get(starttls_text)
    if starttls is None:
        raise InvalidInput(
            f"starttls={starttls_text!r} in the SMTP URL: use auto, require or never",
            field=URL_FIELD,
        )
    if scheme == "smtps" and "starttls" in options:
        raise InvalidInput(
            "smtps:// is TLS from the start; drop the starttls option", field=URL_FIELD
        )
    verify_text = options.get("verify", "true")
    if verify_text not in _TRUE | _FALSE:
        raise InvalidInput(
            f"verify={verify_text!r} in the SMTP URL: use true or false", field=URL_FIELD
        )
    return SmtpTarget(
        host=parts.hostname,
        port=port,
        implicit_tls=scheme == "smtps",
        starttls="never" if scheme == "smtps" else starttls,
        verify=verify_text in _TRUE,
        username=username,
        password=password,
    )


def smtp_error(code: int, reply: bytes | str, *, stage: Stage) -> DeliveryError:
    """The :class:`DeliveryError` for SMTP reply ``code`` with text ``reply`` at ``stage``."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    text = " ".join(text.split())
    message = f"SMTP {stage}: {code} {text}".rstrip()
    if not 500 <= code <= 599:
        return DeliveryError(message, permanent=False, code=code if code > 0 else None)
    enhanced = _ENHANCED.match(text)
    if enhanced is not None and enhanced.group(1) == "5":
        subject, detail = int(enhanced.group(2)), int(enhanced.group(3))
        about_recipient = (subject == 1 and detail not in _SENDER_DETAILS) or (
            subject == 2 and detail == 1
        )
    else:
        about_recipient = stage == "rcpt" and code in _RECIPIENT_BASIC
    suppress = about_recipient and stage in ("rcpt", "data")
    return DeliveryError(message, permanent=True, code=code, suppress=suppress)


def _transient(stage: str, exc: BaseException) -> DeliveryError:
    detail = str(exc) or type(exc).__name__
    return DeliveryError(f"SMTP {stage}: connection failed: {detail}", permanent=False)


class SmtpEmailSender:
    """Sends :class:`OutgoingEmail` over one reused SMTP connection (see the module doc).

    The URL is validated at construction (``InvalidInput``); nothing connects until the
    first :meth:`send`. ``local_hostname`` is the EHLO name (default: this machine's FQDN).
    Not thread-safe: one sender per thread.
    """

    def __init__(
        self,
        url: str,
        *,
        dkim: DkimSigner | None = None,
        timeout: float = 30.0,
        local_hostname: str | None = None,
    ) -> None:
        self.target = parse_smtp_url(url)
        self._dkim = dkim
        self._timeout = timeout
        self._local_hostname = local_hostname
        self._conn: smtplib.SMTP | None = None
        self._tls = ssl.create_default_context()
        if not self.target.verify:
            self._tls.check_hostname = False
            self._tls.verify_mode = ssl.CERT_NONE
        self.connections_opened = 0  # for operators' metrics and the tests

    def __enter__(self) -> SmtpEmailSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send(self, email: OutgoingEmail, *, now: datetime) -> SendResult:
        """Send one email (Date and DKIM ``t=`` are ``now``); raises :class:`DeliveryError`.

        ``provider_id`` is the relay's queue id when its reply names one (Postfix's
        "queued as …"); ``detail["smtp_reply"]`` is the final reply.
        """
        international = needs_smtputf8(email)
        data = build_mime(email, dkim=self._dkim, date=now, smtputf8=international)
        _, sender = mailbox(email.from_address, "From", utf8=international)
        _, recipient = mailbox(email.to, "To", utf8=international)
        conn = self._begin(sender, smtputf8=international)
        try:
            code, reply = conn.rcpt(recipient)
        except (smtplib.SMTPException, OSError) as exc:
            self._discard()
            raise _transient("rcpt", exc) from exc
        if code not in (250, 251):
            self._abort(code, reply, "rcpt")
        try:
            code, reply = conn.data(data)
        except smtplib.SMTPDataError as exc:
            self._abort(exc.smtp_code, exc.smtp_error, "data")
        except (smtplib.SMTPException, OSError) as exc:
            self._discard()
            raise _transient("data", exc) from exc
        if code != 250:
            self._abort(code, reply, "data")
        text = reply.decode("utf-8", "replace")
        queued = _QUEUE_ID.search(text)
        return SendResult(
            provider_id=queued.group(1) if queued else None,
            detail={"smtp_reply": f"{code} {text}"},
        )

    def close(self) -> None:
        """QUIT and close the connection if one is open; the next send opens a new one."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            conn.close()

    # -- internals -------------------------------------------------------------------------

    def _begin(self, sender: str, *, smtputf8: bool = False) -> smtplib.SMTP:
        """An open connection on which ``MAIL FROM`` was accepted (with ``SMTPUTF8`` when
        ``smtputf8``: a relay that does not offer it is a permanent failure of the message)."""
        for attempt in (1, 2):
            reused = self._conn is not None
            conn = self._conn if self._conn is not None else self._open()
            options: list[str] = []
            if smtputf8:
                if not conn.has_extn("smtputf8"):
                    raise DeliveryError(
                        f"SMTP mail: {self.target.host} does not offer SMTPUTF8, which a "
                        "non-ASCII address needs",
                        permanent=True,
                    )
                options = ["SMTPUTF8", *(["BODY=8BITMIME"] if conn.has_extn("8bitmime") else [])]
            try:
                code, reply = conn.mail(sender, options)
            except (smtplib.SMTPException, OSError) as exc:
                self._discard()
                if reused and attempt == 1:
                    continue  # a stale connection: nothing of this message was sent
                raise _transient("mail", exc) from exc
            if code == 421 and reused and attempt == 1:
                self._discard()  # the server had already said goodbye (idle timeout)
                continue
            if code != 250:
                self._abort(code, reply, "mail")
            return conn
        raise AssertionError("unreachable")  # pragma: no cover

    def _open(self) -> smtplib.SMTP:
        target = self.target
        try:
            # Given the host, smtplib connects at once (and keeps the name for TLS checks).
            conn = (
                smtplib.SMTP_SSL(
                    target.host,
                    target.port,
                    local_hostname=self._local_hostname,
                    timeout=self._timeout,
                    context=self._tls,
                )
                if target.implicit_tls
                else smtplib.SMTP(
                    target.host,
                    target.port,
                    local_hostname=self._local_hostname,
                    timeout=self._timeout,
                )
            )
        except smtplib.SMTPResponseException as exc:
            raise smtp_error(exc.smtp_code, exc.smtp_error, stage="connect") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise _transient("connect", exc) from exc
        try:
            conn.ehlo_or_helo_if_needed()
            encrypted = target.implicit_tls
            if target.starttls != "never" and conn.has_extn("starttls"):
                conn.starttls(context=self._tls)
                conn.ehlo()
                encrypted = True
            elif target.starttls == "require":
                raise DeliveryError(
                    f"SMTP connect: {target.host} does not offer STARTTLS and the URL says "
                    "starttls=require",
                    permanent=True,
                )
            if target.username is not None and target.password is not None:
                if not encrypted and not target.is_loopback:
                    raise DeliveryError(
                        f"SMTP connect: refusing to send credentials unencrypted to "
                        f"{target.host} (it offers no STARTTLS)",
                        permanent=True,
                    )
                self._login(conn)
        except DeliveryError:
            conn.close()
            raise
        except smtplib.SMTPResponseException as exc:
            conn.close()
            raise smtp_error(exc.smtp_code, exc.smtp_error, stage="connect") from exc
        except (smtplib.SMTPException, OSError) as exc:
            conn.close()
            raise _transient("connect", exc) from exc
        self._conn = conn
        self.connections_opened += 1
        return conn

    def _login(self, conn: smtplib.SMTP) -> None:
        target = self.target
        assert target.username is not None and target.password is not None
        try:
            conn.login(target.username, target.password)
        except smtplib.SMTPResponseException:
            raise  # 535 bad credentials (permanent), 454 try later (transient)
        except smtplib.SMTPException as exc:
            # AUTH not offered, or no mechanism both sides know: a configuration problem.
            raise DeliveryError(
                f"SMTP connect: cannot log in to {target.host}: {exc}", permanent=True
            ) from exc

    def _abort(self, code: int, reply: bytes | str, stage: Stage) -> NoReturn:
        """Raise the error for a refused transaction, leaving the connection usable."""
        error = smtp_error(code, reply, stage=stage)
        if code == 421 or code < 0:
            self._discard()  # the server is closing the connection
        else:
            conn = self._conn
            try:
                if conn is not None and conn.rset()[0] != 250:
                    self._discard()
            except (smtplib.SMTPException, OSError):
                self._discard()
        raise error

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
