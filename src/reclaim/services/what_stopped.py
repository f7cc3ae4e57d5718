"""The customer's own answer to "What stopped you?" (issue 15): the question the first email of
an abandoned checkout asks, with one signed link per reason, and what a click on one of them
and the page's free text record.

A link (``/a/<token>``, :meth:`Links.answer`) names its message, the message's case and one
reason, signed with the key of every tracked link: it cannot be forged, altered to another
reason, or replayed to another case (the case it names must be its message's). The answer is
a ``case_reasons`` row of source ``customer``:

* a click makes its reason the customer's choice: a later click of another reason replaces
  it (the customer changed their mind, or misclicked), the same reason again changes nothing;
* the page's free text ("anything else?") is the customer's ``other`` answer, with the text as
  its detail: kept beside their choice, replaced by a later text. A click on "something
  else" keeps a text already written.

Answering is not a click and not a purchase intent: the message's click count and the flow are
left as they were. It does prove the message was seen, so an open is recorded as for a click.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from reclaim.domain.abandonment import Reason
from reclaim.domain.cases import CaseKind, CaseReason, ReasonSource
from reclaim.domain.messages import AnswerLink, Channel
from reclaim.domain.steps import MessageRecord
from reclaim.errors import AuthError, NotFound
from reclaim.services.ports import UnitOfWork
from reclaim.services.tracking import ANSWER, ANSWER_FORM, Links

# The answers the question offers, in the order shown: Baymard's first two categories, the
# payment methods the seeds name, and the two that no data can tell.
ASKED: tuple[Reason, ...] = (
    Reason.EXTRA_COSTS,
    Reason.DELIVERY_TOO_SLOW,
    Reason.PAYMENT_METHODS,
    Reason.JUST_BROWSING,
    Reason.OTHER,
)
MAX_TEXT = 500  # characters of free text kept
FORM_LIFETIME = timedelta(days=1)  # how long the page's form can be sent


def asks(kind: str, position: int, channel: Channel) -> bool:
    """Does this message ask "What stopped you?": the first email of an abandoned checkout.

    Not an SMS (no room, and every link costs), and not a pending order's or a failed
    payment's reminders: those are service messages about an order the customer placed, and
    a survey in them would change what they are."""
    return kind == CaseKind.ABANDONED_CHECKOUT and position == 0 and channel is Channel.EMAIL


def answer_links(links: Links, message_id: int, case_id: int) -> tuple[AnswerLink, ...]:
    """One signed link per answer, in :data:`ASKED`'s order."""
    return tuple(
        AnswerLink(reason=str(r), url=links.answer(message_id, case_id, str(r))) for r in ASKED
    )


@dataclass(frozen=True, slots=True)
class AnswerPage:
    """What the thank-you page shows: in the message's language, with its form's token."""

    store_name: str
    reason: str
    form: str  # the signed token of the free-text form
    text: str | None = None  # the customer's free text so far (shown escaped)
    locale: str = "en"


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(raw: str) -> str:
    """The free text as kept: line breaks as ``\\n``, tabs as spaces, no other control
    characters (nor the invisible direction overrides that could disguise it), trimmed, at
    most :data:`MAX_TEXT` characters."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    kept = "".join(
        ch
        for ch in text
        if ch == "\n" or (unicodedata.category(ch) not in ("Cc", "Cs") and ch not in _BIDI_CONTROLS)
    )
    return kept.strip()[:MAX_TEXT].strip()


def _read(uow: UnitOfWork, links: Links, token: str) -> tuple[MessageRecord, int, str]:
    """The message, case id and reason of an answer link; ``AuthError`` when it is forged,
    made for another purpose, or names a case that is not its message's."""
    payload = links.read(token, ANSWER)
    case_id, reason = payload.get("c"), payload.get("r")
    if not isinstance(case_id, int) or reason not in ASKED:
        raise AuthError("link is invalid")
    message = uow.messages.get(int(payload["m"]))
    if message is None:
        raise NotFound("this link's message no longer exists")
    if message.case_id != case_id:
        raise AuthError("link is invalid")
    if uow.cases.get_many([case_id], lock=True).get(case_id) is None:
        raise NotFound("this link's case no longer exists")
    return message, case_id, str(reason)


def _page(
    uow: UnitOfWork, links: Links, message: MessageRecord, reason: str, now: datetime
) -> AnswerPage:
    assert message.id is not None
    store = uow.stores.get(message.store_id)
    text = next(
        (
            r.detail
            for r in uow.cases.reasons(message.case_id)
            if r.source == ReasonSource.CUSTOMER and r.reason == Reason.OTHER
        ),
        None,
    )
    return AnswerPage(
        store_name=store.name if store else "",
        reason=reason,
        form=links.answer_form(message.id, message.case_id, expires=now + FORM_LIFETIME),
        text=text,
        locale=message.locale or "en",
    )


def record_answer(*, uow: UnitOfWork, links: Links, token: str, now: datetime) -> AnswerPage:
    """A click on an answer link: its reason becomes the customer's choice (idempotent)."""
    with uow:
        message, case_id, reason = _read(uow, links, token)
        assert message.id is not None
        have = {
            r.reason: r for r in uow.cases.reasons(case_id) if r.source == ReasonSource.CUSTOMER
        }
        written = have.get(Reason.OTHER)
        keep_text = written is not None and written.detail is not None
        drop = [str(r) for r in ASKED if r != reason and not (r == Reason.OTHER and keep_text)]
        uow.cases.answer(
            CaseReason(case_id, message.store_id, reason, ReasonSource.CUSTOMER, at=now),
            drop=drop,
        )
        message.opened_at = message.opened_at or now  # seen; not a click (see above)
        uow.messages.add_event(
            message.id, store_id=message.store_id, type="answer", at=now, data={"reason": reason}
        )
        page = _page(uow, links, message, reason, now)
        uow.commit()
    return page


def record_text(
    *, uow: UnitOfWork, links: Links, token: str, form: str, text: str, now: datetime
) -> AnswerPage:
    """The page's free text, as the customer's ``other`` answer. ``form`` must be the form
    token the page gave for the same message and case, not expired (``AuthError`` else).
    Empty text records nothing."""
    with uow:
        message, case_id, reason = _read(uow, links, token)
        assert message.id is not None
        made = links.read(form, ANSWER_FORM, now=now)
        if made.get("m") != message.id or made.get("c") != case_id:
            raise AuthError("link is invalid")
        words = clean_text(text)
        if words:
            uow.cases.answer(
                CaseReason(
                    case_id, message.store_id, Reason.OTHER, ReasonSource.CUSTOMER, now, words
                )
            )
            uow.messages.add_event(
                message.id,
                store_id=message.store_id,
                type="answer",
                at=now,
                data={"reason": str(Reason.OTHER), "text": True},
            )
        page = _page(uow, links, message, reason, now)
        uow.commit()
    return page
