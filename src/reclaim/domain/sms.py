"""How many SMS segments a text costs (3GPP TS 23.038 alphabets, TS 23.040 concatenation).

A text is sent in GSM-7 when every character is in the GSM 03.38 default alphabet or its
extension table, and in UCS-2 otherwise (one non-GSM character switches the whole text).

- GSM-7: a basic character costs one septet; an extension character (``^{}\\[~]|€`` and form
  feed) costs two (an escape, then the character). One segment holds 160 septets; a
  concatenated message holds 153 per segment (the user data header takes the rest).
- UCS-2: every UTF-16 code unit costs one unit, so a character outside the Basic Multilingual
  Plane (most emoji) costs two. One segment holds 70 units, concatenated ones 67 each.

Concatenated segments are packed greedily, and neither an escape pair nor a surrogate pair
is ever split across two segments (phones would show garbage), so a character that does not
fit whole starts the next segment: ``"a" * 152 + "€" + "a" * 152`` is 306 septets, exactly
two times 153, yet takes 3 segments because the ``€`` cannot straddle the first boundary.

The empty text counts as **one segment of zero units**: a message is always at least one
PDU, and that is what a provider would bill if it accepted it (senders refuse empty bodies).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet, in code order (0x1B, the escape, is left out on purpose: a
# literal ESC in a template is not a character the recipient can see).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# The extension table: each is sent as ESC + character, two septets.
_GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM_SINGLE = 160
GSM_CONCAT = 153
UCS2_SINGLE = 70
UCS2_CONCAT = 67


@dataclass(frozen=True, slots=True)
class SmsSegments:
    """The cost of one text: ``units`` are septets (GSM-7) or UTF-16 code units (UCS-2)."""

    encoding: Encoding
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """Whether ``text`` can be sent in the GSM-7 alphabet (basic or extension table)."""
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENSION for ch in text)


def count_segments(text: str) -> SmsSegments:
    """The encoding, unit count and number of segments ``text`` is sent as."""
    costs: list[int]
    if is_gsm7(text):
        encoding: Encoding = "GSM-7"
        costs = [2 if ch in _GSM_EXTENSION else 1 for ch in text]
        single, concat = GSM_SINGLE, GSM_CONCAT
    else:
        encoding = "UCS-2"
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        single, concat = UCS2_SINGLE, UCS2_CONCAT
    units = sum(costs)
    segments = 1 if units <= single else _pack(costs, concat)
    return SmsSegments(encoding=encoding, units=units, segments=segments)


def _pack(costs: Iterable[int], capacity: int) -> int:
    """Segments needed when no character (of cost 1 or 2) may straddle two segments."""
    segments, used = 1, 0
    for cost in costs:
        if used + cost > capacity:
            segments += 1
            used = 0
        used += cost
    return segments
