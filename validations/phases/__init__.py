"""The phases of rules.md: each a function over parsed files that adds findings."""
