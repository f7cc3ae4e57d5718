"""Adapters: everything that talks to the world outside the domain (platforms, DB, channels)."""
