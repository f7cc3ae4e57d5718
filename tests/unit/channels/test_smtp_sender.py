"""SmtpEmailSender against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from channel_servers import Certificate, SmtpRecorder, SmtpServer, free_port, password_authenticator

from reclaim.adapters.channels.email import SmtpEmailSender
from reclaim.domain.messages import OutgoingEmail
from reclaim.errors import DeliveryError

NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
EHLO = "reclaim.test"

Factory = Callable[..., SmtpServer]


def make_email(n: int = 1, **changes: object) -> OutgoingEmail:
    values: dict[str, object] = {
        "to": f"Li Wei <customer{n}@example.cn>",
        "from_address": "Boutique <shop@boutique.example>",
        "subject": "您的购物车还在等您",
        "text": "你好 Li Wei,\n\n您的商品还在购物车里: https://boutique.example/r/abc\n",
        "html": "<p>你好 <b>Li Wei</b></p><p><a href='https://boutique.example/r/abc'>返回</a></p>",
        "message_id": f"<m{n}.case42@boutique.example>",
        "list_unsubscribe_url": f"https://boutique.example/u/tok{n}",
        "list_unsubscribe_mailto": "unsubscribe@boutique.example",
        "reply_to": "help@boutique.example",
        "headers": (("X-Reclaim-Message", f"m{n}"),),
    }
    values.update(changes)
    return OutgoingEmail(**values)  # type: ignore[arg-type]


def sender(url: str, **kwargs: object) -> SmtpEmailSender:
    return SmtpEmailSender(url, local_hostname=EHLO, timeout=10, **kwargs)  # type: ignore[arg-type]


def test_message_arrives_header_by_header(smtp_server: Factory) -> None:
    server = smtp_server()
    with sender(server.url(query="starttls=never")) as smtp:
        result = smtp.send(make_email(), now=NOW)

    assert result.provider_id == "Q1"
    assert result.detail == {"smtp_reply": "250 2.0.0 Ok: queued as Q1"}
    [received] = server.handler.messages
    assert received.mail_from == "shop@boutique.example"  # the envelope sender is From
    assert received.rcpt_tos == ["customer1@example.cn"]
    msg = email.message_from_bytes(received.content, policy=email.policy.default)
    assert msg["Subject"] == "您的购物车还在等您"
    assert msg["From"] == "Boutique <shop@boutique.example>"
    assert msg["To"] == "Li Wei <customer1@example.cn>"
    assert msg["Reply-To"] == "help@boutique.example"
    assert msg["Message-ID"] == "<m1.case42@boutique.example>"
    assert msg["Date"] == "Fri, 01 May 2026 10:00:00 +0000"
    assert msg["List-Unsubscribe"] == (
        "<https://boutique.example/u/tok1>, <mailto:unsubscribe@boutique.example>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["X-Reclaim-Message"] == "m1"
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content().replace("\r\n", "\n") == make_email().text
    assert html.get_content_type() == "text/html"
    assert html.get_content().replace("\r\n", "\n") == make_email().html + "\n"


def test_twenty_messages_share_one_connection(smtp_server: Factory) -> None:
    server = smtp_server()
    with sender(server.url(query="starttls=never")) as smtp:
        results = [smtp.send(make_email(n), now=NOW) for n in range(1, 21)]
        assert smtp.connections_opened == 1

    assert [r.provider_id for r in results] == [f"Q{n}" for n in range(1, 21)]
    assert server.handler.connections == 1
    assert [m.rcpt_tos for m in server.handler.messages] == [
        [f"customer{n}@example.cn"] for n in range(1, 21)
    ]


def test_starttls_with_a_self_signed_certificate(
    smtp_server: Factory, self_signed: Certificate
) -> None:
    server = smtp_server(tls_context=self_signed.server_context(), require_starttls=True)
    with sender(server.url(query="starttls=require&verify=false")) as smtp:
        smtp.send(make_email(), now=NOW)
        smtp.send(make_email(2), now=NOW)

    assert len(server.handler.messages) == 2
    assert server.handler.connections == 1
    assert all(s.session is not None and s.session.ssl for s in server.handler.sessions)


def test_starttls_is_used_when_offered_by_default(
    smtp_server: Factory, self_signed: Certificate
) -> None:
    server = smtp_server(tls_context=self_signed.server_context(), require_starttls=True)
    with sender(server.url(query="verify=false")) as smtp:
        smtp.send(make_email(), now=NOW)
    assert len(server.handler.messages) == 1


def test_an_unverifiable_certificate_is_refused_unless_told(
    smtp_server: Factory, self_signed: Certificate
) -> None:
    server = smtp_server(tls_context=self_signed.server_context(), require_starttls=True)
    with sender(server.url(query="starttls=require")) as smtp, pytest.raises(DeliveryError) as err:
        smtp.send(make_email(), now=NOW)
    assert err.value.permanent is False
    assert "CERTIFICATE_VERIFY_FAILED" in str(err.value)
    assert server.handler.messages == []


def test_starttls_never_against_a_server_that_requires_it(
    smtp_server: Factory, self_signed: Certificate
) -> None:
    server = smtp_server(tls_context=self_signed.server_context(), require_starttls=True)
    with sender(server.url(query="starttls=never")) as smtp, pytest.raises(DeliveryError) as err:
        smtp.send(make_email(), now=NOW)
    assert (err.value.permanent, err.value.code, err.value.suppress) == (True, 530, False)
    assert server.handler.messages == []


def test_require_refuses_a_server_without_starttls(smtp_server: Factory) -> None:
    server = smtp_server()
    with sender(server.url(query="starttls=require")) as smtp, pytest.raises(DeliveryError) as err:
        smtp.send(make_email(), now=NOW)
    assert (err.value.permanent, err.value.suppress) == (True, False)
    assert "does not offer STARTTLS" in str(err.value)
    assert server.handler.messages == []
    assert server.handler.connections == 1  # it connected, said EHLO, and sent nothing


def test_implicit_tls(smtp_server: Factory, self_signed: Certificate) -> None:
    server = smtp_server(ssl_context=self_signed.server_context())
    with sender(server.url("smtps", query="verify=false")) as smtp:
        smtp.send(make_email(), now=NOW)
    [received] = server.handler.messages
    assert received.rcpt_tos == ["customer1@example.cn"]


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth_over_starttls_with_percent_encoded_credentials(
    smtp_server: Factory, self_signed: Certificate, mechanism: str
) -> None:
    recorder = SmtpRecorder()
    other = {"PLAIN": "LOGIN", "LOGIN": "PLAIN"}[mechanism]
    server = smtp_server(
        recorder,
        tls_context=self_signed.server_context(),
        require_starttls=True,
        auth_required=True,
        auth_exclude_mechanism=[other],
        authenticator=password_authenticator(b"user@boutique.example", b"p@ss:w/rd", recorder),
    )
    url = server.url(userinfo="user%40boutique.example:p%40ss%3Aw%2Frd", query="verify=false")
    with sender(url) as smtp:
        smtp.send(make_email(), now=NOW)
    assert recorder.auth_mechanisms == [mechanism]
    assert len(recorder.messages) == 1


def test_wrong_password_is_permanent_and_not_about_the_recipient(
    smtp_server: Factory, self_signed: Certificate
) -> None:
    recorder = SmtpRecorder()
    server = smtp_server(
        recorder,
        tls_context=self_signed.server_context(),
        require_starttls=True,
        auth_required=True,
        authenticator=password_authenticator(b"user", b"right", recorder),
    )
    with (
        sender(server.url(userinfo="user:wrong", query="verify=false")) as smtp,
        pytest.raises(DeliveryError) as err,
    ):
        smtp.send(make_email(), now=NOW)
    assert (err.value.permanent, err.value.code, err.value.suppress) == (True, 535, False)
    assert recorder.messages == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_auth_on_a_plain_loopback_relay(smtp_server: Factory) -> None:
    recorder = SmtpRecorder()
    server = smtp_server(
        recorder,
        auth_required=True,
        auth_require_tls=False,
        authenticator=password_authenticator(b"user", b"secret", recorder),
    )
    with sender(server.url(userinfo="user:secret")) as smtp:
        smtp.send(make_email(), now=NOW)
    assert recorder.auth_mechanisms == ["PLAIN"]
    assert len(recorder.messages) == 1


def test_451_is_transient_and_the_connection_stays_usable(smtp_server: Factory) -> None:
    recorder = SmtpRecorder(rcpt_replies=[("451 4.3.0 try later", False)])
    server = smtp_server(recorder)
    with sender(server.url()) as smtp:
        with pytest.raises(DeliveryError) as err:
            smtp.send(make_email(1), now=NOW)
        assert (err.value.permanent, err.value.code, err.value.suppress) == (False, 451, False)
        assert "451 4.3.0 try later" in str(err.value)
        smtp.send(make_email(2), now=NOW)
    assert [m.rcpt_tos for m in recorder.messages] == [["customer2@example.cn"]]
    assert recorder.connections == 1


def test_550_no_such_user_is_permanent_and_suppresses(smtp_server: Factory) -> None:
    recorder = SmtpRecorder(rcpt_replies=[("550 5.1.1 no such user", False)])
    server = smtp_server(recorder)
    with sender(server.url()) as smtp:
        with pytest.raises(DeliveryError) as err:
            smtp.send(make_email(1), now=NOW)
        assert (err.value.permanent, err.value.code, err.value.suppress) == (True, 550, True)
        smtp.send(make_email(2), now=NOW)
    assert [m.rcpt_tos for m in recorder.messages] == [["customer2@example.cn"]]
    assert recorder.connections == 1


@pytest.mark.parametrize(
    ("reply", "code"),
    [("554 5.7.1 rejected as spam", 554), ("552 5.3.4 message too big", 552)],
)
def test_content_refusals_at_data_do_not_suppress(
    smtp_server: Factory, reply: str, code: int
) -> None:
    recorder = SmtpRecorder(data_replies=[(reply, False)])
    server = smtp_server(recorder)
    with sender(server.url()) as smtp:
        with pytest.raises(DeliveryError) as err:
            smtp.send(make_email(1), now=NOW)
        assert (err.value.permanent, err.value.code, err.value.suppress) == (True, code, False)
        smtp.send(make_email(2), now=NOW)
    assert len(recorder.messages) == 1
    assert recorder.connections == 1


def test_421_then_a_drop_reconnects_on_the_next_send(smtp_server: Factory) -> None:
    recorder = SmtpRecorder(rcpt_replies=[("421 4.3.2 shutting down", True)])
    server = smtp_server(recorder)
    with sender(server.url()) as smtp:
        with pytest.raises(DeliveryError) as err:
            smtp.send(make_email(1), now=NOW)
        assert (err.value.permanent, err.value.code) == (False, 421)
        result = smtp.send(make_email(2), now=NOW)
        assert smtp.connections_opened == 2
    assert result.provider_id == "Q1"
    assert [m.rcpt_tos for m in recorder.messages] == [["customer2@example.cn"]]
    assert recorder.connections == 2


def test_a_drop_during_data_is_transient(smtp_server: Factory) -> None:
    recorder = SmtpRecorder(data_replies=[("451 4.3.0 local error", True)])
    server = smtp_server(recorder)
    with sender(server.url()) as smtp:
        with pytest.raises(DeliveryError) as err:
            smtp.send(make_email(1), now=NOW)
        assert (err.value.permanent, err.value.code) == (False, 451)
        smtp.send(make_email(2), now=NOW)
    assert len(recorder.messages) == 1
    assert recorder.connections == 2


def test_a_restarted_server_gets_the_next_message_exactly_once(smtp_server: Factory) -> None:
    recorder = SmtpRecorder()
    server = smtp_server(recorder)
    with sender(server.url()) as smtp:
        smtp.send(make_email(1), now=NOW)
        server.restart()  # the sender's connection is now stale
        result = smtp.send(make_email(2), now=NOW)
        assert smtp.connections_opened == 2
    assert result.provider_id == "Q2"
    assert [m.rcpt_tos for m in recorder.messages] == [
        ["customer1@example.cn"],
        ["customer2@example.cn"],
    ]


def test_an_idle_timeout_421_at_mail_from_reconnects_at_once(smtp_server: Factory) -> None:
    recorder = SmtpRecorder()
    server = smtp_server(recorder)
    with sender(server.url()) as smtp:
        smtp.send(make_email(1), now=NOW)
        # As Postfix does after its idle timeout: 421, then the connection closes.
        recorder.mail_replies.append(("421 4.4.2 Error: timeout exceeded", True))
        result = smtp.send(make_email(2), now=NOW)
        assert smtp.connections_opened == 2
    assert result.provider_id == "Q2"
    assert [m.rcpt_tos for m in recorder.messages] == [
        ["customer1@example.cn"],
        ["customer2@example.cn"],
    ]


def test_a_sender_refused_at_mail_from_is_permanent_not_suppressed(smtp_server: Factory) -> None:
    recorder = SmtpRecorder(mail_replies=[("553 5.7.1 sender not allowed", False)])
    server = smtp_server(recorder)
    with sender(server.url()) as smtp:
        with pytest.raises(DeliveryError) as err:
            smtp.send(make_email(1), now=NOW)
        assert (err.value.permanent, err.value.code, err.value.suppress) == (True, 553, False)
        smtp.send(make_email(2), now=NOW)
    assert len(recorder.messages) == 1
    assert recorder.connections == 1


def test_a_server_that_is_down_is_transient() -> None:
    with sender(f"smtp://127.0.0.1:{free_port()}") as smtp, pytest.raises(DeliveryError) as err:
        smtp.send(make_email(), now=NOW)
    assert (err.value.permanent, err.value.code) == (False, None)
    assert "connect" in str(err.value)


def test_a_server_that_went_away_for_good_fails_after_one_retry(smtp_server: Factory) -> None:
    server = smtp_server()
    with sender(server.url()) as smtp:
        smtp.send(make_email(1), now=NOW)
        server.stop()
        with pytest.raises(DeliveryError) as err:
            smtp.send(make_email(2), now=NOW)
        assert err.value.permanent is False
        assert smtp.connections_opened == 1  # the reconnect itself was refused
    assert len(server.handler.messages) == 1


def test_close_is_idempotent_and_the_sender_reopens(smtp_server: Factory) -> None:
    server = smtp_server()
    smtp = sender(server.url())
    smtp.send(make_email(1), now=NOW)
    smtp.close()
    smtp.close()
    smtp.send(make_email(2), now=NOW)
    smtp.close()
    assert server.handler.connections == 2
    assert len(server.handler.messages) == 2


@pytest.mark.parametrize(
    ("to", "spec"),
    [
        ("Jürgen Müller <jürgen@exämple.de>", "jürgen@exämple.de"),
        ("用户@例子.广告", "用户@例子.广告"),
        ("Kunde <kunde@bücher.example>", "kunde@bücher.example"),
    ],
)
def test_a_non_ascii_address_goes_with_smtputf8(smtp_server: Factory, to: str, spec: str) -> None:
    server = smtp_server(enable_SMTPUTF8=True)  # aiosmtpd's Controller's default, made plain
    with sender(server.url(query="starttls=never")) as smtp:
        smtp.send(make_email(1, to=to, reply_to="hilfe@bücher.example"), now=NOW)
        smtp.send(make_email(2), now=NOW)  # an ASCII one after it, on the same connection

    first, second = server.handler.messages
    assert first.rcpt_tos == [spec] and "SMTPUTF8" in first.mail_options
    assert first.mail_from == "shop@boutique.example"
    # RFC 6532: the header is UTF-8 (the stdlib's bytes parser would leave it undecoded).
    msg = email.message_from_string(first.content.decode("utf-8"), policy=email.policy.SMTPUTF8)
    assert msg["To"] == to
    assert msg["To"].addresses[0].addr_spec == spec
    assert msg["Reply-To"].addresses[0].addr_spec == "hilfe@bücher.example"
    assert msg["Subject"] == "您的购物车还在等您"
    assert msg["From"] == "Boutique <shop@boutique.example>"
    plain, _ = msg.iter_parts()
    assert plain.get_content().replace("\r\n", "\n") == make_email().text
    assert second.rcpt_tos == ["customer2@example.cn"] and "SMTPUTF8" not in second.mail_options
    assert second.content.isascii()
    assert server.handler.connections == 1


def test_without_smtputf8_a_non_ascii_address_fails_for_good_but_is_not_suppressed(
    smtp_server: Factory,
) -> None:
    server = smtp_server(enable_SMTPUTF8=False)  # a relay that cannot carry UTF-8 addresses
    with sender(server.url(query="starttls=never")) as smtp:
        with pytest.raises(DeliveryError) as err:
            smtp.send(make_email(1, to="jürgen@exämple.de"), now=NOW)
        assert (err.value.permanent, err.value.suppress) == (True, False)
        assert "SMTPUTF8" in str(err.value)
        assert "jürgen" not in str(err.value)  # the reason names no customer
        smtp.send(make_email(2), now=NOW)  # the connection is still good for the next one
    assert [m.rcpt_tos for m in server.handler.messages] == [["customer2@example.cn"]]
    assert server.handler.connections == 1
