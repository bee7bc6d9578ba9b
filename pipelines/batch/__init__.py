"""Batched filing runs: many submissions in one run, each still recorded against its own filing
partition (materializations and phase checks per period × guarantor), so Dagster's per-run cost is
shared by the batch."""
