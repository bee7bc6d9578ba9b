"""Publication to the regulators (outputs.md §3–5), as a library with no Dagster in it.

- ``pboc``: the credit-information feed — feed state, incremental diff, fixed-width files, feedback
  files (layout in docs/pboc-feed.md);
- ``cbrc``: the supervisory report and period summary as JSON, with their JSON Schemas in ``schemas/``
  (docs/cbrc-report.md);
- ``enqueue``: making deliveries due in the store's outbox, in the transaction that makes them due;
- ``sender``: delivering due items exactly once (signatures, idempotency keys, retries, receipts);
- ``feedback``: the PBOC feedback loop; ``service``: a period end to end, for the CLI and Dagster;
- ``signing``, ``endpoints``, ``inputs``: keys, URLs and what an accepted filing contributes.

Import the submodules; this ``__init__`` stays empty so that the receivers (``connectors.receivers``)
can use ``signing`` without loading the store.
"""
