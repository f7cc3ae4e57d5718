"""The HTTP API: platform webhooks, the generic events API, cases, coupons, stock, holds,
logistics, health, and the public tracking pages; one router per resource (``app.py``
assembles them).

Thin: read the request, call one service, translate its errors. Webhook handlers answer
after the raw delivery is stored; processing happens on the worker.
"""

from reclaim.entrypoints.api.app import create_app

__all__ = ["create_app"]
