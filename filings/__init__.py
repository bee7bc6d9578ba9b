"""The application: what happens to a filing, from the bytes received to the regulators' receipts.

Between the outer doors (``pipelines``: Dagster and the CLI; ``web``: the portal) and the parts they
use (``connectors``: file and wire formats, HTTP; ``store``: the database and blobs). Every door calls
these functions, so a filing takes one path whoever brought it:

- ``intake``: keep the bytes, record the submission (next sequence number);
- ``validation``: the one ``validate_submission`` (rule engine, BIZ-010 baseline, findings, state);
- ``results``: the typed result of a validated filing, archived once and handed on;
- ``confirmation``, ``record`` (the filing of record), ``late`` (the deadline calendar);
- ``datasets``: a filing's published datasets; ``publication``: feeds, reports, delivery, feedback;
- ``lifecycle``: which submissions still need work, planned from the store's state.

No Dagster and no HTTP framework here; like ``store.repository`` most functions work inside the
caller's transaction.
"""
