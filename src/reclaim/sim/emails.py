"""What a simulated customer sees in an email Reclaim sent: who it is for, the links in it
(open pixel, restore link, product links, unsubscribe), the coupon code, the items it names.

Parsed from the raw message the simulator's SMTP server (:mod:`reclaim.sim.mailbox`) received,
the way a mail client would: the text and HTML parts, ``List-Unsubscribe``, the headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage

from reclaim.sim.mailbox import Received

_URL = re.compile(r"https?://[^\s\"'<>]+")
# Reclaim's coupon codes: 10 characters of its unambiguous alphabet, grouped by four (or not:
# a Stripe store's promotion codes are letters and digits only). A reader takes the code the
# email highlights, else a grouped one in the text.
_C = "[2-9A-HJKMNP-Z]"
_COUPON = re.compile(rf"\b{_C}{{4}}-{_C}{{4}}-{_C}{{2}}\b")
_HIGHLIGHTED = re.compile(rf'class="coupon-code"[^>]*>\s*({_C}{{4}}-?{_C}{{4}}-?{_C}{{2}})\s*<')


@dataclass(frozen=True, slots=True)
class Letter:
    recipient: str  # lower-cased
    message_id: int  # Reclaim's (``X-Reclaim-Message``); 0 when absent
    header_id: str  # ``Message-ID``
    subject: str
    text: str
    html: str
    pixel: str | None
    restore: str | None
    unsubscribe: str | None
    one_click: bool  # ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058)
    products: tuple[str, ...]  # tracked product links
    coupon: str | None

    def names(self, name: str) -> bool:
        """Does the email mention this product name?"""
        return name in self.text


def _part(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    if part is None or not isinstance(part, EmailMessage):
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else ""


def read(received: Received) -> Letter:
    """The customer's view of one received message."""
    msg = received.parsed()
    text, html = _part(msg, "plain"), _part(msg, "html")
    urls = list(dict.fromkeys(_URL.findall(html) + _URL.findall(text)))
    unsubscribe = None
    for target in re.findall(r"<([^>]+)>", str(msg.get("List-Unsubscribe", ""))):
        if target.startswith("http"):
            unsubscribe = target
    if unsubscribe is None:
        unsubscribe = next((u for u in urls if "/u/" in u), None)
    coupon = _HIGHLIGHTED.search(html) or _COUPON.search(text)
    ident = str(msg.get("X-Reclaim-Message", "")).strip()
    return Letter(
        recipient=(received.recipients[0] if received.recipients else "").lower(),
        message_id=int(ident) if ident.isdigit() else 0,
        header_id=str(msg.get("Message-ID", "")),
        subject=str(msg.get("Subject", "")),
        text=text,
        html=html,
        pixel=next((u for u in urls if "/t/o/" in u), None),
        restore=next((u for u in urls if "/t/r/" in u), None),
        unsubscribe=unsubscribe,
        one_click=str(msg.get("List-Unsubscribe-Post", "")).strip() == "List-Unsubscribe=One-Click",
        products=tuple(u for u in urls if "/t/c/" in u),
        coupon=coupon.group(coupon.lastindex or 0) if coupon else None,
    )
