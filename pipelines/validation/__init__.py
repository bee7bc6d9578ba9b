"""Validation: the rule engine's phases 1–3 per filing, the accepted filing, late filings per period."""
