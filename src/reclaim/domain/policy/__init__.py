"""Who may be messaged, and when (SPEC S5): consent, quiet hours, frequency cap, complaint
rate, suppression keys and retry backoff.

Every function is pure: the flow engine passes the instant it is deciding for and gets an
instant or a decision back. Nothing here reads the clock or a database.

Modules: :mod:`~reclaim.domain.policy.consent` (who may get which message, by country),
:mod:`~reclaim.domain.policy.timing` (quiet hours and the frequency cap),
:mod:`~reclaim.domain.policy.complaints` (the complaint rate),
:mod:`~reclaim.domain.policy.suppression` (suppression keys) and
:mod:`~reclaim.domain.policy.retries` (retry backoff).
"""

from reclaim.domain.policy.complaints import ALERT_RATE, MIN_SENT, PAUSE_RATE, complaint_state
from reclaim.domain.policy.consent import (
    EEA_COUNTRIES,
    EU_COUNTRIES,
    OPT_IN_REGIMES,
    ConsentDecision,
    consent_decision,
    normalise_country,
)
from reclaim.domain.policy.retries import (
    RETRY_FIRST,
    RETRY_GIVE_UP,
    RETRY_MAX,
    retry_at,
    retry_delay,
)
from reclaim.domain.policy.suppression import normalise_address, suppression_key
from reclaim.domain.policy.timing import (
    DEFAULT_QUIET_HOURS,
    FREQUENCY_CAP,
    QuietHours,
    earliest_send,
    release_after_cap,
    release_after_quiet_hours,
    zone,
)

__all__ = [
    "ALERT_RATE",
    "DEFAULT_QUIET_HOURS",
    "EEA_COUNTRIES",
    "EU_COUNTRIES",
    "FREQUENCY_CAP",
    "MIN_SENT",
    "OPT_IN_REGIMES",
    "PAUSE_RATE",
    "RETRY_FIRST",
    "RETRY_GIVE_UP",
    "RETRY_MAX",
    "ConsentDecision",
    "QuietHours",
    "complaint_state",
    "consent_decision",
    "earliest_send",
    "normalise_address",
    "normalise_country",
    "release_after_cap",
    "release_after_quiet_hours",
    "retry_at",
    "retry_delay",
    "suppression_key",
    "zone",
]
