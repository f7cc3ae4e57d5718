"""Sending channels: email over SMTP, SMS over an HTTP provider, outgoing webhooks (SPEC S4).

Every sender answers :class:`reclaim.domain.messages.SendResult` or raises
:class:`reclaim.errors.DeliveryError`; input that can never be sent (a header with a line
break, a URL with credentials) raises :class:`reclaim.errors.InvalidInput` before any I/O.
"""
