"""Intake: how packages get in (landing folder, pull, portal) and become submissions and filing runs."""
