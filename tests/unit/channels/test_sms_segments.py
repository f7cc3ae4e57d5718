"""reclaim.domain.sms.count_segments: GSM-7 / UCS-2 segment counting, exact values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reclaim.domain.sms import SmsSegments, count_segments, is_gsm7

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"
EMOJI = "😀"  # U+1F600: two UTF-16 code units


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsSegments("GSM-7", 0, 1)),
        ("Hello", SmsSegments("GSM-7", 5, 1)),
        ("a" * 160, SmsSegments("GSM-7", 160, 1)),
        ("a" * 161, SmsSegments("GSM-7", 161, 2)),
        ("a" * 306, SmsSegments("GSM-7", 306, 2)),
        ("a" * 307, SmsSegments("GSM-7", 307, 3)),
        ("a" * 459, SmsSegments("GSM-7", 459, 3)),
        ("a" * 460, SmsSegments("GSM-7", 460, 4)),
        # Extension characters cost two septets.
        ("€", SmsSegments("GSM-7", 2, 1)),
        ("a" * 158 + "€", SmsSegments("GSM-7", 160, 1)),
        ("a" * 159 + "€", SmsSegments("GSM-7", 161, 2)),
        ("{}" * 80, SmsSegments("GSM-7", 320, 3)),
        # An escape pair never straddles a segment boundary: 152 + [€] does not fit in 153.
        ("a" * 152 + "€" + "a" * 152, SmsSegments("GSM-7", 306, 3)),
        ("a" * 151 + "€" + "a" * 153, SmsSegments("GSM-7", 306, 2)),
        # UCS-2 as soon as one character is outside the GSM alphabet.
        ("ç", SmsSegments("UCS-2", 1, 1)),  # lower-case c cedilla is not GSM (Ç is)
        ("你" * 70, SmsSegments("UCS-2", 70, 1)),
        ("你" * 71, SmsSegments("UCS-2", 71, 2)),
        ("你" * 134, SmsSegments("UCS-2", 134, 2)),
        ("你" * 135, SmsSegments("UCS-2", 135, 3)),
        ("a" * 159 + "’", SmsSegments("UCS-2", 160, 3)),  # a curly apostrophe
        # An emoji is two units and a surrogate pair is never split.
        (EMOJI, SmsSegments("UCS-2", 2, 1)),
        (EMOJI * 35, SmsSegments("UCS-2", 70, 1)),
        ("a" * 69 + EMOJI, SmsSegments("UCS-2", 71, 2)),
        ("a" * 66 + EMOJI + "a" * 66, SmsSegments("UCS-2", 134, 3)),
        ("a" * 65 + EMOJI + "a" * 67, SmsSegments("UCS-2", 134, 2)),
    ],
)
def test_exact_counts(text: str, expected: SmsSegments) -> None:
    assert count_segments(text) == expected


def test_the_whole_gsm_alphabet_is_gsm7() -> None:
    assert len(set(GSM_BASIC)) == 127  # 128 codes less the escape
    assert count_segments(GSM_BASIC) == SmsSegments("GSM-7", 127, 1)
    assert count_segments(GSM_EXTENSION) == SmsSegments("GSM-7", 20, 1)
    assert not is_gsm7("\x1b")
    assert not is_gsm7("`")


gsm_text = st.text(alphabet=GSM_BASIC + GSM_EXTENSION, max_size=700)


@given(gsm_text, gsm_text)
def test_segments_never_decrease_when_gsm_text_grows(head: str, tail: str) -> None:
    assert count_segments(head).segments <= count_segments(head + tail).segments


@given(st.text(alphabet=GSM_BASIC, max_size=1000))
def test_basic_gsm_text_is_the_ceiling_of_153(text: str) -> None:
    units = len(text)
    expected = 1 if units <= 160 else -(-units // 153)
    assert count_segments(text) == SmsSegments("GSM-7", units, expected)


@given(st.text(min_size=1, max_size=400).filter(lambda t: not is_gsm7(t)))
def test_ucs2_counts_utf16_units_and_packs_at_least_66_per_segment(text: str) -> None:
    counted = count_segments(text)
    units = len(text.encode("utf-16-le")) // 2
    assert (counted.encoding, counted.units) == ("UCS-2", units)
    if units <= 70:
        assert counted.segments == 1
    else:
        # 67 units per segment, less one where a surrogate pair had to move on.
        assert -(-units // 67) <= counted.segments <= -(-units // 66)
