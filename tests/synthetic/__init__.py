"""Tests of the synthetic data generator (connectors/synthetic)."""
