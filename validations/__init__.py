"""The rule engine: rules, phases, findings. Knows nothing of Dagster, HTTP or the database."""
