"""The transactional store: the registry, submissions and their findings (SQLAlchemy + Alembic),
and the append-only blob store that keeps every filed package byte for byte.

Import from the submodules (``store.db``, ``store.models``, ``store.repository``, ``store.blobs``);
this package's ``__init__`` stays empty so that importing ``store.blobs`` does not pull in SQLAlchemy.
"""
