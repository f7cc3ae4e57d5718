"""build_mime with attachments (a scheduled report's PDF): ``multipart/mixed`` around the
text and HTML, each file base64, parsed back with the stdlib."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from reclaim.adapters.channels.mime import build_mime
from reclaim.domain.messages import Attachment, OutgoingEmail
from reclaim.errors import InvalidInput

DATE = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
BASE = OutgoingEmail(
    to="owner@shop.example",
    from_address="Reclaim reports <shop@shop.example>",
    subject="Reclaim · 上海店：挽回报告（2026年11月）",
    text="挽回收入：¥1,234.00\n",
    html='<!DOCTYPE html><html lang="zh-Hans"><p>挽回报告</p></html>',
    message_id="<report.st_abc123.2026-11.0a1b2c3d4e5f@shop.example>",
    list_unsubscribe_url=None,
    attachments=(Attachment("reclaim-report-st_abc123-2026-11.pdf", "application/pdf", PDF),),
)


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.mark.parametrize("html", [BASE.html, ""], ids=["text and html", "text only"])
def test_the_files_follow_the_text_in_a_mixed_message(html: str) -> None:
    data = build_mime(replace(BASE, html=html), date=DATE)
    assert data.isascii() and b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    msg = parse(data)
    assert msg.get_content_type() == "multipart/mixed"
    assert all(not part.defects for part in msg.walk())
    types = [part.get_content_type() for part in msg.walk()]
    body = ["multipart/alternative", "text/plain", "text/html"] if html else ["text/plain"]
    assert types == ["multipart/mixed", *body, "application/pdf"]
    plain = msg.get_body(preferencelist=("plain",))
    assert plain is not None and plain.get_content() == BASE.text
    [pdf] = list(msg.iter_attachments())
    assert pdf.get_filename() == "reclaim-report-st_abc123-2026-11.pdf"
    assert pdf.get_content_disposition() == "attachment"
    assert pdf.get_content() == PDF
    assert msg["Subject"] == BASE.subject


def test_the_same_email_gives_the_same_bytes_and_another_file_another_boundary() -> None:
    assert build_mime(BASE, date=DATE) == build_mime(BASE, date=DATE)
    other = replace(BASE, attachments=(replace(BASE.attachments[0], data=PDF + b" "),))
    assert (
        parse(build_mime(BASE, date=DATE)).get_boundary()
        != parse(build_mime(other, date=DATE)).get_boundary()
    )


def test_without_attachments_nothing_changes() -> None:
    msg = parse(build_mime(replace(BASE, attachments=()), date=DATE))
    assert msg.get_content_type() == "multipart/alternative"


@pytest.mark.parametrize(
    "attachment",
    [
        Attachment('bad"name.pdf', "application/pdf", PDF),
        Attachment("report\r\nX-Evil: 1.pdf", "application/pdf", PDF),
        Attachment("报告.pdf", "application/pdf", PDF),
        Attachment("report.pdf", "application/pdf\r\nX-Evil: 1", PDF),
        Attachment("report.pdf", "pdf", PDF),
    ],
)
def test_a_name_or_type_that_could_break_the_header_is_refused(attachment: Attachment) -> None:
    with pytest.raises(InvalidInput) as exc:
        build_mime(replace(BASE, attachments=(attachment,)), date=DATE)
    assert exc.value.field == "attachment"
