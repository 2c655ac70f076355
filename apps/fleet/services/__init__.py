"""Writes of the serving fleet: one module per area."""
