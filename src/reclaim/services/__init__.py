"""Use cases: one keyword-only function each, with an explicit transaction."""
