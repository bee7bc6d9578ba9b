"""Danbao's outer layer: the Dagster definitions and the `danbao` command line."""
