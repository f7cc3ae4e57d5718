"""Pure rules of recovery: stdlib only, time passed in."""
