"""Suppression keys (SPEC S5, S13): the normalised form of an address and the hash a
suppression entry is kept under.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from reclaim.domain.messages import Channel
from reclaim.errors import InvalidInput

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


def normalise_address(channel: Channel, address: str) -> str:
    """The form of ``address`` a suppression entry is keyed on.

    Email: Unicode NFC, surrounding whitespace stripped, lower-cased (local parts are
    case-sensitive in RFC 5321 but no mailbox provider treats them so). Gmail's dots and
    ``+tags`` are deliberately not removed: ``j.doe@`` and ``jdoe@`` are one mailbox at Gmail
    but two people at most other providers, and merging them would suppress someone who never
    asked. Phone (SMS): E.164 as given, whitespace stripped (numbers are normalised to E.164
    where they enter). Webhook: the target as given, stripped. Raises :class:`InvalidInput`
    for an email without ``@`` or a phone that is not E.164.
    """
    value = unicodedata.normalize("NFC", address).strip()
    if channel == Channel.EMAIL:
        value = value.lower()
        if "@" not in value.strip("@"):
            raise InvalidInput("not an email address", field="address")
    elif channel == Channel.SMS:
        if not _E164.fullmatch(value):
            raise InvalidInput("phone numbers must be E.164 (+4915123456789)", field="address")
    elif not value:
        raise InvalidInput("address must not be empty", field="address")
    return value


def suppression_key(channel: Channel, address: str) -> str:
    """SHA-256 (hex) of :func:`normalise_address`: what the suppression list stores, so an
    entry survives the customer's erasure (SPEC S13) without keeping the address.

    The plain hash of the lower-cased email or E.164 number is the form ad platforms and ESPs
    exchange hashed suppression lists in, so imported lists match without conversion.
    """
    return hashlib.sha256(normalise_address(channel, address).encode("utf-8")).hexdigest()
