"""Reclaim: self-hosted recovery of abandoned checkouts, pending orders and failed payments."""

__version__ = "0.1.0"
