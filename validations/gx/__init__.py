"""The schema rules (SCH-001..007) as Great Expectations 1.x suites: the declarative contract a regulator
can read, generated from the template and checked against the engine.

Nothing here imports great_expectations at module level: it takes seconds to import, and the engine
and Dagster's code-location load never need it. Only ``runner.run_suite_with_gx`` imports it.
"""
