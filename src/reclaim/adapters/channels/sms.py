"""SMS through a Twilio-style HTTP API (:class:`TwilioSmsSender`) and phone-number parsing.

The provider is asked ``POST {base_url}/2010-04-01/Accounts/{sid}/Messages.json`` with the
form fields ``To``, ``From`` and ``Body`` and HTTP Basic auth ``sid:token``; it answers
``201`` with the message resource (``sid``, ``status``, ``num_segments``) or an error
``{"code": 21211, "message": …, "more_info": …, "status": 400}``.

Error mapping (``DeliveryError.code`` is Twilio's error code when the answer has one, else
the HTTP status):

- 429, 5xx, a timeout or a connection error → ``permanent=False``;
- 21211 (invalid To), 21614 (not a mobile number), 21610 (the recipient replied STOP)
  → ``permanent=True, suppress=True``;
- any other 4xx (20003 bad credentials, 21408 region not enabled, 21606 bad From, …) and
  an unexpected 1xx/3xx → ``permanent=True, suppress=False``.
"""

from __future__ import annotations

import re
from datetime import datetime
from types import TracebackType
from urllib.parse import quote

import httpx
import orjson
import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from reclaim.domain.messages import OutgoingSms, SendResult
from reclaim.domain.sms import count_segments
from reclaim.errors import DeliveryError, InvalidInput

SUPPRESS_CODES = {
    21211: "the To number is not a valid phone number",
    21614: "the To number is not a mobile number",
    21610: "the recipient has unsubscribed (replied STOP)",
}
_MAX_ERROR_BODY = 64 * 1024
_PARSE_PROBLEMS = {
    NumberParseException.INVALID_COUNTRY_CODE: "has no valid country code (give +CC or a region)",
    NumberParseException.NOT_A_NUMBER: "is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "is too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "is too short",
    NumberParseException.TOO_LONG: "is too long",
}
_MOBILE_TYPES = frozenset([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE])


def normalize_e164(raw: str, *, default_region: str | None) -> str:
    """``raw`` as an E.164 number (``+4915123456789``), read in ``default_region`` (ISO
    3166-1 alpha-2) when it has no ``+`` country code.

    Raises ``InvalidInput(field="phone")`` saying whether the text is not a number, lacks
    a country code, is too short or long, or is not a valid number for its region.
    """
    parsed = _parse(raw, default_region)
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def is_mobile(raw: str, *, default_region: str | None = None) -> bool:
    """Whether the number can be a mobile one (where a region does not tell fixed lines and
    mobiles apart, as in the US, the answer is ``True``). Raises like :func:`normalize_e164`."""
    return phonenumbers.number_type(_parse(raw, default_region)) in _MOBILE_TYPES


def _parse(raw: str, default_region: str | None) -> phonenumbers.PhoneNumber:
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("the phone number is empty", field="phone")
    region = default_region.upper() if default_region else None
    try:
        parsed = phonenumbers.parse(raw, region)
    except NumberParseException as exc:
        problem = _PARSE_PROBLEMS.get(exc.error_type, "cannot be read")
        raise InvalidInput(f"the phone number {raw!r} {problem}", field="phone") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(
            f"the phone number {raw!r} is not a valid number for its region "
            f"(+{parsed.country_code})",
            field="phone",
        )
    return parsed


class TwilioSmsSender:
    """Sends :class:`OutgoingSms` through one reused ``httpx.Client`` (see the module doc).

    ``sender`` is the default ``From`` (a number or an alphanumeric sender id);
    ``OutgoingSms.sender`` overrides it. An instance may be shared by threads (httpx's
    client is thread-safe).
    """

    def __init__(
        self,
        *,
        base_url: str,
        account_sid: str,
        auth_token: str,
        sender: str,
        timeout: float = 15.0,
    ) -> None:
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", base_url or ""):
            raise InvalidInput(f"the SMS API URL {base_url!r} is not an http(s) URL", field="sms")
        if not account_sid or not auth_token:
            raise InvalidInput("the SMS account sid and auth token are required", field="sms")
        if not sender:
            raise InvalidInput("the SMS sender (From) is required", field="sms")
        self.sender = sender
        self._path = f"/2010-04-01/Accounts/{quote(account_sid, safe='')}/Messages.json"
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=(account_sid, auth_token),
            timeout=timeout,
            headers={"Accept": "application/json"},
        )

    def __enter__(self) -> TwilioSmsSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send(self, sms: OutgoingSms, *, now: datetime | None = None) -> SendResult:
        """Send one SMS; ``segments`` is the provider's count, else ours. ``now`` is accepted
        for a uniform channel port and not used (the provider stamps its own time)."""
        if not sms.body.strip():
            raise InvalidInput("the SMS body is empty", field="body")
        cost = count_segments(sms.body)
        form = {"To": sms.to, "From": sms.sender or self.sender, "Body": sms.body}
        try:
            response = self._client.post(self._path, data=form)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"SMS API: {type(exc).__name__}: {exc}", permanent=False) from exc
        if response.status_code not in (200, 201):
            raise twilio_error(response.status_code, response.content[:_MAX_ERROR_BODY])
        answer = _json_object(response.content)
        sid = answer.get("sid")
        segments = _int(answer.get("num_segments"))
        return SendResult(
            provider_id=sid if isinstance(sid, str) else None,
            segments=segments if segments is not None else cost.segments,
            detail={
                "status": answer.get("status"),
                "encoding": cost.encoding,
                "units": cost.units,
            },
        )

    def close(self) -> None:
        self._client.close()


def twilio_error(status: int, body: bytes) -> DeliveryError:
    """The :class:`DeliveryError` for a non-2xx answer (the error JSON, if any, in ``body``)."""
    answer = _json_object(body)
    code = _int(answer.get("code"))
    text = answer.get("message")
    message = f"SMS API: HTTP {status}"
    if code is not None:
        message += f", error {code}"
    if isinstance(text, str) and text:
        message += f": {' '.join(text.split())[:300]}"
    if status == 429 or status >= 500:
        return DeliveryError(message, permanent=False, code=code or status)
    return DeliveryError(
        message, permanent=True, code=code or status, suppress=code in SUPPRESS_CODES
    )


def _json_object(body: bytes) -> dict[str, object]:
    try:
        value = orjson.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
