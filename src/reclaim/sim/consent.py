"""Who may get marketing email, as the simulator understands the law (SPEC S5), independently of
Reclaim's own policy code: the end-to-end check "no customer without consent got a marketing
message" compares Reclaim's sending with this.

What the customer said is what their platform sends: Shopify's
``email_marketing_consent`` (``not_subscribed``: never asked), Stripe Checkout's
``consent.promotions`` (``opt_out``: its opt-in box left unticked, never asked too), the custom
site's ``accepts_marketing``. WooCommerce's order webhooks carry no consent at all, so its
customers were never asked (``None``). Without an opt-in, marketing email is allowed only where
the law is opt-out (the United States' CAN-SPAM Act, Mexico's consumer protection law);
transactional notices about an order or payment the customer made need no consent anywhere.
"""

from __future__ import annotations

from reclaim.sim.people import Actor

#: Countries of the simulation whose law wants an opt-in before marketing email:
#: the EU (ePrivacy Directive 2002/58/EC art. 13), the UK (PECR 2003 reg. 22), Canada (CASL
#: s. 6), Australia (Spam Act 2003 s. 16), Japan (Act No. 26 of 2002, art. 3), China (Internet
#: E-mail Services Measures 2006, art. 13) and Brazil (CAPEM self-regulation, LGPD).
OPT_IN_COUNTRIES = frozenset({"DE", "FR", "ES", "IT", "NL", "GB", "CA", "AU", "JP", "CN", "BR"})
NO_CONSENT_FIELD = frozenset({"woocommerce"})  # platforms whose webhooks say nothing of it


#: Platforms whose checkouts tell the customer's country only with an address, from the shipping
#: step on: Shopify's shipping / billing address (its ``customer`` carries none), WooCommerce's
#: billing country. The custom site's events and Stripe Checkout's ``customer_details`` carry
#: it with the contact.
COUNTRY_WITH_ADDRESS = frozenset({"shopify", "woocommerce"})
ADDRESS_STAGES = frozenset({"shipping", "payment"})  # checkout steps that give an address


def country_told(platform: str, stage: str | None) -> bool:
    """Does a checkout of ``platform`` that reached ``stage`` (None: no checkout known) tell
    Reclaim the customer's country?"""
    return platform not in COUNTRY_WITH_ADDRESS or stage in ADDRESS_STAGES


# Platforms whose "no" is "never opted in" (Shopify's ``not_subscribed``, Stripe Checkout's
# unticked promotions box, ``opt_out``), not a refusal.
NEVER_ASKED_WHEN_NOT_IN = frozenset({"shopify", "stripe"})


def stated_consent(actor: Actor, platform: str) -> bool | None:
    """What Reclaim is told: True (opted in), False (declined), None (never asked).

    Shopify says ``not_subscribed`` of a customer who never subscribed, Stripe ``opt_out`` of
    one who left the box unticked: not a refusal, so the law of their country decides (US:
    allowed)."""
    if platform in NO_CONSENT_FIELD:
        return None
    if platform in NEVER_ASKED_WHEN_NOT_IN and not actor.accepts_email:
        return None
    return actor.accepts_email


def may_market(actor: Actor, platform: str, *, country_known: bool = True) -> bool:
    """May a marketing email (an abandoned-checkout reminder) go to this customer?

    ``country_known``: did the platform say where the customer is (:func:`country_told`)?
    Without consent and without a country, the strictest reading (an opt-in law) applies:
    Shopify and WooCommerce send the country only once the shopper has reached the shipping
    step.
    """
    said = stated_consent(actor, platform)
    if said is not None:
        return said
    return country_known and actor.country.code not in OPT_IN_COUNTRIES
