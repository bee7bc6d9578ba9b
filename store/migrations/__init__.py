"""Alembic environment for the store (a package so that it is installed with ``store``)."""
