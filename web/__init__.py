"""Danbao's web portal: guarantors upload filings and confirm warnings; regulators read the published
datasets and a dashboard. A FastAPI app over the same store, rules and filing service as the pipeline
(docs/portal.md); ``danbao serve`` runs it."""
