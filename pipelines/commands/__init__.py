"""Subcommands of the `danbao` CLI, one module each."""
