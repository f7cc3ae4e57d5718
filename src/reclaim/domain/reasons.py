"""Why a payment failed, classified from the platform's decline / error code (SPEC S2)."""

from __future__ import annotations

from enum import StrEnum


class FailureReason(StrEnum):
    INSUFFICIENT_FUNDS = "insufficient_funds"
    GENERIC_DECLINE = "generic_decline"
    CARD_INVALID = "expired_or_invalid_card"
    AUTHENTICATION = "authentication_failed"
    FRAUD = "suspected_fraud"
    PROCESSING_ERROR = "processing_error"
    UNSUPPORTED = "unsupported_method_or_currency"


# Stripe's decline codes and error codes, which most gateways mirror.
_CODES: dict[str, FailureReason] = {}
for _reason, _codes in {
    FailureReason.INSUFFICIENT_FUNDS: (
        "insufficient_funds card_velocity_exceeded withdrawal_count_limit_exceeded approve_with_id"
    ),
    FailureReason.GENERIC_DECLINE: (
        "generic_decline do_not_honor do_not_try_again card_declined no_action_taken "
        "not_permitted revocation_of_all_authorizations revocation_of_authorization "
        "service_not_allowed stop_payment_order call_issuer new_account_information_available "
        "restricted_card"
    ),
    FailureReason.CARD_INVALID: (
        "expired_card incorrect_number invalid_number invalid_expiry_month invalid_expiry_year "
        "incorrect_cvc invalid_cvc incorrect_zip invalid_account card_not_activated "
        "account_closed invalid_card"
    ),
    FailureReason.AUTHENTICATION: (
        "authentication_required payment_intent_authentication_failure "
        "authentication_not_handled offline_pin_required online_or_offline_pin_required "
        "incorrect_pin invalid_pin pin_try_exceeded three_d_secure_failed 3ds_failed"
    ),
    FailureReason.FRAUD: (
        "fraudulent stolen_card lost_card pickup_card merchant_blacklist security_violation "
        "highest_risk_level elevated_risk_level"
    ),
    FailureReason.PROCESSING_ERROR: (
        "processing_error try_again_later issuer_not_available reenter_transaction "
        "duplicate_transaction api_connection_error rate_limit approve_with_id_retry"
    ),
    FailureReason.UNSUPPORTED: (
        "card_not_supported currency_not_supported transaction_not_allowed "
        "payment_method_unactivated payment_method_not_available invalid_amount "
        "testmode_decline payment_method_unsupported_type"
    ),
}.items():
    for _code in _codes.split():
        _CODES[_code] = _reason


def classify_failure(decline_code: str | None, failure_code: str | None) -> FailureReason:
    """The reason for a failed attempt; the decline code is the more specific signal.

    Unknown codes count as a generic decline: the customer's money did not move and the
    platform did not say why.
    """
    for code in (decline_code, failure_code):
        if code:
            reason = _CODES.get(code.strip().lower())
            if reason is not None:
                return reason
    return FailureReason.GENERIC_DECLINE


class OfflineMethod(StrEnum):
    """A way of paying that waits on the customer doing something outside the checkout, so a
    reminder must say what (SPEC S2: a pending order's reason)."""

    BANK_TRANSFER = "bank_transfer"
    CASH_ON_DELIVERY = "cash_on_delivery"
    CHEQUE = "cheque"


# The platforms' ids and usual names of offline methods, lower-case, "_" and "-" as spaces:
# WooCommerce's core gateways (bacs, cheque, cod) and their titles, Shopify's manual payment
# methods ("Bank Deposit", "Cash on Delivery (COD)", "Money Order"), Stripe's bank transfers
# (customer_balance), and the same words in the languages Reclaim writes in.
_OFFLINE_NAMES: dict[str, OfflineMethod] = {}
for _method, _names in {
    OfflineMethod.BANK_TRANSFER: (
        "bacs|bank transfer|direct bank transfer|bank deposit|wire transfer|wire|"
        "banktransfer|bank wire|sepa credit transfer|customer balance|prepayment|vorkasse|"
        "überweisung|banküberweisung|direkte banküberweisung|virement|virement bancaire|"
        "transferencia|transferencia bancaria|bonifico|bonifico bancario|銀行振込|银行转账"
    ),
    OfflineMethod.CASH_ON_DELIVERY: (
        "cod|cash on delivery|cash on delivery cod|nachnahme|contre remboursement|"
        "paiement à la livraison|contra reembolso|pago contra reembolso|代金引換|代引き|货到付款"
    ),
    OfflineMethod.CHEQUE: "cheque|check|check payments|cheque payments|money order|scheck|chèque",
}.items():
    for _name in _names.split("|"):
        _OFFLINE_NAMES[_name] = _method


def _plain_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else " " for ch in name.lower())
    return " ".join(cleaned.split())


def offline_method(*names: str | None) -> OfflineMethod | None:
    """The offline method named by any of ``names`` (a platform's method id, its title, or a
    comma-separated list of gateway names as Shopify gives them); ``None`` for a card, a
    wallet, or a name that says nothing Reclaim knows."""
    for name in names:
        for part in (name or "").split(","):
            found = _OFFLINE_NAMES.get(_plain_name(part))
            if found is not None:
                return found
    return None
