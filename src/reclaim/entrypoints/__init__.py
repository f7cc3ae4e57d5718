"""Thin edges: parse, call a service, translate errors."""
