"""Intake, publishing and the reference receivers: the edges where bytes come in and go out."""
