"""The one exception tree of Reclaim.

Errors become HTTP status codes or exit codes only in ``entrypoints``; everything below
raises one of these.
"""

from __future__ import annotations


class ReclaimError(Exception):
    """Root of every error Reclaim raises on purpose."""


class ConfigError(ReclaimError):
    """A setting is missing or malformed; the message names the variable."""


class DatabaseUnavailable(ReclaimError):
    """The database cannot be used as it is: not reachable, missing, not initialised or at
    an older schema revision. The message names the problem and the fix, never a password."""


class DatabaseBusy(DatabaseUnavailable):
    """The database is away for the moment: the server restarting or out of reach, or SQLite
    locked by another process. The same work tried again a little later may succeed."""


class DatabaseFull(DatabaseUnavailable):
    """The disk holding the database is full (or SQLite reached its size limit): nothing more
    can be written until an operator makes room."""


class NotFound(ReclaimError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class InvalidInput(ReclaimError):
    """Input failed validation; ``field`` names where, the message says what."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SignatureError(ReclaimError):
    """A webhook's signature is missing, malformed, stale or wrong."""


class AuthError(ReclaimError):
    """Missing or wrong credentials."""


class Forbidden(ReclaimError):
    """Valid credentials that do not allow this (an API key without the needed scope)."""


class MalformedPayload(InvalidInput):
    """A delivery's body cannot be understood; kept in the dead-letter list."""


class Conflict(ReclaimError):
    """The operation conflicts with the current state (e.g. a duplicate name)."""


class DeliveryError(ReclaimError):
    """Sending a message failed. ``permanent`` failures are never retried.

    ``code`` is the provider's answer where there is one (an SMTP reply code such as 451 or
    550, an HTTP status); ``suppress`` says the address itself is bad (hard bounce, invalid
    number) and must be put on the suppression list, as opposed to a permanent failure of
    this one message (a template the provider refuses, a misconfigured channel).
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: int | None = None,
        suppress: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.suppress = suppress


class CouponPushError(DeliveryError):
    """The message's coupon could not be created on the store's platform, so the message was
    not sent (a code the checkout would refuse); transient ones are retried like the send."""
