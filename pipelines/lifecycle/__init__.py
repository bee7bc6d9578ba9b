"""Turning the store's submissions into runs: the intake sensor and the guarantor partitions."""
