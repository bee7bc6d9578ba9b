"""Publication to the regulators as the application runs it: queue what an accepted filing owes
(``enqueue``), deliver it exactly once (``delivery``), take in the PBOC's feedback (``feedback``), and a
whole period for the CLI and Dagster (``service``). The formats and the HTTP exchange are
``connectors.publish``'s.
"""
